package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/webhook"
)

const recoveryColumns = `r.id, r.namespace, r.webhook_id, r.since, r.until, r.status, r.error,
    coalesce(r.total, 0), r.done, r.resent, r.created_at, r.updated_at`

func scanRecovery(row pgx.Row) (*webhook.Recovery, error) {
	var r webhook.Recovery
	var until *time.Time
	err := row.Scan(&r.ID, &r.Namespace, &r.WebhookID, &r.Since, &until, &r.Status, &r.Error,
		&r.Total, &r.Done, &r.Resent, &r.CreatedAt, &r.UpdatedAt)
	r.Until = deref(until)
	return &r, err
}

// RecoveryInsert stores a new running recovery of the event types its
// webhook has active subscriptions to, unless one of the same webhook and
// range runs: then it returns that one and created is false.
func RecoveryInsert(ctx context.Context, db dbutil.DB, r *webhook.Recovery) (stored *webhook.Recovery, created bool, err error) {
	// A running one may finish between the insert that finds it and the
	// read: then the insert is tried again, and succeeds.
	for range 3 {
		tag, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_recovery (id, namespace, webhook_id, event_names, since, until, status, created_at, updated_at)
VALUES ($1, $2, $3, ARRAY(SELECT s.event_name FROM /*schema*/sparrow_subscription s WHERE s.webhook_id = $3 AND s.active ORDER BY s.event_name),
    $4, $5, 'running', $6, $6)
ON CONFLICT (webhook_id, since, coalesce(until, 'infinity'::timestamptz)) WHERE status = 'running' DO NOTHING`,
			r.ID, r.Namespace, r.WebhookID, r.Since, nullTime(r.Until), r.CreatedAt)
		if err != nil {
			return nil, false, dbutil.Interpret("insert recovery", err)
		}
		if tag.RowsAffected() == 1 {
			stored, err := RecoveryGet(ctx, db, r.Namespace, r.ID)
			return stored, true, err
		}
		running, err := scanRecovery(db.QueryRow(ctx, "SELECT "+recoveryColumns+` FROM /*schema*/sparrow_recovery r
WHERE r.webhook_id = $1 AND r.since = $2 AND coalesce(r.until, 'infinity'::timestamptz) = coalesce($3, 'infinity'::timestamptz)
  AND r.status = 'running'`, r.WebhookID, r.Since, nullTime(r.Until)))
		if !errors.Is(err, pgx.ErrNoRows) {
			return running, false, dbutil.Interpret("get running recovery", err)
		}
	}
	return nil, false, errors.New("insert recovery: a running recovery of the same range kept appearing and finishing")
}

// RecoveryGet returns recovery id of namespace.
func RecoveryGet(ctx context.Context, db dbutil.DB, namespace, id string) (*webhook.Recovery, error) {
	return scanOne(scanRecovery, "recovery", db.QueryRow(ctx, "SELECT "+recoveryColumns+
		" FROM /*schema*/sparrow_recovery r WHERE r.namespace = $1 AND r.id = $2", namespace, id), "get recovery", id)
}

// RecoveryListParams selects a page of a namespace's recoveries, newest
// first.
type RecoveryListParams struct {
	Namespace string
	// WebhookID, when set, keeps that webhook's recoveries.
	WebhookID string
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// RecoveryList returns a page of recoveries and whether more follow.
func RecoveryList(ctx context.Context, db dbutil.DB, p RecoveryListParams) ([]webhook.Recovery, bool, error) {
	return collectPage(scanRecovery, p.Limit, "list recoveries")(db.Query(ctx, "SELECT "+recoveryColumns+` FROM /*schema*/sparrow_recovery r
WHERE r.namespace = $1 AND ($2 = '' OR r.webhook_id = $2) AND ($3 = '' OR r.id < $3)
ORDER BY r.id DESC LIMIT $4`, p.Namespace, p.WebhookID, p.Before, p.Limit+1))
}

// RecoveryCancel stops recovery id of namespace if it runs, and returns it.
// A cancelled one is returned as it is; one that has ended otherwise is
// refused with a FailedPrecondition.
func RecoveryCancel(ctx context.Context, db dbutil.DB, namespace, id string, now time.Time) (*webhook.Recovery, error) {
	r, err := scanRecovery(db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_recovery r SET status = 'cancelled', updated_at = $3
WHERE r.namespace = $1 AND r.id = $2 AND r.status = 'running'
RETURNING `+recoveryColumns, namespace, id, now))
	if !errors.Is(err, pgx.ErrNoRows) {
		return r, dbutil.Interpret("cancel recovery", err)
	}
	if r, err = RecoveryGet(ctx, db, namespace, id); err != nil {
		return nil, err
	}
	if r.Status != webhook.RecoveryCancelled {
		return nil, errs.FailedPrecondition("recovery %s has %s: only a running recovery can be cancelled", id, r.Status)
	}
	return r, nil
}

