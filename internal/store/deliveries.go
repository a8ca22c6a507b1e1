package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/webhook"
)

var deliveryInsertColumns = []string{
	"id", "namespace", "webhook_id", "event_id", "event_name", "subscription_id", "status", "body",
	"attempt_count", "max_attempts", "expires_at", "next_attempt_at", "last_error_class", "last_error",
	"created_at", "updated_at", "completed_at", "ordering_key", "waits_for",
}

// DeliveryInsertMany stores new deliveries with COPY: fan-out creates them by the
// thousand.
func DeliveryInsertMany(ctx context.Context, db dbutil.DB, ds []*delivery.Delivery) error {
	rows := make([][]any, len(ds))
	for i, d := range ds {
		var body []byte
		if d.Body != nil {
			body = d.Body
		}
		rows[i] = []any{
			d.ID, d.Namespace, d.WebhookID, d.EventID, d.EventName, d.SubscriptionID, string(d.Status), body,
			d.AttemptCount, d.MaxAttempts, nullTime(d.ExpiresAt), nullTime(d.NextAttemptAt), string(d.LastErrorClass), d.LastError,
			d.CreatedAt, d.CreatedAt, nullTime(d.CompletedAt), nullString(d.OrderingKey), nullString(d.WaitsFor),
		}
	}
	_, err := db.CopyFrom(ctx, "sparrow_delivery", deliveryInsertColumns, pgx.CopyFromRows(rows))
	return dbutil.Interpret("insert deliveries", err)
}

const deliveryColumns = `d.id, d.namespace, d.webhook_id, d.event_id, d.event_name, d.subscription_id, d.status,
    d.attempt_count, d.max_attempts, d.parked, d.expires_at, d.next_attempt_at, d.last_attempt_at,
    d.last_status_code, d.last_error_class, d.last_error, d.created_at, d.updated_at, d.completed_at,
    coalesce(d.ordering_key, ''), coalesce(d.waits_for, ''), d.manual_attempt_count, d.retry_requested`

