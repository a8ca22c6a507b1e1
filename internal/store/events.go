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
)

// ErrStaleEventType is returned by EventInsert when the event type changed since the
// version the caller validated the payload against: reload it and retry.
var ErrStaleEventType = errors.New("event type changed")

// EventInsert stores ev, unless the namespace already holds an event with its
// idempotency key: then it returns that event and created is false. It
// refuses an unregistered or inactive type, and returns ErrStaleType unless
// the type is still at typeVersion (its UpdatedAt), the version whose schema
// the caller checked the payload with. A new event also enters the fan-out
// queue (see EventTakeQueued), carrying traceContext (job metadata, or nil). The
// checks and the inserts are one statement, so a push costs one round trip;
// only a push that inserts nothing looks up why.
func EventInsert(ctx context.Context, db dbutil.DB, ev *event.Event, typeVersion time.Time, traceContext []byte) (stored *event.Event, created bool, err error) {
	// Without a key there is no conflict to resolve, and a plain insert
	// spares PostgreSQL the speculative one of ON CONFLICT.
	onConflict := ""
	var key *string
	if ev.IdempotencyKey != "" {
		onConflict = "ON CONFLICT (namespace, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
		key = &ev.IdempotencyKey
	}
	// An ordering key numbers the event (see sparrow_ordering_push); a
	// number spent on an event not inserted leaves a gap, which is harmless.
	numbered, seq := "", "NULL::bigint"
	if ev.OrderingKey != "" {
		numbered = `numbered AS (` + orderingNumber + `),`
		seq = "(SELECT pushed FROM numbered)"
	}
	tag, err := db.Exec(ctx, `
WITH `+numbered+` inserted AS (
    INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at, ordering_key, ordering_seq)
    SELECT $1, $2, t.name, $4::json, $5::jsonb, $6, $7, $8, $11, `+seq+`
    FROM /*schema*/sparrow_event_type t WHERE t.name = $3 AND t.active AND t.updated_at = $9
    `+onConflict+`
    RETURNING id
)
INSERT INTO /*schema*/sparrow_fanout_queue (event_id, trace_context, queued_at)
SELECT id, $10::jsonb, $7 FROM inserted`,
		ev.ID, ev.Namespace, ev.Name, []byte(ev.Payload), emptyIfNil(ev.Labels), key,
		ev.CreatedAt, nullTime(ev.ExpiresAt), typeVersion, nullJSON(traceContext), nullString(ev.OrderingKey))
	if err != nil {
		return nil, false, dbutil.Interpret("insert event", err)
	}
	if tag.RowsAffected() == 1 {
		return ev, true, nil
	}
	existing, err := eventNotInserted(ctx, db, ev, typeVersion)
	return existing, false, err
}

// eventNotInserted says why ev, checked against its type at typeVersion,
// was not inserted: its type is missing, inactive or changed
// (ErrStaleEventType), or its idempotency key is taken, by the event
// returned.
func eventNotInserted(ctx context.Context, db dbutil.DB, ev *event.Event, typeVersion time.Time) (*event.Event, error) {
	t, err := EventTypeGet(ctx, db, ev.Name)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return nil, errs.InvalidArgument("event", "event type %q is not registered", ev.Name)
	case err != nil:
		return nil, err
	case !t.Active:
		return nil, errs.FailedPrecondition("event type %q is inactive", ev.Name)
	case !t.UpdatedAt.Equal(typeVersion), ev.IdempotencyKey == "":
		// Changed since, or between the insert and this look: try again.
		return nil, ErrStaleEventType
	}
	return eventGetByIdempotencyKey(ctx, db, ev.Namespace, ev.IdempotencyKey)
}

// GroupedEvent is one event of a group insert (EventInsertGroup): what
// EventInsert takes, and, once inserted, what it returns.
type GroupedEvent struct {
	Event        *event.Event
	TypeVersion  time.Time
	TraceContext []byte
	// Stored is the event stored, Event itself or the one holding its
	// idempotency key; Created says which. Err is why this event alone
	// was refused: EventInsert's errors.
	Stored  *event.Event
	Created bool
	Err     error
}