// RecoveryWork is a running recovery as its next batch needs it.
type RecoveryWork struct {
	webhook.Recovery
	// EventNames are the event types it considers.
	EventNames []string
	// Counted is whether Total has been counted.
	Counted bool
	// Batches is the number of batches done.
	Batches int
	// CursorAt and CursorID are the last event considered (zero before the
	// first): the next batch starts after it.
	CursorAt time.Time
	CursorID string
}

// RecoveryLock returns recovery id, locked until the transaction ends, if
// it runs; nil otherwise. The running recoveries of its webhook are locked
// with it, so that the batches of two recoveries of one webhook over
// overlapping ranges run one after the other, and neither re-sends what the
// other just re-sent.
func RecoveryLock(ctx context.Context, db dbutil.DB, id string) (*RecoveryWork, error) {
	rows, err := db.Query(ctx, "SELECT "+recoveryColumns+`, r.event_names, r.total IS NOT NULL, r.batches, r.cursor_at, r.cursor_id
FROM /*schema*/sparrow_recovery r
WHERE r.status = 'running'
  AND r.webhook_id = (SELECT webhook_id FROM /*schema*/sparrow_recovery WHERE id = $1)
ORDER BY r.id
FOR UPDATE`, id)
	if err != nil {
		return nil, dbutil.Interpret("lock recovery", err)
	}
	locked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*RecoveryWork, error) {
		var w RecoveryWork
		var until, cursorAt *time.Time
		err := row.Scan(&w.ID, &w.Namespace, &w.WebhookID, &w.Since, &until, &w.Status, &w.Error,
			&w.Total, &w.Done, &w.Resent, &w.CreatedAt, &w.UpdatedAt,
			&w.EventNames, &w.Counted, &w.Batches, &cursorAt, &w.CursorID)
		w.Until, w.CursorAt = deref(until), deref(cursorAt)
		return &w, err
	})
	if err != nil {
		return nil, dbutil.Interpret("lock recovery", err)
	}
	for _, w := range locked {
		if w.ID == id {
			return w, nil
		}
	}
	return nil, nil
}

// RecoveryEventsParams selects the next batch of a recovery's events.
type RecoveryEventsParams struct {
	Namespace string
	WebhookID string
	Names     []string
	// From is the push time the batch starts at: the recovery's Since, or
	// the last event considered (then AfterID is its id, and the events
	// pushed at From come after it by id).
	From    time.Time
	AfterID string
	// Until is the end of the recovery's range, excluded.
	Until time.Time
	Limit int
	// Now is when unexpired events are judged.
	Now time.Time
}

// RecoveryEvent is an event a recovery considers.
type RecoveryEvent struct {
	// Event has its payload only when Missed.
	Event *event.Event
	// FannedOut is whether the event's first fan-out has made its
	// deliveries: until then, whether the webhook has one is not known.
	FannedOut bool
	// Missed is whether the webhook is to have the event again: it has no
	// delivery of it that succeeded or is under way (pending or retrying,
	// waiting included), and the event has not expired.
	Missed bool
}