func scanDelivery(row pgx.Row, extra ...any) (*delivery.Delivery, error) {
	var d delivery.Delivery
	var expires, next, last, completed *time.Time
	var lastCode *int
	dest := append([]any{&d.ID, &d.Namespace, &d.WebhookID, &d.EventID, &d.EventName, &d.SubscriptionID, &d.Status,
		&d.AttemptCount, &d.MaxAttempts, &d.Waiting, &expires, &next, &last,
		&lastCode, &d.LastErrorClass, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &completed, &d.OrderingKey, &d.WaitsFor,
		&d.ManualAttemptCount, &d.RetryRequested}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.ExpiresAt, d.NextAttemptAt, d.LastAttemptAt, d.CompletedAt = deref(expires), deref(next), deref(last), deref(completed)
	if lastCode != nil {
		d.LastStatusCode = *lastCode
	}
	return &d, nil
}

// DeliveryGet returns delivery id of namespace with its body and attempts.
func DeliveryGet(ctx context.Context, db dbutil.DB, namespace, id string) (*delivery.Delivery, error) {
	var body []byte
	d, err := scanDelivery(db.QueryRow(ctx, "SELECT "+deliveryColumns+`, coalesce(d.body, e.payload)::text
FROM /*schema*/sparrow_delivery d LEFT JOIN /*schema*/sparrow_event e ON e.id = d.event_id
WHERE d.namespace = $1 AND d.id = $2`, namespace, id), &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("delivery", id)
	}
	if err != nil {
		return nil, dbutil.Interpret("get delivery", err)
	}
	d.Body = body
	if d.Attempts, err = deliveryAttemptList(ctx, db, id); err != nil {
		return nil, err
	}
	return d, nil
}

// DeliveryListParams selects a page of a namespace's deliveries, newest first. Each
// filter set narrows the page; unset ones are left out of the query, so it
// runs on the index that fits (a webhook's, an event's or the namespace's).
type DeliveryListParams struct {
	Namespace string
	WebhookID string
	EventID   string
	Status    delivery.Status
	// EventName keeps deliveries of events of this type.
	EventName string
	// HTTPStatus keeps deliveries whose latest attempt got this status; 0:
	// any.
	HTTPStatus int
	// ErrorClass keeps deliveries whose latest attempt failed with this
	// class.
	ErrorClass delivery.ErrorClass
	// Since and Until bound the creation time: [Since, Until).
	Since time.Time
	Until time.Time
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// DeliveryList returns a page of deliveries, without bodies and attempts, and
// whether more follow.
func DeliveryList(ctx context.Context, db dbutil.DB, p DeliveryListParams) ([]delivery.Delivery, bool, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	add("d.namespace = $%d", p.Namespace)
	if p.WebhookID != "" {
		add("d.webhook_id = $%d", p.WebhookID)
	}
	if p.EventID != "" {
		add("d.event_id = $%d", p.EventID)
	}
	if p.Status != "" {
		add("d.status = $%d", string(p.Status))
		if p.Status == delivery.StatusFailed || p.Status == delivery.StatusExpired || p.Status == delivery.StatusCancelled {
			// Spelled out so that a generic plan, which can't see $n, may
			// use the partial index of such deliveries.
			where = append(where, "d.status IN ('failed', 'expired', 'cancelled')")
		}
	}
	// The latest attempt's outcome is on the delivery row itself
	// (last_status_code, last_error_class): these filter the rows the
	// index above walks, with no look at the attempts.
	if p.EventName != "" {
		add("d.event_name = $%d", p.EventName)
	}
	if p.HTTPStatus != 0 {
		add("d.last_status_code = $%d", p.HTTPStatus)
	}
	if p.ErrorClass != "" {
		add("d.last_error_class = $%d", string(p.ErrorClass))
	}
	if !p.Since.IsZero() {
		add("d.created_at >= $%d", p.Since)
	}
	if !p.Until.IsZero() {
		add("d.created_at < $%d", p.Until)
	}
	if p.Before != "" {
		add("d.id < $%d", p.Before)
	}
	args = append(args, p.Limit+1)
	query := "SELECT " + deliveryColumns + " FROM /*schema*/sparrow_delivery d WHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY d.id DESC LIMIT $%d", len(args))
	scan := func(row pgx.Row) (*delivery.Delivery, error) { return scanDelivery(row) }
	return collectPage(scan, p.Limit, "list deliveries")(db.Query(ctx, query, args...))
}

// DeliveryRef names a pending delivery and how many attempts it has made: a
// delivery job carries refs, and a delivery whose count has moved past its
// job's belongs to a later job.
type DeliveryRef struct {
	ID        string
	WebhookID string
	// AttemptCount counts every attempt made, manual ones included (see
	// attemptsMade).
	AttemptCount int
	// Namespace is the webhook's: a job's share of the process follows it.
	Namespace string
	// Manual: the job makes the manual attempt asked for (see
	// DeliveryRequestRetry). Not read from rows.
	Manual bool `db:"-"`
}

// attemptsMade is the SQL of a delivery's attempts, manual ones included:
// the count a delivery job is keyed on, and the number of its last attempt.
const attemptsMade = "d.attempt_count + d.manual_attempt_count"

// refOf returns d's ref.
func refOf(d *delivery.Delivery) DeliveryRef {
	return DeliveryRef{ID: d.ID, WebhookID: d.WebhookID, AttemptCount: d.AttemptCount + d.ManualAttemptCount, Namespace: d.Namespace}
}

// DeliveryGetRef returns the ref of delivery id, or nil if it is gone.
func DeliveryGetRef(ctx context.Context, db dbutil.DB, id string) (*DeliveryRef, error) {
	var r DeliveryRef
	err := db.QueryRow(ctx, `SELECT d.id, d.webhook_id, `+attemptsMade+`, d.namespace FROM /*schema*/sparrow_delivery d WHERE d.id = $1`, id).
		Scan(&r.ID, &r.WebhookID, &r.AttemptCount, &r.Namespace)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &r, dbutil.Interpret("load delivery", err)
}

// SendTarget is what attempts to one webhook need, read once per job.
type SendTarget struct {
	WebhookID string
	URL       string
	Active    bool
	Deleted   bool
	// Headers are the webhook's custom headers as stored (in the clear or
	// sealed).
	Headers secretbox.Headers
	Timeout time.Duration
	// Secrets sign at the time given to DeliveryLoadWork, newest first, as stored
	// (in the clear or sealed).
	Secrets []secretbox.Stored
	// RetrySchedule replaces the engine's backoff when set.
	RetrySchedule []time.Duration
	// RateLimitPerSecond bounds the webhook's requests; 0: none.
	RateLimitPerSecond int
}

// DeliveryWork is a delivery about to be attempted.
type DeliveryWork struct {
	delivery.Delivery
	// EventCreatedAt is when the event was pushed.
	EventCreatedAt time.Time
	// Rendered is true when the delivery has a body of its own, which its
	// subscription's template rendered, rather than the event's payload.
	Rendered bool
	// Carried: the job loading it carries it on from the delivery before
	// it of its ordering key (see OrderingRelease), whatever its count.
	Carried bool
}

// Attempted is how many attempts the delivery has made, manual ones
// included: the count its jobs are keyed on.
func (w *DeliveryWork) Attempted() int { return w.AttemptCount + w.ManualAttemptCount }

// Ref returns the work's ref.
func (w *DeliveryWork) Ref() DeliveryRef { return refOf(&w.Delivery) }

// DeliveryLoadWork reads webhook webhookID with its headers and signing
// secrets, as stored, and those of the deliveries ids, and of those job
// carrier carries (0: none), that are still its own, their bodies only if
// withBodies (else DeliveryLoadBodies). A webhook gone altogether
// (retention) gives a nil Target.
func DeliveryLoadWork(ctx context.Context, db dbutil.DB, webhookID string, ids []string, carrier int64, withBodies bool, now time.Time) (*SendTarget, []*DeliveryWork, error) {
	t := SendTarget{WebhookID: webhookID}
	var timeoutMS int64
	var schedule []int64
	err := db.QueryRow(ctx, `
SELECT w.url, w.state = 'active', w.deleted_at IS NOT NULL, w.headers, coalesce(w.headers_key_id, ''), w.headers_sealed, w.timeout_ms,
    w.retry_schedule_ms, w.rate_limit_per_second,
    (SELECT coalesce(json_agg(json_build_object('ID', s.id, 'Plain', coalesce(s.secret, ''), 'KeyID', coalesce(s.key_id, ''),
            'Sealed', encode(s.sealed, 'base64')) ORDER BY s.created_at DESC, s.id DESC), '[]')
     FROM /*schema*/sparrow_webhook_secret s WHERE s.webhook_id = w.id AND (s.expires_at IS NULL OR s.expires_at > $2))
FROM /*schema*/sparrow_webhook w WHERE w.id = $1`, webhookID, now).Scan(&t.URL, &t.Active, &t.Deleted,
		&t.Headers.Plain, &t.Headers.KeyID, &t.Headers.Sealed, &timeoutMS, &schedule, &t.RateLimitPerSecond, &t.Secrets)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, dbutil.Interpret("load webhook", err)
	}
	t.Timeout = time.Duration(timeoutMS) * time.Millisecond
	t.RetrySchedule = scheduleOf(schedule)
	works, err := DeliveryLoadWorks(ctx, db, webhookID, ids, carrier, withBodies)
	return &t, works, err
}

