package webhook

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
)

// Insert stores a new webhook with its first signing secret.
func Insert(ctx context.Context, db dbutil.DB, w *Webhook, secret Secret) error {
	_, err := db.Exec(ctx, `
WITH inserted AS (
    INSERT INTO /*schema*/sparrow_webhook (id, namespace, url, description, state, state_changed_at,
        headers, timeout_ms, max_attempts, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
    RETURNING id
)
INSERT INTO /*schema*/sparrow_webhook_secret (webhook_id, id, secret, key_id, sealed, created_at)
SELECT id, $11, $12, $13, $14, $10 FROM inserted`,
		w.ID, w.Namespace, w.URL, w.Description, w.State, w.StateChangedAt,
		headersOrEmpty(w.Headers), w.Timeout.Milliseconds(), w.MaxAttempts, w.CreatedAt,
		secret.ID, plainOrNull(secret), nullString(secret.KeyID), secret.Sealed)
	return dbutil.Interpret("insert webhook", err)
}

const columns = `w.id, w.namespace, w.url, w.description, w.state, w.state_reason, w.state_changed_at,
    w.headers, w.timeout_ms, w.max_attempts, w.created_at, w.updated_at,
    ARRAY(SELECT s.event_name FROM /*schema*/sparrow_subscription s WHERE s.webhook_id = w.id ORDER BY s.event_name)`

func scan(row pgx.Row) (*Webhook, error) {
	var w Webhook
	var timeoutMS int64
	err := row.Scan(&w.ID, &w.Namespace, &w.URL, &w.Description, &w.State, &w.StateReason, &w.StateChangedAt,
		&w.Headers, &timeoutMS, &w.MaxAttempts, &w.CreatedAt, &w.UpdatedAt, &w.Events)
	w.Timeout = time.Duration(timeoutMS) * time.Millisecond
	// Nothing reads header values back through here: deliveries load their
	// own (delivery.LoadWork).
	w.Headers = MaskHeaders(w.Headers)
	return &w, err
}

func scanOne(row pgx.Row, op, id string) (*Webhook, error) {
	w, err := scan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("webhook", id)
	}
	if err != nil {
		return nil, dbutil.Interpret(op, err)
	}
	return w, nil
}

// Get returns the webhook id in namespace. With forUpdate it also locks the
// row until the transaction ends.
func Get(ctx context.Context, db dbutil.DB, namespace, id string, forUpdate bool) (*Webhook, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF w"
	}
	return scanOne(db.QueryRow(ctx, "SELECT "+columns+` FROM /*schema*/sparrow_webhook w
WHERE w.namespace = $1 AND w.id = $2 AND w.deleted_at IS NULL`+lock, namespace, id), "get webhook", id)
}

// ListParams selects a page of a namespace's webhooks, newest first.
type ListParams struct {
	Namespace string
	// Event, when set, keeps webhooks subscribed to that event type.
	Event string
	// ActiveOnly keeps webhooks in StateActive.
	ActiveOnly bool
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// List returns a page of webhooks and whether more follow.
func List(ctx context.Context, db dbutil.DB, p ListParams) ([]Webhook, bool, error) {
	rows, err := db.Query(ctx, "SELECT "+columns+` FROM /*schema*/sparrow_webhook w
WHERE w.namespace = $1 AND w.deleted_at IS NULL
  AND ($2 = '' OR EXISTS (SELECT 1 FROM /*schema*/sparrow_subscription s WHERE s.webhook_id = w.id AND s.event_name = $2))
  AND (NOT $3 OR w.state = 'active')
  AND ($4 = '' OR w.id < $4)
ORDER BY w.id DESC LIMIT $5`, p.Namespace, p.Event, p.ActiveOnly, p.Before, p.Limit+1)
	if err != nil {
		return nil, false, dbutil.Interpret("list webhooks", err)
	}
	hooks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Webhook, error) {
		w, err := scan(row)
		return *w, err
	})
	if err != nil {
		return nil, false, dbutil.Interpret("list webhooks", err)
	}
	more := len(hooks) > p.Limit
	return hooks[:min(len(hooks), p.Limit)], more, nil
}

