package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/secretbox"
)

var insertColumns = []string{
	"id", "namespace", "webhook_id", "event_id", "event_name", "subscription_id", "status", "body",
	"attempt_count", "max_attempts", "expires_at", "next_attempt_at", "last_error_class", "last_error",
	"created_at", "updated_at", "completed_at",
}

// Insert stores new deliveries with COPY: fan-out creates them by the
// thousand.
func Insert(ctx context.Context, db dbutil.DB, ds []*Delivery) error {
	rows := make([][]any, len(ds))
	for i, d := range ds {
		var body []byte
		if d.Body != nil {
			body = d.Body
		}
		rows[i] = []any{
			d.ID, d.Namespace, d.WebhookID, d.EventID, d.EventName, d.SubscriptionID, string(d.Status), body,
			d.AttemptCount, d.MaxAttempts, nullTime(d.ExpiresAt), nullTime(d.NextAttemptAt), string(d.LastErrorClass), d.LastError,
			d.CreatedAt, d.CreatedAt, nullTime(d.CompletedAt),
		}
	}
	_, err := db.CopyFrom(ctx, "sparrow_delivery", insertColumns, pgx.CopyFromRows(rows))
	return dbutil.Interpret("insert deliveries", err)
}

const columns = `d.id, d.namespace, d.webhook_id, d.event_id, d.event_name, d.subscription_id, d.status,
    d.attempt_count, d.max_attempts, d.parked, d.expires_at, d.next_attempt_at, d.last_attempt_at,
    d.last_status_code, d.last_error_class, d.last_error, d.created_at, d.updated_at, d.completed_at`