// DeliveryLoadWorks reads, as DeliveryLoadWork does, the deliveries ids and
// those job carrier carries that are still webhook webhookID's own.
func DeliveryLoadWorks(ctx context.Context, db dbutil.DB, webhookID string, ids []string, carrier int64, withBodies bool) ([]*DeliveryWork, error) {
	// By primary key alone, one lookup per id, filtered and sorted here, and
	// planned for the table as it is now: a plan cached while the table was
	// small (a fresh install) scans it or walks the webhook's whole history
	// for the few rows asked for, until the next ANALYZE. The lookups are a
	// LATERAL subquery that OFFSET 0 keeps from being flattened, so that no
	// estimate can turn them into a hash of the whole table.
	want := "unnest($1::text[])"
	if carrier != 0 {
		want = "(SELECT unnest($1::text[]) UNION SELECT id FROM /*schema*/sparrow_delivery WHERE carried_by_job = $3)"
	}
	rows, err := db.Query(ctx, `SELECT found.* FROM `+want+` AS want (id), LATERAL (
    SELECT `+deliveryColumns+`, e.created_at AS event_created_at, d.body IS NOT NULL AS rendered,
        coalesce(d.carried_by_job = $3::bigint, false),
        CASE WHEN $2 THEN coalesce(d.body, e.payload)::text END
    FROM /*schema*/sparrow_delivery d JOIN /*schema*/sparrow_event e ON e.id = d.event_id
    WHERE d.id = want.id OFFSET 0
) found`, pgx.QueryExecModeExec, ids, withBodies, carrier)
	if err != nil {
		return nil, dbutil.Interpret("load deliveries", err)
	}
	works, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*DeliveryWork, error) {
		var w DeliveryWork
		var body []byte
		d, err := scanDelivery(row, &w.EventCreatedAt, &w.Rendered, &w.Carried, &body)
		if err != nil {
			return nil, err
		}
		w.Delivery, w.Body = *d, body
		return &w, nil
	})
	if err != nil {
		return nil, dbutil.Interpret("load deliveries", err)
	}
	works = slices.DeleteFunc(works, func(w *DeliveryWork) bool { return w.WebhookID != webhookID })
	slices.SortFunc(works, func(a, b *DeliveryWork) int { return strings.Compare(a.ID, b.ID) })
	return works, nil
}

