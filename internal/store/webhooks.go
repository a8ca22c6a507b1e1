package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/webhook"
)

// WebhookInsert stores a new webhook with its headers as stored (w.Headers
// is not read) and its first signing secret.
func WebhookInsert(ctx context.Context, db dbutil.DB, w *webhook.Webhook, headers secretbox.Headers, secret WebhookSecret) error {
	_, err := db.Exec(ctx, `
WITH inserted AS (
    INSERT INTO /*schema*/sparrow_webhook (id, namespace, url, description, state, state_changed_at,
        headers, headers_key_id, headers_sealed, timeout_ms, max_attempts, created_at, updated_at,
        retry_schedule_ms, rate_limit_per_second)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $17, $18)
    RETURNING id
)
INSERT INTO /*schema*/sparrow_webhook_secret (webhook_id, id, secret, key_id, sealed, created_at, public_key)
SELECT id, $13, $14, $15, $16, $12, $19 FROM inserted`,
		w.ID, w.Namespace, w.URL, w.Description, w.State, w.StateChangedAt,
		emptyIfNil(headers.Plain), nullString(headers.KeyID), headers.Sealed, w.Timeout.Milliseconds(), w.MaxAttempts, w.CreatedAt,
		secret.ID, plainOrNull(secret), nullString(secret.KeyID), secret.Sealed, scheduleMS(w.RetrySchedule), w.RateLimitPerSecond,
		nullString(secret.PublicKey))
	return dbutil.Interpret("insert webhook", err)
}

const webhookColumns = `w.id, w.namespace, w.url, w.description, w.state, w.state_reason, w.state_changed_at,
    w.headers, w.timeout_ms, w.max_attempts, w.created_at, w.updated_at,
    ARRAY(SELECT s.event_name FROM /*schema*/sparrow_subscription s WHERE s.webhook_id = w.id ORDER BY s.event_name),
    w.retry_schedule_ms, w.rate_limit_per_second,
    (SELECT ws.public_key FROM /*schema*/sparrow_webhook_secret ws WHERE ws.webhook_id = w.id AND ws.expires_at IS NULL
     ORDER BY ws.created_at DESC, ws.id DESC LIMIT 1)`

func scanWebhook(row pgx.Row) (*webhook.Webhook, error) {
	var w webhook.Webhook
	var timeoutMS int64
	var schedule []int64
	var publicKey *string
	err := row.Scan(&w.ID, &w.Namespace, &w.URL, &w.Description, &w.State, &w.StateReason, &w.StateChangedAt,
		&w.Headers, &timeoutMS, &w.MaxAttempts, &w.CreatedAt, &w.UpdatedAt, &w.Events, &schedule, &w.RateLimitPerSecond, &publicKey)
	w.Timeout = time.Duration(timeoutMS) * time.Millisecond
	// The current secret's public key tells its scheme, without opening it.
	w.SignatureScheme = webhook.SchemeHMAC
	if publicKey != nil {
		w.SignatureScheme, w.PublicKey = webhook.SchemeEd25519, *publicKey
	}
	w.RetrySchedule = scheduleOf(schedule)
	// Nothing reads header values back through here: deliveries load their
	// own (DeliveryLoadWork).
	w.Headers = webhook.MaskHeaders(w.Headers)
	return &w, err
}

// WebhookGet returns the webhook id in namespace. With forUpdate it also locks the
// row until the transaction ends.
func WebhookGet(ctx context.Context, db dbutil.DB, namespace, id string, forUpdate bool) (*webhook.Webhook, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF w"
	}
	return scanOne(scanWebhook, "webhook", db.QueryRow(ctx, "SELECT "+webhookColumns+` FROM /*schema*/sparrow_webhook w
WHERE w.namespace = $1 AND w.id = $2 AND w.deleted_at IS NULL`+lock, namespace, id), "get webhook", id)
}