// RecoveryEvents returns the next events of a recovery, oldest first by
// (created_at, id). One statement sees them and the webhook's deliveries at
// one instant: a fan-out is either wholly seen or not at all. The plain
// bound on created_at, beside the row comparison, starts the scan of the
// events' created_at index at the cursor rather than at Since.
func RecoveryEvents(ctx context.Context, db dbutil.DB, p RecoveryEventsParams) ([]RecoveryEvent, error) {
	rows, err := db.Query(ctx, "SELECT "+eventColumns+`, CASE WHEN x.missed THEN e.payload::text END, x.fanned_out, x.missed
FROM /*schema*/sparrow_event e, LATERAL (
    SELECT EXISTS (SELECT FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id)
             AND NOT EXISTS (SELECT FROM /*schema*/sparrow_ordering_deferred o WHERE o.event_id = e.id) AS fanned_out,
           NOT EXISTS (SELECT FROM /*schema*/sparrow_delivery d
                       WHERE d.event_id = e.id AND d.webhook_id = $3 AND d.status IN ('pending', 'retrying', 'succeeded'))
             AND (e.expires_at IS NULL OR e.expires_at > $8) AS missed
) x
WHERE e.namespace = $1 AND e.name = ANY($2)
  AND e.created_at >= $4 AND e.created_at < $6 AND (e.created_at, e.id) > ($4, $5)
ORDER BY e.created_at, e.id
LIMIT $7`, p.Namespace, p.Names, p.WebhookID, p.From, p.AfterID, p.Until, p.Limit, p.Now)
	if err != nil {
		return nil, dbutil.Interpret("recovery events", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RecoveryEvent, error) {
		var re RecoveryEvent
		var payload *string
		ev, err := scanEvent(row, nil, &payload, &re.FannedOut, &re.Missed)
		if payload != nil {
			ev.Payload = json.RawMessage(*payload)
		}
		re.Event = ev
		return re, err
	})
	return evs, dbutil.Interpret("recovery events", err)
}

// RecoveryCount counts the events of names pushed in [since, until) in
// namespace.
func RecoveryCount(ctx context.Context, db dbutil.DB, namespace string, names []string, since, until time.Time) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM /*schema*/sparrow_event
WHERE namespace = $1 AND name = ANY($2) AND created_at >= $3 AND created_at < $4`, namespace, names, since, until).Scan(&n)
	return n, dbutil.Interpret("count recovery events", err)
}

// RecoveryProgress is what one batch of a recovery did.
type RecoveryProgress struct {
	// Total, when not nil, is the count of events to consider.
	Total *int64
	// Done and Resent are added to the recovery's.
	Done, Resent int64
	// CursorAt and CursorID are the last event considered; zero leaves the
	// cursor where it was.
	CursorAt time.Time
	CursorID string
	// Status is the recovery's from now on, with Error when failed.
	Status webhook.RecoveryStatus
	Error  string
}

// RecoveryAdvance records a batch of recovery id: one more batch done.
func RecoveryAdvance(ctx context.Context, db dbutil.DB, id string, p RecoveryProgress, now time.Time) error {
	_, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_recovery
SET total = coalesce($2, total), done = done + $3, resent = resent + $4,
    cursor_at = coalesce($5, cursor_at), cursor_id = CASE WHEN $5::timestamptz IS NULL THEN cursor_id ELSE $6 END,
    status = $7, error = $8, batches = batches + 1, updated_at = $9
WHERE id = $1`, id, p.Total, p.Done, p.Resent, nullTime(p.CursorAt), p.CursorID, string(p.Status), p.Error, now)
	return dbutil.Interpret("advance recovery", err)
}

// RecoveryPrune deletes up to limit recoveries of ns that ended before
// cutoff, oldest first, and returns how many.
func RecoveryPrune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
DELETE FROM /*schema*/sparrow_recovery WHERE id IN (
    SELECT r.id FROM /*schema*/sparrow_recovery r
    WHERE `+dbutil.NamespacesWhere("r.namespace")+` AND r.status <> 'running' AND r.updated_at < $3
    ORDER BY r.updated_at LIMIT $4 FOR UPDATE SKIP LOCKED
)`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected(), dbutil.Interpret("prune recoveries", err)
}