func scan(row pgx.Row, extra ...any) (*Delivery, error) {
	var d Delivery
	var expires, next, last, completed *time.Time
	var lastCode *int
	dest := append([]any{&d.ID, &d.Namespace, &d.WebhookID, &d.EventID, &d.EventName, &d.SubscriptionID, &d.Status,
		&d.AttemptCount, &d.MaxAttempts, &d.Waiting, &expires, &next, &last,
		&lastCode, &d.LastErrorClass, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &completed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.ExpiresAt, d.NextAttemptAt, d.LastAttemptAt, d.CompletedAt = deref(expires), deref(next), deref(last), deref(completed)
	if lastCode != nil {
		d.LastStatusCode = *lastCode
	}
	return &d, nil
}

// Get returns delivery id of namespace with its body and attempts.
func Get(ctx context.Context, db dbutil.DB, namespace, id string) (*Delivery, error) {
	var body []byte
	d, err := scan(db.QueryRow(ctx, "SELECT "+columns+`, coalesce(d.body, e.payload)::text
FROM /*schema*/sparrow_delivery d LEFT JOIN /*schema*/sparrow_event e ON e.id = d.event_id
WHERE d.namespace = $1 AND d.id = $2`, namespace, id), &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("delivery", id)
	}
	if err != nil {
		return nil, dbutil.Interpret("get delivery", err)
	}
	d.Body = body
	if d.Attempts, err = attempts(ctx, db, id); err != nil {
		return nil, err
	}
	return d, nil
}

func attempts(ctx context.Context, db dbutil.DB, deliveryID string) ([]Attempt, error) {
	rows, err := db.Query(ctx, `
SELECT delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
    request_headers, response_headers, response_body, response_body_truncated, next_attempt_at
FROM /*schema*/sparrow_delivery_attempt WHERE delivery_id = $1 ORDER BY attempt`, deliveryID)
	if err != nil {
		return nil, dbutil.Interpret("get attempts", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attempt, error) {
		var a Attempt
		var durationUS int64
		var code *int
		var next *time.Time
		err := row.Scan(&a.DeliveryID, &a.Number, &a.WebhookID, &a.StartedAt, &durationUS, &code, &a.ErrorClass, &a.Error,
			&a.RequestHeaders, &a.ResponseHeaders, &a.ResponseBody, &a.ResponseBodyTruncated, &next)
		a.Duration = time.Duration(durationUS) * time.Microsecond
		a.NextAttemptAt = deref(next)
		if code != nil {
			a.StatusCode = *code
		}
		return a, err
	})
	return out, dbutil.Interpret("get attempts", err)
}

// ListParams selects a page of a namespace's deliveries, newest first. Each
// filter set narrows the page; unset ones are left out of the query, so it
// runs on the index that fits (a webhook's, an event's or the namespace's).
type ListParams struct {
	Namespace string
	WebhookID string
	EventID   string
	Status    Status
	// Since and Until bound the creation time: [Since, Until).
	Since time.Time
	Until time.Time
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// List returns a page of deliveries, without bodies and attempts, and
// whether more follow.
func List(ctx context.Context, db dbutil.DB, p ListParams) ([]Delivery, bool, error) {
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
		if p.Status == StatusFailed || p.Status == StatusExpired || p.Status == StatusCancelled {
			// Spelled out so that a generic plan, which can't see $n, may
			// use the partial index of such deliveries.
			where = append(where, "d.status IN ('failed', 'expired', 'cancelled')")
		}
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
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM /*schema*/sparrow_delivery d WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY d.id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, false, dbutil.Interpret("list deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		d, err := scan(row)
		if err != nil {
			return Delivery{}, err
		}
		return *d, nil
	})
	if err != nil {
		return nil, false, dbutil.Interpret("list deliveries", err)
	}
	more := len(out) > p.Limit
	return out[:min(len(out), p.Limit)], more, nil
}

// Ref names a pending delivery and how many attempts it has made: a
// delivery job carries refs, and a delivery whose count has moved past its
// job's belongs to a later job.
type Ref struct {
	ID           string
	WebhookID    string
	AttemptCount int
}

// RefOf returns the ref of delivery id, or nil if it is gone.
func RefOf(ctx context.Context, db dbutil.DB, id string) (*Ref, error) {
	var r Ref
	err := db.QueryRow(ctx, `SELECT id, webhook_id, attempt_count FROM /*schema*/sparrow_delivery WHERE id = $1`, id).
		Scan(&r.ID, &r.WebhookID, &r.AttemptCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &r, dbutil.Interpret("load delivery", err)
}

// Target is what attempts to one webhook need, read once per job.
type Target struct {
	WebhookID string
	URL       string
	Active    bool
	Deleted   bool
	Headers   map[string]string
	Timeout   time.Duration
	// Secrets sign at the time given to LoadWork, newest first, as stored
	// (in the clear or sealed).
	Secrets []secretbox.Stored
}

// Work is a delivery about to be attempted.
type Work struct {
	Delivery
	// EventCreatedAt is when the event was pushed.
	EventCreatedAt time.Time
	// Rendered is true when the delivery has a body of its own, which its
	// subscription's template rendered, rather than the event's payload.
	Rendered bool
}

// LoadWork reads webhook webhookID with its signing secrets and those of
// the deliveries ids that are still its own, their bodies only if
// withBodies (else LoadBodies). A webhook
// gone altogether (retention) gives a nil Target.
func LoadWork(ctx context.Context, db dbutil.DB, webhookID string, ids []string, withBodies bool, now time.Time) (*Target, []*Work, error) {
	t := Target{WebhookID: webhookID}
	var timeoutMS int64
	err := db.QueryRow(ctx, `
SELECT w.url, w.state = 'active', w.deleted_at IS NOT NULL, w.headers, w.timeout_ms,
    (SELECT coalesce(json_agg(json_build_object('ID', s.id, 'Plain', coalesce(s.secret, ''), 'KeyID', coalesce(s.key_id, ''),
            'Sealed', encode(s.sealed, 'base64')) ORDER BY s.created_at DESC, s.id DESC), '[]')
     FROM /*schema*/sparrow_webhook_secret s WHERE s.webhook_id = w.id AND (s.expires_at IS NULL OR s.expires_at > $2))
FROM /*schema*/sparrow_webhook w WHERE w.id = $1`, webhookID, now).Scan(&t.URL, &t.Active, &t.Deleted, &t.Headers, &timeoutMS, &t.Secrets)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, dbutil.Interpret("load webhook", err)
	}
	t.Timeout = time.Duration(timeoutMS) * time.Millisecond
	// By primary key alone, one lookup per id, filtered and sorted here, and
	// planned for the table as it is now: a plan cached while the table was
	// small (a fresh install) scans it or walks the webhook's whole history
	// for the few rows asked for, until the next ANALYZE. The lookups are a
	// LATERAL subquery that OFFSET 0 keeps from being flattened, so that no
	// estimate can turn them into a hash of the whole table.
	rows, err := db.Query(ctx, `SELECT found.* FROM unnest($1::text[]) AS want (id), LATERAL (
    SELECT `+columns+`, e.created_at AS event_created_at, d.body IS NOT NULL AS rendered,
        CASE WHEN $2 THEN coalesce(d.body, e.payload)::text END
    FROM /*schema*/sparrow_delivery d JOIN /*schema*/sparrow_event e ON e.id = d.event_id
    WHERE d.id = want.id OFFSET 0
) found`, pgx.QueryExecModeExec, ids, withBodies)
	if err != nil {
		return nil, nil, dbutil.Interpret("load deliveries", err)
	}
	works, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Work, error) {
		var w Work
		var body []byte
		d, err := scan(row, &w.EventCreatedAt, &w.Rendered, &body)
		if err != nil {
			return nil, err
		}
		w.Delivery, w.Body = *d, body
		return &w, nil
	})
	if err != nil {
		return nil, nil, dbutil.Interpret("load deliveries", err)
	}
	works = slices.DeleteFunc(works, func(w *Work) bool { return w.WebhookID != webhookID })
	slices.SortFunc(works, func(a, b *Work) int { return strings.Compare(a.ID, b.ID) })
	return &t, works, nil
}