// WebhookListParams selects a page of a namespace's webhooks, newest first.
type WebhookListParams struct {
	Namespace string
	// Event, when set, keeps webhooks subscribed to that event type.
	Event string
	// ActiveOnly keeps webhooks in StateActive.
	ActiveOnly bool
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// WebhookList returns a page of webhooks and whether more follow.
func WebhookList(ctx context.Context, db dbutil.DB, p WebhookListParams) ([]webhook.Webhook, bool, error) {
	return collectPage(scanWebhook, p.Limit, "list webhooks")(db.Query(ctx, "SELECT "+webhookColumns+` FROM /*schema*/sparrow_webhook w
WHERE w.namespace = $1 AND w.deleted_at IS NULL
  AND ($2 = '' OR EXISTS (SELECT 1 FROM /*schema*/sparrow_subscription s WHERE s.webhook_id = w.id AND s.event_name = $2))
  AND (NOT $3 OR w.state = 'active')
  AND ($4 = '' OR w.id < $4)
ORDER BY w.id DESC LIMIT $5`, p.Namespace, p.Event, p.ActiveOnly, p.Before, p.Limit+1))
}

// WebhookUpdateParams lists the settings of a webhook to change; nil leaves one as it is.
type WebhookUpdateParams struct {
	URL         *string
	Description *string
	// Headers replace the webhook's headers, as stored (secretbox.SealHeaders).
	Headers     *secretbox.Headers
	Timeout     *time.Duration
	MaxAttempts *int
	// RetrySchedule replaces the schedule; an empty one restores the
	// engine's backoff.
	RetrySchedule      *[]time.Duration
	RateLimitPerSecond *int
}

// WebhookUpdate changes a webhook's settings and returns it as stored.
func WebhookUpdate(ctx context.Context, db dbutil.DB, namespace, id string, u WebhookUpdateParams, now time.Time) (*webhook.Webhook, error) {
	var headers map[string]string
	var headersKeyID *string
	var headersSealed []byte
	if u.Headers != nil {
		headers, headersKeyID, headersSealed = emptyIfNil(u.Headers.Plain), nullString(u.Headers.KeyID), u.Headers.Sealed
	}
	var timeoutMS *int64
	if u.Timeout != nil {
		ms := u.Timeout.Milliseconds()
		timeoutMS = &ms
	}
	return scanOne(scanWebhook, "webhook", db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_webhook w
SET url = coalesce($3, url), description = coalesce($4, description),
    headers = coalesce($5, headers),
    headers_key_id = CASE WHEN $5::jsonb IS NULL THEN headers_key_id ELSE $9 END,
    headers_sealed = CASE WHEN $5::jsonb IS NULL THEN headers_sealed ELSE $10 END,
    timeout_ms = coalesce($6, timeout_ms), max_attempts = coalesce($7, max_attempts), updated_at = $8,
    retry_schedule_ms = CASE WHEN $11 THEN $12 ELSE retry_schedule_ms END,
    rate_limit_per_second = coalesce($13, rate_limit_per_second)
WHERE w.namespace = $1 AND w.id = $2 AND w.deleted_at IS NULL
RETURNING `+webhookColumns, namespace, id, u.URL, u.Description, headers, timeoutMS, u.MaxAttempts, now,
		headersKeyID, headersSealed, u.RetrySchedule != nil, scheduleMS(deref0(u.RetrySchedule)), u.RateLimitPerSecond), "update webhook", id)
}

// scheduleMS is a retry schedule as stored: milliseconds, or NULL for none.
func scheduleMS(schedule []time.Duration) []int64 {
	if len(schedule) == 0 {
		return nil
	}
	ms := make([]int64, len(schedule))
	for i, d := range schedule {
		ms[i] = d.Milliseconds()
	}
	return ms
}

// scheduleOf reads a stored retry schedule.
func scheduleOf(ms []int64) []time.Duration {
	if len(ms) == 0 {
		return nil
	}
	schedule := make([]time.Duration, len(ms))
	for i, m := range ms {
		schedule[i] = time.Duration(m) * time.Millisecond
	}
	return schedule
}

func deref0[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// WebhookGetHeaders returns the headers of webhook id as stored.
func WebhookGetHeaders(ctx context.Context, db dbutil.DB, id string) (secretbox.Headers, error) {
	var h secretbox.Headers
	err := db.QueryRow(ctx, `SELECT headers, coalesce(headers_key_id, ''), headers_sealed FROM /*schema*/sparrow_webhook WHERE id = $1`, id).
		Scan(&h.Plain, &h.KeyID, &h.Sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, errs.NotFound("webhook", id)
	}
	return h, dbutil.Interpret("get webhook headers", err)
}

// WebhookHeadersReseal seals the headers of up to limit webhooks that have
// headers in the clear or sealed with a key other than ring's current one,
// and returns how many it did. Call it until it returns fewer than limit.
// Webhooks locked elsewhere (being updated, or resealed by another process)
// are skipped.
func WebhookHeadersReseal(ctx context.Context, db dbutil.DB, ring *secretbox.Keyring, limit int) (int, error) {
	rows, err := db.Query(ctx, `
SELECT id, headers, coalesce(headers_key_id, ''), headers_sealed FROM /*schema*/sparrow_webhook
WHERE CASE WHEN headers_sealed IS NULL THEN headers <> '{}' ELSE headers_key_id <> $1 END
ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, ring.Current(), limit)
	if err != nil {
		return 0, dbutil.Interpret("reseal headers", err)
	}
	type stale struct {
		webhookID string
		secretbox.Headers
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stale, error) {
		var s stale
		err := row.Scan(&s.webhookID, &s.Plain, &s.KeyID, &s.Sealed)
		return s, err
	})
	if err != nil {
		return 0, dbutil.Interpret("reseal headers", err)
	}
	for _, s := range found {
		plain, err := secretbox.RevealHeaders(ring, s.webhookID, s.Headers)
		if err != nil {
			return 0, fmt.Errorf("reseal headers of %s: %w", s.webhookID, err)
		}
		h := secretbox.SealHeaders(ring, s.webhookID, plain)
		if _, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_webhook SET headers = $2, headers_key_id = $3, headers_sealed = $4
WHERE id = $1`, s.webhookID, h.Plain, nullString(h.KeyID), h.Sealed); err != nil {
			return 0, dbutil.Interpret("reseal headers", err)
		}
	}
	return len(found), nil
}

// WebhookHeadersResealAll runs WebhookHeadersReseal in transactions of
// batch webhooks until none is left to reseal, and returns how many it
// resealed.
func WebhookHeadersResealAll(ctx context.Context, pool *pgxpool.Pool, schema dbutil.Schema, ring *secretbox.Keyring, batch int) (int, error) {
	return resealAll(ctx, pool, schema, ring, batch, WebhookHeadersReseal)
}

// WebhookSetState moves a webhook to state `to` and returns it with the state it
// left. A webhook already in `to` keeps its reason and time.
func WebhookSetState(ctx context.Context, db dbutil.DB, namespace, id string, to webhook.State, reason string, now time.Time) (w *webhook.Webhook, from webhook.State, err error) {
	err = db.QueryRow(ctx, `
SELECT state FROM /*schema*/sparrow_webhook
WHERE namespace = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, namespace, id).Scan(&from)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", errs.NotFound("webhook", id)
	}
	if err != nil {
		return nil, "", dbutil.Interpret("set webhook state", err)
	}
	w, err = scanOne(scanWebhook, "webhook", db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_webhook w
SET state = $3,
    state_reason = CASE WHEN state = $3 THEN state_reason ELSE $4 END,
    state_changed_at = CASE WHEN state = $3 THEN state_changed_at ELSE $5 END,
    updated_at = $5
WHERE w.namespace = $1 AND w.id = $2
RETURNING `+webhookColumns, namespace, id, to, reason, now), "set webhook state", id)
	return w, from, err
}

// WebhookDeactivate moves an active webhook to state to (paused or disabled) and
// reports whether it did: a webhook a person paused, or one disabled
// already, keeps its state and the reason given for it.
func WebhookDeactivate(ctx context.Context, db dbutil.DB, id string, to webhook.State, reason string, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_webhook SET state = $2, state_reason = $3, state_changed_at = $4, updated_at = $4
WHERE id = $1 AND state = 'active' AND deleted_at IS NULL`, id, to, reason, now)
	return tag.RowsAffected() == 1, dbutil.Interpret("deactivate webhook", err)
}