// Update lists the settings of a webhook to change; nil leaves one as it is.
type Update struct {
	URL         *string
	Description *string
	Headers     *map[string]string
	Timeout     *time.Duration
	MaxAttempts *int
}

// ApplyUpdate changes a webhook's settings and returns it as stored. A
// header given MaskedHeaderValue keeps its current value (the caller checks
// there is one).
func ApplyUpdate(ctx context.Context, db dbutil.DB, namespace, id string, u Update, now time.Time) (*Webhook, error) {
	var headers map[string]string
	if u.Headers != nil {
		headers = headersOrEmpty(*u.Headers)
	}
	var timeoutMS *int64
	if u.Timeout != nil {
		ms := u.Timeout.Milliseconds()
		timeoutMS = &ms
	}
	return scanOne(db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_webhook w
SET url = coalesce($3, url), description = coalesce($4, description),
    headers = CASE WHEN $5::jsonb IS NULL THEN headers ELSE (
        SELECT coalesce(jsonb_object_agg(n.key, CASE WHEN n.value = to_jsonb($9::text) THEN w.headers->n.key ELSE n.value END), '{}')
        FROM jsonb_each($5::jsonb) n
    ) END,
    timeout_ms = coalesce($6, timeout_ms), max_attempts = coalesce($7, max_attempts), updated_at = $8
WHERE w.namespace = $1 AND w.id = $2 AND w.deleted_at IS NULL
RETURNING `+columns, namespace, id, u.URL, u.Description, headers, timeoutMS, u.MaxAttempts, now, MaskedHeaderValue), "update webhook", id)
}

// SetState moves a webhook to state `to` and returns it with the state it
// left. A webhook already in `to` keeps its reason and time.
func SetState(ctx context.Context, db dbutil.DB, namespace, id string, to State, reason string, now time.Time) (w *Webhook, from State, err error) {
	err = db.QueryRow(ctx, `
SELECT state FROM /*schema*/sparrow_webhook
WHERE namespace = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, namespace, id).Scan(&from)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", errs.NotFound("webhook", id)
	}
	if err != nil {
		return nil, "", dbutil.Interpret("set webhook state", err)
	}
	w, err = scanOne(db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_webhook w
SET state = $3,
    state_reason = CASE WHEN state = $3 THEN state_reason ELSE $4 END,
    state_changed_at = CASE WHEN state = $3 THEN state_changed_at ELSE $5 END,
    updated_at = $5
WHERE w.namespace = $1 AND w.id = $2
RETURNING `+columns, namespace, id, to, reason, now), "set webhook state", id)
	return w, from, err
}

// Deactivate moves an active webhook to state to (paused or disabled) and
// reports whether it did: a webhook a person paused, or one disabled
// already, keeps its state and the reason given for it.
func Deactivate(ctx context.Context, db dbutil.DB, id string, to State, reason string, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_webhook SET state = $2, state_reason = $3, state_changed_at = $4, updated_at = $4
WHERE id = $1 AND state = 'active' AND deleted_at IS NULL`, id, to, reason, now)
	return tag.RowsAffected() == 1, dbutil.Interpret("deactivate webhook", err)
}