// LoadBodies reads the bodies of works, their own or their events'
// payloads. A job reads them a few at a time, as it starts their attempts,
// so that the deliveries it carries cost memory only while in flight. Each
// table is read on its own by primary key: a join of the two costs more to
// plan than to run, and these few rows are read thousands of times a second.
func LoadBodies(ctx context.Context, db dbutil.DB, works []*Work) error {
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
	rows, err := db.Query(ctx, query, pgx.QueryExecModeExec, ids) // planned as LoadWork's
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

// Record is an attempt to store with the delivery status it leads to.
type Record struct {
	Attempt Attempt
	// Status is the delivery's status after the attempt.
	Status Status
}

// RecordAttempts stores attempts and moves their deliveries on, in one
// statement for the whole batch. It returns the ids of the deliveries moved:
// a record whose delivery was already past that attempt (a worker re-run
// after a crash) or no longer pending is stored but moves nothing.
func RecordAttempts(ctx context.Context, db dbutil.DB, records []*Record, now time.Time) ([]string, error) {
	n := len(records)
	var (
		deliveryIDs, webhookIDs, classes, messages, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		numbers                                              = make([]int32, n)
		codes                                                = make([]*int32, n)
		started                                              = make([]time.Time, n)
		next                                                 = make([]*time.Time, n)
		durations                                            = make([]int64, n)
		reqHeaders, respHeaders                              = make([]string, n), make([]string, n)
		bodies                                               = make([][]byte, n)
		truncated                                            = make([]bool, n)
	)
	for i, r := range records {
		a := r.Attempt
		deliveryIDs[i], webhookIDs[i], classes[i], messages[i], statuses[i] = a.DeliveryID, a.WebhookID, string(a.ErrorClass), a.Error, string(r.Status)
		numbers[i], started[i], next[i], durations[i] = int32(a.Number), a.StartedAt, nullTime(a.NextAttemptAt), a.Duration.Microseconds()
		if a.StatusCode != 0 {
			code := int32(a.StatusCode)
			codes[i] = &code
		}
		reqHeaders[i], respHeaders[i] = jsonString(a.RequestHeaders), jsonString(a.ResponseHeaders)
		bodies[i], truncated[i] = a.ResponseBody, a.ResponseBodyTruncated
	}
	rows, err := db.Query(ctx, `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::bigint[], $6::int[], $7::text[], $8::text[],
        $9::jsonb[], $10::jsonb[], $11::bytea[], $12::boolean[], $13::timestamptz[], $14::text[])
    AS i (delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
        request_headers, response_headers, response_body, response_body_truncated, next_attempt_at, status)
), attempts AS (
    INSERT INTO /*schema*/sparrow_delivery_attempt (delivery_id, attempt, webhook_id, started_at, duration_us, status_code,
        error_class, error, request_headers, response_headers, response_body, response_body_truncated, next_attempt_at)
    SELECT delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
        request_headers, response_headers, response_body, response_body_truncated, next_attempt_at
    FROM input
    ON CONFLICT (delivery_id, attempt) DO NOTHING
), moving AS (
    -- The deliveries the records move on, looked up and locked one by one
    -- by primary key alone (OFFSET 0 keeps the lookups from being flattened
    -- into a join that hashes every pending delivery, and the conditions
    -- out of them: given the status, a planner that believes few deliveries
    -- pending, as after a VACUUM of a large history, walks the whole index of
    -- pending deliveries for each). Locked, they can't change before the
    -- update below, which therefore needs no conditions of its own; its
    -- join finds each row by primary key (with "id = ANY" of them all, it
    -- looked every one up again for each).
    SELECT i.* FROM input i, LATERAL (
        SELECT d.attempt_count, d.status FROM /*schema*/sparrow_delivery d WHERE d.id = i.delivery_id OFFSET 0 FOR UPDATE
    ) d
    WHERE d.attempt_count = i.attempt - 1 AND d.status IN ('pending', 'retrying')
)
UPDATE /*schema*/sparrow_delivery d
SET status = i.status, attempt_count = i.attempt, next_attempt_at = i.next_attempt_at, last_attempt_at = i.started_at,
    last_status_code = i.status_code, last_error_class = i.error_class, last_error = i.error, updated_at = $15,
    completed_at = CASE WHEN i.status IN ('succeeded', 'failed') THEN $15::timestamptz END
FROM moving i
WHERE d.id = i.delivery_id
RETURNING d.id`,
		// Planned for the table as it is now (see LoadWork), its arrays sent
		// in binary once described: in text, PostgreSQL's parsing of a
		// batch's fourteen arrays costs more than the round trip.
		pgx.QueryExecModeDescribeExec,
		deliveryIDs, numbers, webhookIDs, started, durations, codes, classes, messages,
		reqHeaders, respHeaders, bodies, truncated, next, statuses, now)
	if err != nil {
		return nil, dbutil.Interpret("record attempts", err)
	}
	moved, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return moved, dbutil.Interpret("record attempts", err)
}

// Park makes pending deliveries ids of webhook webhookID wait for its
// resumption, unless the webhook is active again, and returns those it
// parked. It locks the webhook row (FOR SHARE) so that a concurrent resume
// either sees these deliveries parked or happened first and is seen here.
// It must run in a transaction.
func Park(ctx context.Context, tx dbutil.DB, webhookID string, ids []string, now time.Time) ([]string, error) {
	var active bool
	err := tx.QueryRow(ctx, `SELECT state = 'active' AND deleted_at IS NULL FROM /*schema*/sparrow_webhook WHERE id = $1 FOR SHARE`,
		webhookID).Scan(&active)
	if err != nil || active {
		return nil, dbutil.Interpret("park deliveries", err)
	}
	rows, err := tx.Query(ctx, `UPDATE /*schema*/sparrow_delivery SET parked = true, updated_at = $2
WHERE id IN (SELECT unnest($1::text[])) AND status IN ('pending', 'retrying') RETURNING id`, ids, now)
	if err != nil {
		return nil, dbutil.Interpret("park deliveries", err)
	}
	parked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return parked, dbutil.Interpret("park deliveries", err)
}

// Unpark releases up to limit of a webhook's waiting deliveries and returns
// them, for the caller to give them jobs in the same transaction.
func Unpark(ctx context.Context, db dbutil.DB, webhookID string, limit int, now time.Time) ([]Ref, error) {
	rows, err := db.Query(ctx, `
UPDATE /*schema*/sparrow_delivery SET parked = false, next_attempt_at = $3, updated_at = $3
WHERE id IN (
    SELECT id FROM /*schema*/sparrow_delivery
    WHERE webhook_id = $1 AND status IN ('pending', 'retrying') AND parked
    LIMIT $2 FOR UPDATE SKIP LOCKED -- no ORDER BY: it would tempt the planner to walk the webhook's history
)
RETURNING id, webhook_id, attempt_count`, webhookID, limit, now)
	if err != nil {
		return nil, dbutil.Interpret("unpark deliveries", err)
	}
	unparked, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Ref])
	return unparked, dbutil.Interpret("unpark deliveries", err)
}