// WebhookSoftDelete marks a webhook deleted. Its row stays, so that its delivery
// history keeps pointing at something.
func WebhookSoftDelete(ctx context.Context, db dbutil.DB, namespace, id string, now time.Time) error {
	tag, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_webhook SET deleted_at = $3, updated_at = $3
WHERE namespace = $1 AND id = $2 AND deleted_at IS NULL`, namespace, id, now)
	if err != nil {
		return dbutil.Interpret("delete webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.NotFound("webhook", id)
	}
	return nil
}

// WebhookPrune deletes up to limit webhooks of ns deleted before cutoff whose
// deliveries are all gone, with their secrets, subscriptions and health,
// and returns how many.
func WebhookPrune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
WITH doomed AS (
    SELECT w.id FROM /*schema*/sparrow_webhook w
    WHERE `+dbutil.NamespacesWhere("w.namespace")+` AND w.deleted_at < $3
      AND NOT EXISTS (SELECT 1 FROM /*schema*/sparrow_delivery d WHERE d.webhook_id = w.id)
    ORDER BY w.deleted_at LIMIT $4 FOR UPDATE SKIP LOCKED
), health AS (
    DELETE FROM /*schema*/sparrow_webhook_health h USING doomed WHERE h.webhook_id = doomed.id
), buckets AS (
    DELETE FROM /*schema*/sparrow_webhook_health_bucket b USING doomed WHERE b.webhook_id = doomed.id
), transitions AS (
    DELETE FROM /*schema*/sparrow_webhook_health_transition t USING doomed WHERE t.webhook_id = doomed.id
)
DELETE FROM /*schema*/sparrow_webhook w USING doomed WHERE w.id = doomed.id`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected(), dbutil.Interpret("prune webhooks", err)
}

// WebhookIsActive reports whether webhook id is active and not deleted.
func WebhookIsActive(ctx context.Context, db dbutil.DB, id string) (bool, error) {
	var active bool
	err := db.QueryRow(ctx, `SELECT state = 'active' AND deleted_at IS NULL FROM /*schema*/sparrow_webhook WHERE id = $1`, id).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return active, dbutil.Interpret("get webhook state", err)
}