// DeliveryLoadBodies reads the bodies of works, their own or their events'
// payloads. A job reads them a few at a time, as it starts their attempts,
// so that the deliveries it carries cost memory only while in flight. Each
// table is read on its own by primary key: a join of the two costs more to
// plan than to run, and these few rows are read thousands of times a second.
func DeliveryLoadBodies(ctx context.Context, db dbutil.DB, works []*DeliveryWork) error {
	var own, events []string
	for _, w := range works {
		if w.Rendered {
			own = append(own, w.ID)
		} else {
			events = append(events, w.EventID)
		}
	}
	payloads, err := bodiesByID(ctx, db, `SELECT id, payload::text FROM /*schema*/sparrow_event WHERE id = ANY($1)`, events)
	if err != nil {
		return err
	}
	rendered, err := bodiesByID(ctx, db, `SELECT id, body::text FROM /*schema*/sparrow_delivery WHERE id = ANY($1)`, own)
	if err != nil {
		return err
	}
	for _, w := range works {
		if w.Rendered {
			w.Body = rendered[w.ID]
		} else {
			w.Body = payloads[w.EventID]
		}
	}
	return nil
}

// bodiesByID runs query, which reads bodies by id, for ids.
func bodiesByID(ctx context.Context, db dbutil.DB, query string, ids []string) (map[string][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, query, pgx.QueryExecModeExec, ids) // planned as DeliveryLoadWork's
	if err != nil {
		return nil, dbutil.Interpret("load bodies", err)
	}
	bodies := make(map[string][]byte, len(ids))
	var id string
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &body}, func() error {
		bodies[id] = body
		body = nil // ForEachRow reuses the destinations
		return nil
	})
	return bodies, dbutil.Interpret("load bodies", err)
}

// DeliveryPark makes pending deliveries ids of webhook webhookID wait for its
// resumption, unless the webhook is active again, and returns those it
// parked. It locks the webhook row (FOR SHARE) so that a concurrent resume
// either sees these deliveries parked or happened first and is seen here.
// It must run in a transaction.
func DeliveryPark(ctx context.Context, tx dbutil.DB, webhookID string, ids []string, now time.Time) ([]string, error) {
	var active bool
	err := tx.QueryRow(ctx, `SELECT state = 'active' AND deleted_at IS NULL FROM /*schema*/sparrow_webhook WHERE id = $1 FOR SHARE`,
		webhookID).Scan(&active)
	if err != nil || active {
		return nil, dbutil.Interpret("park deliveries", err)
	}
	// A manual attempt asked for is dropped: the delivery waits like the
	// others, and goes out on resume.
	rows, err := tx.Query(ctx, `UPDATE /*schema*/sparrow_delivery SET parked = true, retry_requested = false, updated_at = $2
WHERE id IN (SELECT unnest($1::text[])) AND status IN ('pending', 'retrying') RETURNING id`, ids, now)
	if err != nil {
		return nil, dbutil.Interpret("park deliveries", err)
	}
	parked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return parked, dbutil.Interpret("park deliveries", err)
}