// Finish ends pending deliveries ids without an attempt, expired or
// cancelled, and returns those that were still pending.
func Finish(ctx context.Context, db dbutil.DB, ids []string, status Status, now time.Time) ([]string, error) {
	rows, err := db.Query(ctx, `UPDATE /*schema*/sparrow_delivery
SET status = $2, parked = false, next_attempt_at = NULL, updated_at = $3, completed_at = $3
WHERE id IN (SELECT unnest($1::text[])) AND status IN ('pending', 'retrying') RETURNING id`, ids, string(status), now)
	if err != nil {
		return nil, dbutil.Interpret("finish deliveries", err)
	}
	finished, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return finished, dbutil.Interpret("finish deliveries", err)
}

// CancelPending cancels every pending delivery of a webhook.
func CancelPending(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_delivery
SET status = 'cancelled', parked = false, next_attempt_at = NULL, updated_at = $2, completed_at = $2
WHERE webhook_id = $1 AND status IN ('pending', 'retrying')`, webhookID, now)
	return tag.RowsAffected(), dbutil.Interpret("cancel deliveries", err)
}

// retrySet is the SET clause that gives a finished delivery a fresh run:
// the webhook's attempt limit again from here, no expiry (a person asked),
// due now.
const retrySet = `SET status = CASE WHEN d.attempt_count > 0 THEN 'retrying' ELSE 'pending' END,
    max_attempts = d.attempt_count + w.max_attempts, expires_at = NULL, parked = false,
    next_attempt_at = $3, completed_at = NULL, updated_at = $3`

// Retry gives delivery id a fresh run if it has finished, and reports
// whether it did; a delivery still pending is left as it is. A delivery of a
// deleted webhook cannot be retried.
func Retry(ctx context.Context, db dbutil.DB, namespace, id string, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_delivery d `+retrySet+`
FROM /*schema*/sparrow_webhook w
WHERE d.namespace = $1 AND d.id = $2 AND w.id = d.webhook_id AND w.deleted_at IS NULL
  AND d.status NOT IN ('pending', 'retrying')`, namespace, id, now)
	if err != nil {
		return false, dbutil.Interpret("retry delivery", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var status Status
	var deleted bool
	err = db.QueryRow(ctx, `SELECT d.status, w.deleted_at IS NOT NULL FROM /*schema*/sparrow_delivery d
JOIN /*schema*/sparrow_webhook w ON w.id = d.webhook_id WHERE d.namespace = $1 AND d.id = $2`, namespace, id).Scan(&status, &deleted)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, errs.NotFound("delivery", id)
	case err != nil:
		return false, dbutil.Interpret("retry delivery", err)
	case deleted:
		return false, errs.FailedPrecondition("delivery %s belongs to a deleted webhook", id)
	}
	return false, nil
}