// EventInsertGroup is EventInsert for events pushed apart and committed
// together: each gets EventInsert's result in its own fields, and one
// refused fails only itself. The first of two events with one idempotency
// key stores it, and the second gets the first. With retried, events
// stored already by id count as created: they were, by an earlier try of
// this group whose commit looked failed but was not. Without ordering
// keys the group's writes are one statement, so db need not be a
// transaction.
func EventInsertGroup(ctx context.Context, db dbutil.DB, group []*GroupedEvent, retried bool) error {
	var stored map[string]bool
	if retried {
		ids := make([]string, len(group))
		for i, g := range group {
			ids[i] = g.Event.ID
		}
		rows, err := db.Query(ctx, `SELECT id FROM /*schema*/sparrow_event WHERE id = ANY($1)`, ids)
		if err != nil {
			return dbutil.Interpret("find events", err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return dbutil.Interpret("find events", err)
		}
		stored = make(map[string]bool, len(found))
		for _, id := range found {
			stored[id] = true
		}
	}
	var evs []*event.Event
	var versions []time.Time
	var traces []*string
	keyed := false
	for _, g := range group {
		g.Stored, g.Created, g.Err = nil, false, nil
		if stored[g.Event.ID] {
			g.Stored, g.Created = g.Event, true
			continue
		}
		evs, versions = append(evs, g.Event), append(versions, g.TypeVersion)
		var trace *string
		if len(g.TraceContext) > 0 {
			trace = new(string(g.TraceContext))
		}
		traces = append(traces, trace)
		keyed = keyed || g.Event.IdempotencyKey != ""
	}
	if len(evs) == 0 {
		return nil
	}
	seqCol, err := orderingNumberMany(ctx, db, evs)
	if err != nil {
		return err
	}
	c := eventArraysOf(evs)
	// As in EventInsert, no speculative insert unless a key can conflict.
	onConflict := ""
	if keyed {
		onConflict = "ON CONFLICT (namespace, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
	}
	rows, err := db.Query(ctx, `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
        $8::timestamptz[], $9::text[], $10::bigint[], $11::timestamptz[], $12::text[]) WITH ORDINALITY
    AS input (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at, ordering_key, ordering_seq, type_version, trace_context, n)
), inserted AS (
    INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at, ordering_key, ordering_seq)
    SELECT i.id, i.namespace, t.name, i.payload::json, i.labels::jsonb, nullif(i.idempotency_key, ''), i.created_at, i.expires_at,
        nullif(i.ordering_key, ''), i.ordering_seq
    FROM input i JOIN /*schema*/sparrow_event_type t ON t.name = i.name AND t.active AND t.updated_at = i.type_version
    ORDER BY i.n -- the first of a repeated idempotency key stores it
    `+onConflict+`
    RETURNING id
)
INSERT INTO /*schema*/sparrow_fanout_queue (event_id, trace_context, queued_at)
SELECT i.id, i.trace_context::jsonb, i.created_at FROM inserted JOIN input i USING (id)
RETURNING event_id`, c.id, c.namespace, c.name, c.payload, c.labels, c.key, c.created, c.expires, c.orderingKey, seqCol, versions, traces)
	if err != nil {
		return dbutil.Interpret("insert events", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbutil.Interpret("insert events", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	for _, g := range group {
		if g.Created {
			continue
		}
		if isNew[g.Event.ID] {
			g.Stored, g.Created = g.Event, true
			continue
		}
		var err error
		g.Stored, err = eventNotInserted(ctx, db, g.Event, g.TypeVersion)
		if err != nil && !errors.Is(err, errs.ErrInvalidArgument) && !errors.Is(err, errs.ErrFailedPrecondition) &&
			!errors.Is(err, ErrStaleEventType) {
			return err
		}
		g.Err = err
	}
	return nil
}

// eventArrays are events' fields as arrays, for unnest.
type eventArrays struct {
	id, namespace, name, key, payload, labels, orderingKey []string
	created                                                []time.Time
	expires                                                []*time.Time
}

func eventArraysOf(evs []*event.Event) eventArrays {
	n := len(evs)
	c := eventArrays{
		id: make([]string, n), namespace: make([]string, n), name: make([]string, n), key: make([]string, n),
		payload: make([]string, n), labels: make([]string, n), orderingKey: make([]string, n),
		created: make([]time.Time, n), expires: make([]*time.Time, n),
	}
	for i, ev := range evs {
		labels, _ := json.Marshal(emptyIfNil(ev.Labels))
		c.id[i], c.namespace[i], c.name[i], c.key[i] = ev.ID, ev.Namespace, ev.Name, ev.IdempotencyKey
		c.payload[i], c.labels[i], c.orderingKey[i] = string(ev.Payload), string(labels), ev.OrderingKey
		c.created[i], c.expires[i] = ev.CreatedAt, nullTime(ev.ExpiresAt)
	}
	return c
}

// EventInsertMany stores a batch of events in one statement, with EventInsert's
// idempotency rule per event. It returns, in input order, the stored events
// and which of them are new. Callers check event types first (EventTypeCheck).
func EventInsertMany(ctx context.Context, db dbutil.DB, evs []*event.Event) ([]*event.Event, []bool, error) {
	c := eventArraysOf(evs)
	seqCol, err := orderingNumberMany(ctx, db, evs)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Query(ctx, `
INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at, ordering_key, ordering_seq)
SELECT id, namespace, name, payload::json, labels::jsonb, nullif(idempotency_key, ''), created_at, expires_at, nullif(ordering_key, ''), ordering_seq
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::bigint[])
    AS input (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at, ordering_key, ordering_seq)
ON CONFLICT (namespace, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id`, c.id, c.namespace, c.name, c.payload, c.labels, c.key, c.created, c.expires, c.orderingKey, seqCol)
	if err != nil {
		return nil, nil, dbutil.Interpret("insert events", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, dbutil.Interpret("insert events", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	stored, created := make([]*event.Event, len(evs)), make([]bool, len(evs))
	for i, ev := range evs {
		stored[i], created[i] = ev, isNew[ev.ID]
		if created[i] {
			continue
		}
		// A repeated key, either already stored or earlier in this batch.
		if stored[i], err = eventGetByIdempotencyKey(ctx, db, ev.Namespace, ev.IdempotencyKey); err != nil {
			return nil, nil, err
		}
	}
	return stored, created, nil
}

const eventColumns = "id, namespace, name, labels, coalesce(idempotency_key, ''), created_at, expires_at, coalesce(ordering_key, '')"

// scanEvent scans eventColumns, then the payload when asked for, then the
// columns after them into more.
func scanEvent(row pgx.Row, payload *json.RawMessage, more ...any) (*event.Event, error) {
	var ev event.Event
	var expires *time.Time
	// Bytes, not a json.RawMessage: pgx would pass the payload through
	// json.Unmarshal, re-checking JSON that was checked when pushed.
	var raw []byte
	dest := []any{&ev.ID, &ev.Namespace, &ev.Name, &ev.Labels, &ev.IdempotencyKey, &ev.CreatedAt, &expires, &ev.OrderingKey}
	if payload != nil {
		dest = append(dest, &raw)
	}
	dest = append(dest, more...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if expires != nil {
		ev.ExpiresAt = *expires
	}
	if payload != nil {
		*payload = raw
		ev.Payload = raw
	}
	return &ev, nil
}

// scanEventHead scans eventColumns alone, without the payload.
func scanEventHead(row pgx.Row) (*event.Event, error) { return scanEvent(row, nil) }

// EventGet returns the event id in namespace, payload included.
func EventGet(ctx context.Context, db dbutil.DB, namespace, id string) (*event.Event, error) {
	var payload json.RawMessage
	ev, err := scanEvent(db.QueryRow(ctx, "SELECT "+eventColumns+", payload FROM /*schema*/sparrow_event WHERE namespace = $1 AND id = $2",
		namespace, id), &payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event", id)
	}
	return ev, dbutil.Interpret("get event", err)
}

func eventGetByIdempotencyKey(ctx context.Context, db dbutil.DB, namespace, key string) (*event.Event, error) {
	var payload json.RawMessage
	ev, err := scanEvent(db.QueryRow(ctx, "SELECT "+eventColumns+", payload FROM /*schema*/sparrow_event WHERE namespace = $1 AND idempotency_key = $2",
		namespace, key), &payload)
	return ev, dbutil.Interpret("get event by idempotency key", err)
}

// EventListParams selects a page of a namespace's events, newest first.
type EventListParams struct {
	Namespace string
	// Name, when set, keeps events of that type only.
	Name string
	// Since and Until, when set, bound the creation time: [Since, Until).
	Since time.Time
	Until time.Time
	// HideSystem leaves out Sparrow's own events (event.SystemPrefix).
	HideSystem bool
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// EventList returns a page of events without their payloads, and whether more
// follow.
func EventList(ctx context.Context, db dbutil.DB, p EventListParams) ([]event.Event, bool, error) {
	return collectPage(scanEventHead, p.Limit, "list events")(db.Query(ctx, "SELECT "+eventColumns+` FROM /*schema*/sparrow_event
WHERE namespace = $1
  AND ($2 = '' OR name = $2)
  AND ($3 = '' OR id < $3)
  AND ($4::timestamptz IS NULL OR created_at >= $4)
  AND ($5::timestamptz IS NULL OR created_at < $5)
  AND NOT ($7 AND starts_with(name, $8))
ORDER BY id DESC LIMIT $6`, p.Namespace, p.Name, p.Before, nullTime(p.Since), nullTime(p.Until), p.Limit+1, p.HideSystem, event.SystemPrefix))
}

// EventNextRound returns the fan-out round a repush of event id takes: the one
// after its last.
func EventNextRound(ctx context.Context, db dbutil.DB, namespace, id string) (int, error) {
	var next int
	err := db.QueryRow(ctx, `
SELECT coalesce((SELECT max(f.round) + 1 FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id), 0)
FROM /*schema*/sparrow_event e WHERE e.namespace = $1 AND e.id = $2`, namespace, id).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errs.NotFound("event", id)
	}
	return next, dbutil.Interpret("get event round", err)
}

// EventClaimFanout claims fan-out round `round` of the events ids and returns
// those events, payloads included. Events that had that round, or a later
// one, are left out: a fan-out River runs twice claims nothing the second
// time.
func EventClaimFanout(ctx context.Context, db dbutil.DB, ids []string, round int, now time.Time) ([]*event.Event, error) {
	// Every lookup by primary key, one per id, whatever the planner
	// estimates (see DeliveryLoadWork): OFFSET 0 keeps each subquery from
	// being flattened into a join that hashes a whole table.
	rows, err := db.Query(ctx, `
WITH claimed AS (
    INSERT INTO /*schema*/sparrow_event_fanout (event_id, round, at)
    SELECT found.id, $2, $3 FROM unnest($1::text[]) AS want (id), LATERAL (
        SELECT e.id FROM /*schema*/sparrow_event e
        WHERE e.id = want.id
          AND NOT EXISTS (SELECT FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id AND f.round >= $2 OFFSET 0)
        OFFSET 0
    ) found
    ON CONFLICT DO NOTHING
    RETURNING event_id
)
SELECT found.* FROM claimed, LATERAL (
    SELECT `+eventColumns+`, payload FROM /*schema*/sparrow_event WHERE id = claimed.event_id OFFSET 0
) found`,
		pgx.QueryExecModeExec, ids, round, now) // planned for the table as it is now
	if err != nil {
		return nil, dbutil.Interpret("claim fan-out", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*event.Event, error) {
		var payload json.RawMessage
		return scanEvent(row, &payload)
	})
	return evs, dbutil.Interpret("claim fan-out", err)
}

// EventPrune deletes up to limit events of ns pushed before cutoff, oldest
// first, and returns how many. An event goes only once fanned out and left
// without deliveries: a delivery still kept needs its event's payload.
func EventPrune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
DELETE FROM /*schema*/sparrow_event WHERE id IN (
    SELECT e.id FROM /*schema*/sparrow_event e
    WHERE `+dbutil.NamespacesWhere("e.namespace")+` AND e.created_at < $3
      AND EXISTS (SELECT 1 FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM /*schema*/sparrow_delivery d WHERE d.event_id = e.id)
    ORDER BY e.created_at LIMIT $4 FOR UPDATE SKIP LOCKED
)`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected(), dbutil.Interpret("prune events", err)
}