// DeliveryUnpark releases up to limit of a webhook's waiting deliveries and returns
// them, for the caller to give them jobs in the same transaction.
func DeliveryUnpark(ctx context.Context, db dbutil.DB, webhookID string, limit int, now time.Time) ([]DeliveryRef, error) {
	rows, err := db.Query(ctx, `
UPDATE /*schema*/sparrow_delivery d SET parked = false, next_attempt_at = $3, updated_at = $3
WHERE id IN (
    SELECT id FROM /*schema*/sparrow_delivery
    WHERE webhook_id = $1 AND status IN ('pending', 'retrying') AND parked
    LIMIT $2 FOR UPDATE SKIP LOCKED -- no ORDER BY: it would tempt the planner to walk the webhook's history
)
RETURNING d.id, d.webhook_id, `+attemptsMade+`, d.namespace`, webhookID, limit, now)
	if err != nil {
		return nil, dbutil.Interpret("unpark deliveries", err)
	}
	unparked, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryRef])
	return unparked, dbutil.Interpret("unpark deliveries", err)
}

// DeliveryFinish ends pending deliveries ids without an attempt, expired or
// cancelled, and returns those that were still pending.
func DeliveryFinish(ctx context.Context, db dbutil.DB, ids []string, status delivery.Status, now time.Time) ([]string, error) {
	rows, err := db.Query(ctx, `UPDATE /*schema*/sparrow_delivery
SET status = $2, parked = false, retry_requested = false, next_attempt_at = NULL, updated_at = $3, completed_at = $3
WHERE id IN (SELECT unnest($1::text[])) AND status IN ('pending', 'retrying') RETURNING id`, ids, string(status), now)
	if err != nil {
		return nil, dbutil.Interpret("finish deliveries", err)
	}
	finished, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return finished, dbutil.Interpret("finish deliveries", err)
}