// SoftDelete marks a webhook deleted. Its row stays, so that its delivery
// history keeps pointing at something.
func SoftDelete(ctx context.Context, db dbutil.DB, namespace, id string, now time.Time) error {
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

// RotateSecret makes secret the webhook's current one. The secrets it
// replaces keep signing until graceUntil; secrets already expired are
// removed.
func RotateSecret(ctx context.Context, db dbutil.DB, webhookID string, secret Secret, graceUntil time.Time) error {
	_, err := db.Exec(ctx, `
WITH expired AS (
    DELETE FROM /*schema*/sparrow_webhook_secret WHERE webhook_id = $1 AND expires_at <= $4
), retired AS (
    UPDATE /*schema*/sparrow_webhook_secret SET expires_at = $5
    WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $5)
)
INSERT INTO /*schema*/sparrow_webhook_secret (webhook_id, id, secret, key_id, sealed, created_at) VALUES ($1, $2, $3, $6, $7, $4)`,
		webhookID, secret.ID, plainOrNull(secret), secret.CreatedAt, graceUntil, nullString(secret.KeyID), secret.Sealed)
	return dbutil.Interpret("rotate webhook secret", err)
}

// ActiveSecrets returns the secrets that sign at time now, newest first, as
// stored.
func ActiveSecrets(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) ([]Secret, error) {
	rows, err := db.Query(ctx, `
SELECT id, coalesce(secret, ''), coalesce(key_id, ''), sealed, created_at, expires_at FROM /*schema*/sparrow_webhook_secret
WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $2)
ORDER BY created_at DESC, id DESC`, webhookID, now)
	if err != nil {
		return nil, dbutil.Interpret("get webhook secrets", err)
	}
	secrets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Secret, error) {
		var s Secret
		var expires *time.Time
		err := row.Scan(&s.ID, &s.Plain, &s.KeyID, &s.Sealed, &s.CreatedAt, &expires)
		if expires != nil {
			s.ExpiresAt = *expires
		}
		return s, err
	})
	return secrets, dbutil.Interpret("get webhook secrets", err)
}

// Reseal seals up to limit secrets that are in the clear or sealed with a
// key other than ring's current one, and returns how many it did. Call it
// until it returns fewer than limit. Rows being resealed elsewhere are
// skipped, so several processes can share the work.
func Reseal(ctx context.Context, db dbutil.DB, ring *secretbox.Keyring, limit int) (int, error) {
	rows, err := db.Query(ctx, `
SELECT webhook_id, id, coalesce(secret, ''), coalesce(key_id, ''), sealed FROM /*schema*/sparrow_webhook_secret
WHERE key_id IS DISTINCT FROM $1
ORDER BY webhook_id, id LIMIT $2 FOR UPDATE SKIP LOCKED`, ring.Current(), limit)
	if err != nil {
		return 0, dbutil.Interpret("reseal secrets", err)
	}
	type stale struct {
		webhookID string
		secretbox.Stored
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stale, error) {
		var s stale
		err := row.Scan(&s.webhookID, &s.ID, &s.Plain, &s.KeyID, &s.Sealed)
		return s, err
	})
	if err != nil {
		return 0, dbutil.Interpret("reseal secrets", err)
	}
	for _, s := range found {
		plain, err := secretbox.Reveal(ring, s.webhookID, s.Stored)
		if err != nil {
			return 0, fmt.Errorf("reseal secret %s of %s: %w", s.ID, s.webhookID, err)
		}
		keyID, sealed := ring.Seal([]byte(plain), secretbox.AAD(s.webhookID, s.ID))
		if _, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_webhook_secret SET secret = NULL, key_id = $3, sealed = $4
WHERE webhook_id = $1 AND id = $2`, s.webhookID, s.ID, keyID, sealed); err != nil {
			return 0, dbutil.Interpret("reseal secrets", err)
		}
	}
	return len(found), nil
}

// ResealAll runs Reseal in transactions of batch secrets until none is left
// to reseal, and returns how many it resealed.
func ResealAll(ctx context.Context, pool *pgxpool.Pool, schema dbutil.Schema, ring *secretbox.Keyring, batch int) (int, error) {
	total := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			n, err = Reseal(ctx, schema.On(tx), ring, batch)
			return err
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

func plainOrNull(s Secret) *string {
	if s.Sealed != nil {
		return nil
	}
	return &s.Plain
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func headersOrEmpty(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}

// Prune deletes up to limit webhooks of ns deleted before cutoff whose
// deliveries are all gone, with their secrets, subscriptions and health,
// and returns how many.
func Prune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
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