// RetryFailed gives a fresh run to a webhook's failed and expired
// deliveries that finished at or after since, and returns them.
func RetryFailed(ctx context.Context, db dbutil.DB, webhookID string, since, now time.Time) ([]Ref, error) {
	rows, err := db.Query(ctx, `UPDATE /*schema*/sparrow_delivery d `+retrySet+`
FROM /*schema*/sparrow_webhook w
WHERE d.webhook_id = $1 AND w.id = d.webhook_id AND w.deleted_at IS NULL
  AND d.status IN ('failed', 'expired') AND d.completed_at >= $2
RETURNING d.id, d.webhook_id, d.attempt_count`, webhookID, since, now)
	if err != nil {
		return nil, dbutil.Interpret("retry failed deliveries", err)
	}
	retried, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Ref])
	return retried, dbutil.Interpret("retry failed deliveries", err)
}

// jsonString encodes m as a JSON object, by hand: encoding/json reflects
// over the map and sorts its keys, two and a half times the time and ten
// times the allocations for an attempt's headers (BenchmarkJSONString), and
// jsonb keeps the same value either way.
func jsonString(m map[string]string) string {
	b := make([]byte, 0, 2+64*len(m))
	b = append(b, '{')
	for k, v := range m {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = appendJSONString(b, v)
	}
	return string(append(b, '}'))
}

// appendJSONString appends s as a JSON string, invalid UTF-8 replaced by
// U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // of the bytes not appended yet, which need no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Prune deletes up to limit deliveries of ns that finished before cutoff,
// with their attempts, oldest first, and returns how many. Rows another
// transaction holds (a retry being asked for) are skipped, not waited for.
func Prune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
WITH doomed AS (
    SELECT id FROM /*schema*/sparrow_delivery
    WHERE `+dbutil.NamespacesWhere("namespace")+` AND completed_at < $3
      AND status IN ('succeeded', 'failed', 'expired', 'cancelled')
    ORDER BY completed_at LIMIT $4 FOR UPDATE SKIP LOCKED
), attempts AS (
    DELETE FROM /*schema*/sparrow_delivery_attempt a USING doomed WHERE a.delivery_id = doomed.id
)
DELETE FROM /*schema*/sparrow_delivery d USING doomed WHERE d.id = doomed.id`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected(), dbutil.Interpret("prune deliveries", err)
}