// DeliveryCancelPending cancels every pending delivery of a webhook.
func DeliveryCancelPending(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_delivery
SET status = 'cancelled', parked = false, retry_requested = false, next_attempt_at = NULL, updated_at = $2, completed_at = $2
WHERE webhook_id = $1 AND status IN ('pending', 'retrying')`, webhookID, now)
	return tag.RowsAffected(), dbutil.Interpret("cancel deliveries", err)
}

// manualDueWithin is how close to its next automatic attempt a retrying
// delivery is left alone by a manual retry: that attempt is being made, or
// about to be, which is what was asked for.
const manualDueWithin = time.Second

// DeliveryRequestRetry asks for one manual attempt of delivery id of
// namespace and returns its ref, Manual set, for the caller to insert its
// job in the same transaction. It returns nil, changing nothing, for a
// delivery to leave as it is: still pending (its first attempt is on its
// way or waits its turn), a manual attempt asked for already, or retrying
// with its next attempt due now. The attempt limit, the expiry and the
// retry schedule are not touched. A cancelled delivery, or one of a
// deleted, paused or disabled webhook, is refused.
func DeliveryRequestRetry(ctx context.Context, db dbutil.DB, namespace, id string, now time.Time) (*DeliveryRef, error) {
	ref := DeliveryRef{Manual: true}
	err := db.QueryRow(ctx, `UPDATE /*schema*/sparrow_delivery d SET retry_requested = true, updated_at = $3
FROM /*schema*/sparrow_webhook w
WHERE d.namespace = $1 AND d.id = $2 AND w.id = d.webhook_id AND w.deleted_at IS NULL AND w.state = 'active'
  AND d.status IN ('retrying', 'succeeded', 'failed', 'expired') AND NOT d.retry_requested AND NOT d.parked
  AND NOT (d.status = 'retrying' AND coalesce(d.next_attempt_at <= $4, false))
RETURNING d.id, d.webhook_id, `+attemptsMade+`, d.namespace`, namespace, id, now, now.Add(manualDueWithin)).
		Scan(&ref.ID, &ref.WebhookID, &ref.AttemptCount, &ref.Namespace)
	if err == nil {
		return &ref, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, dbutil.Interpret("retry delivery", err)
	}
	var status delivery.Status
	var webhookID, state string
	var deleted bool
	err = db.QueryRow(ctx, `SELECT d.status, w.id, w.state, w.deleted_at IS NOT NULL FROM /*schema*/sparrow_delivery d
JOIN /*schema*/sparrow_webhook w ON w.id = d.webhook_id WHERE d.namespace = $1 AND d.id = $2`, namespace, id).
		Scan(&status, &webhookID, &state, &deleted)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, errs.NotFound("delivery", id)
	case err != nil:
		return nil, dbutil.Interpret("retry delivery", err)
	case deleted:
		return nil, errs.FailedPrecondition("delivery %s belongs to a deleted webhook", id)
	case status == delivery.StatusCancelled:
		return nil, errs.FailedPrecondition("delivery %s was cancelled", id)
	case status == delivery.StatusPending:
		return nil, nil
	case state != string(webhook.StateActive):
		return nil, RetryRefusedWebhookState(webhookID, webhook.State(state))
	}
	return nil, nil
}

// RetryRefusedWebhookState is the error of a manual retry of a delivery of
// a webhook that is not active: its attempt would wait for the webhook
// anyway, and a pause means "send nothing".
func RetryRefusedWebhookState(webhookID string, state webhook.State) error {
	return errs.FailedPrecondition("webhook %s is %s: resume it to retry its deliveries", webhookID, state)
}

// retryFailedWhere selects the deliveries of a bulk replay: webhook $1's
// failed and expired ones that finished at or after $2, and have no manual
// attempt asked for yet. The status list fits the partial index of such
// deliveries.
const retryFailedWhere = `d.webhook_id = $1 AND d.status IN ('failed', 'expired') AND d.completed_at >= $2 AND NOT d.retry_requested`

// DeliveryRequestRetryFailed asks for one manual attempt of each of a
// webhook's failed and expired deliveries that finished at or after since,
// as DeliveryRequestRetry does for one, and returns their refs for the
// caller to insert their jobs. The caller checks the webhook first.
func DeliveryRequestRetryFailed(ctx context.Context, db dbutil.DB, webhookID string, since, now time.Time) ([]DeliveryRef, error) {
	rows, err := db.Query(ctx, `UPDATE /*schema*/sparrow_delivery d SET retry_requested = true, updated_at = $3
WHERE `+retryFailedWhere+`
RETURNING d.id, d.webhook_id, `+attemptsMade+`, d.namespace`, webhookID, since, now)
	if err != nil {
		return nil, dbutil.Interpret("retry failed deliveries", err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryRef])
	for i := range refs {
		refs[i].Manual = true
	}
	return refs, dbutil.Interpret("retry failed deliveries", err)
}

// DeliveryCountRetryFailed counts the deliveries DeliveryRequestRetryFailed
// would retry, changing nothing.
func DeliveryCountRetryFailed(ctx context.Context, db dbutil.DB, webhookID string, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM /*schema*/sparrow_delivery d WHERE `+retryFailedWhere, webhookID, since).Scan(&n)
	return n, dbutil.Interpret("count failed deliveries", err)
}

// DeliveryDropRetryRequests drops the manual attempts asked for of the
// finished deliveries ids, which a manual job found it could not make (the
// webhook was deleted, paused or disabled since).
func DeliveryDropRetryRequests(ctx context.Context, db dbutil.DB, ids []string, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_delivery SET retry_requested = false, updated_at = $2
WHERE id IN (SELECT unnest($1::text[])) AND retry_requested`, ids, now)
	return dbutil.Interpret("drop retry requests", err)
}

// DeliveryPrune deletes up to limit deliveries of ns that finished before cutoff,
// with their attempts, oldest first, and returns how many. Rows another
// transaction holds (a retry being asked for) are skipped, not waited for,
// and so are those whose manual attempt is asked for.
func DeliveryPrune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
WITH doomed AS (
    SELECT id FROM /*schema*/sparrow_delivery
    WHERE `+dbutil.NamespacesWhere("namespace")+` AND completed_at < $3
      AND status IN ('succeeded', 'failed', 'expired', 'cancelled') AND NOT retry_requested
    ORDER BY completed_at LIMIT $4 FOR UPDATE SKIP LOCKED
), attempts AS (
    DELETE FROM /*schema*/sparrow_delivery_attempt a USING doomed WHERE a.delivery_id = doomed.id
)
DELETE FROM /*schema*/sparrow_delivery d USING doomed WHERE d.id = doomed.id`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected(), dbutil.Interpret("prune deliveries", err)
}
