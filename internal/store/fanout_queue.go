package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// QueuedEvent is an event taken from the fan-out queue.
type QueuedEvent struct {
	*event.Event
	// TraceContext is the push's trace context as job metadata, or nil.
	TraceContext []byte
}

// EventTakeQueued takes up to limit events from the fan-out queue, oldest first,
// passing over rows other transactions hold: it deletes their queue rows,
// claims their first fan-out round and returns them, payloads included.
// Rolled back, the events are queued again. Fewer than limit events means
// the queue held no more that this transaction could take.
func EventTakeQueued(ctx context.Context, db dbutil.DB, limit int, now time.Time) ([]QueuedEvent, error) {
	rows, err := db.Query(ctx, `
WITH taken AS (
    DELETE FROM /*schema*/sparrow_fanout_queue WHERE event_id IN (
        SELECT event_id FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT $1 FOR UPDATE SKIP LOCKED
    )
    RETURNING event_id, trace_context
), claimed AS (
    -- Looked up by primary key whatever the planner estimates (see
    -- ClaimFanout).
    INSERT INTO /*schema*/sparrow_event_fanout (event_id, round, at)
    SELECT event_id, 0, $2 FROM taken
    WHERE EXISTS (SELECT FROM /*schema*/sparrow_event e WHERE e.id = taken.event_id OFFSET 0)
    ON CONFLICT DO NOTHING
    RETURNING event_id
)
SELECT found.*, taken.trace_context::text FROM claimed JOIN taken USING (event_id), LATERAL (
    SELECT `+eventColumns+`, payload FROM /*schema*/sparrow_event WHERE id = claimed.event_id OFFSET 0
) found
ORDER BY found.id`,
		pgx.QueryExecModeExec, limit, now) // planned for the queue as it is now
	if err != nil {
		return nil, dbutil.Interpret("take queued events", err)
	}
	queued, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (QueuedEvent, error) {
		var payload json.RawMessage
		var traceContext *string
		ev, err := scanEvent(row, &payload, &traceContext)
		q := QueuedEvent{Event: ev}
		if traceContext != nil {
			q.TraceContext = []byte(*traceContext)
		}
		return q, err
	})
	return queued, dbutil.Interpret("take queued events", err)
}

// FanoutQueueDequeueOldest deletes the fan-out queue's oldest row that no other
// transaction holds and returns its event's id, "" if there is none: the
// fan-out of an event that fails alone is handed to a River job.
func FanoutQueueDequeueOldest(ctx context.Context, db dbutil.DB) (string, error) {
	var id string
	err := db.QueryRow(ctx, `
DELETE FROM /*schema*/sparrow_fanout_queue WHERE event_id = (
    SELECT event_id FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING event_id`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, dbutil.Interpret("dequeue event", err)
}

// FanoutQueueOldest returns the id of the event that has waited longest in the
// fan-out queue, or "" when it is empty.
func FanoutQueueOldest(ctx context.Context, db dbutil.DB) (string, error) {
	var id string
	err := db.QueryRow(ctx, "SELECT event_id FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT 1").Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, dbutil.Interpret("peek fan-out queue", err)
}
