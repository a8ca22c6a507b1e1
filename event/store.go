package event

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
)

// InsertType stores a new event type.
func InsertType(ctx context.Context, db dbutil.DB, t *Type) error {
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_event_type (name, description, active, schema, created_at, updated_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $5)`, t.Name, t.Description, t.Active, nullJSON(t.Schema), t.CreatedAt)
	if dbutil.IsUniqueViolation(err, "") {
		return errs.AlreadyExists("event type %q", t.Name)
	}
	return dbutil.Interpret("insert event type", err)
}

const typeColumns = "name, description, active, schema::text, created_at, updated_at"

func scanType(row pgx.Row) (*Type, error) {
	var t Type
	var schema *string
	err := row.Scan(&t.Name, &t.Description, &t.Active, &schema, &t.CreatedAt, &t.UpdatedAt)
	if schema != nil {
		t.Schema = json.RawMessage(*schema)
	}
	return &t, err
}

// GetType returns the event type name.
func GetType(ctx context.Context, db dbutil.DB, name string) (*Type, error) {
	t, err := scanType(db.QueryRow(ctx, "SELECT "+typeColumns+" FROM /*schema*/sparrow_event_type WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event type", name)
	}
	return t, dbutil.Interpret("get event type", err)
}

// ListTypesParams selects a page of event types, in name order.
type ListTypesParams struct {
	// After is the name the page starts after.
	After      string
	ActiveOnly bool
	Limit      int
}

// ListTypes returns a page of event types and whether more follow.
func ListTypes(ctx context.Context, db dbutil.DB, p ListTypesParams) ([]Type, bool, error) {
	rows, err := db.Query(ctx, "SELECT "+typeColumns+` FROM /*schema*/sparrow_event_type
WHERE name > $1 AND (NOT $2 OR active)
ORDER BY name LIMIT $3`, p.After, p.ActiveOnly, p.Limit+1)
	if err != nil {
		return nil, false, dbutil.Interpret("list event types", err)
	}
	types, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Type, error) {
		t, err := scanType(row)
		return *t, err
	})
	if err != nil {
		return nil, false, dbutil.Interpret("list event types", err)
	}
	more := len(types) > p.Limit
	return types[:min(len(types), p.Limit)], more, nil
}

// TypeUpdate lists the fields of an event type to change; nil leaves a field
// as it is.
type TypeUpdate struct {
	Description *string
	Active      *bool
	// Schema replaces the schema; a pointer to an empty one removes it.
	Schema *json.RawMessage
}

// UpdateType changes an event type and returns it as stored.
func UpdateType(ctx context.Context, db dbutil.DB, name string, u TypeUpdate, now time.Time) (*Type, error) {
	var schema []byte
	if u.Schema != nil {
		schema = nullJSON(*u.Schema)
	}
	t, err := scanType(db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_event_type
SET description = coalesce($2, description), active = coalesce($3, active),
    schema = CASE WHEN $5 THEN $6::jsonb ELSE schema END, updated_at = $4
WHERE name = $1
RETURNING `+typeColumns, name, u.Description, u.Active, now, u.Schema != nil, schema))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event type", name)
	}
	return t, dbutil.Interpret("update event type", err)
}

// ErrStaleType is returned by Insert when the event type changed since the
// version the caller validated the payload against: reload it and retry.
var ErrStaleType = errors.New("event type changed")

// Insert stores ev, unless the namespace already holds an event with its
// idempotency key: then it returns that event and created is false. It
// refuses an unregistered or inactive type, and returns ErrStaleType unless
// the type is still at typeVersion (its UpdatedAt), the version whose schema
// the caller checked the payload with. A new event also enters the fan-out
// queue (see TakeQueued), carrying traceContext (job metadata, or nil). The
// checks and the inserts are one statement, so a push costs one round trip;
// only a push that inserts nothing looks up why.
func Insert(ctx context.Context, db dbutil.DB, ev *Event, typeVersion time.Time, traceContext []byte) (stored *Event, created bool, err error) {
	// Without a key there is no conflict to resolve, and a plain insert
	// spares PostgreSQL the speculative one of ON CONFLICT.
	onConflict := ""
	var key *string
	if ev.IdempotencyKey != "" {
		onConflict = "ON CONFLICT (namespace, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
		key = &ev.IdempotencyKey
	}
	tag, err := db.Exec(ctx, `
WITH inserted AS (
    INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at)
    SELECT $1, $2, t.name, $4::json, $5::jsonb, $6, $7, $8
    FROM /*schema*/sparrow_event_type t WHERE t.name = $3 AND t.active AND t.updated_at = $9
    `+onConflict+`
    RETURNING id
)
INSERT INTO /*schema*/sparrow_fanout_queue (event_id, trace_context, queued_at)
SELECT id, $10::jsonb, $7 FROM inserted`,
		ev.ID, ev.Namespace, ev.Name, []byte(ev.Payload), labelsOrEmpty(ev.Labels), key,
		ev.CreatedAt, nullTime(ev.ExpiresAt), typeVersion, nullJSON(traceContext))
	if err != nil {
		return nil, false, dbutil.Interpret("insert event", err)
	}
	if tag.RowsAffected() == 1 {
		return ev, true, nil
	}
	t, err := GetType(ctx, db, ev.Name)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return nil, false, errs.InvalidArgument("event", "event type %q is not registered", ev.Name)
	case err != nil:
		return nil, false, err
	case !t.Active:
		return nil, false, errs.FailedPrecondition("event type %q is inactive", ev.Name)
	case !t.UpdatedAt.Equal(typeVersion), key == nil:
		// Changed since, or between the insert and this look: try again.
		return nil, false, ErrStaleType
	}
	existing, err := getByIdempotencyKey(ctx, db, ev.Namespace, ev.IdempotencyKey)
	return existing, false, err
}

// InsertMany stores a batch of events in one statement, with Insert's
// idempotency rule per event. It returns, in input order, the stored events
// and which of them are new. Callers check event types first (CheckTypes).
func InsertMany(ctx context.Context, db dbutil.DB, evs []*Event) ([]*Event, []bool, error) {
	n := len(evs)
	var (
		idCol, nsCol, nameCol, keyCol = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		payloadCol, labelsCol         = make([]string, n), make([]string, n)
		createdCol                    = make([]time.Time, n)
		expiresCol                    = make([]*time.Time, n)
	)
	for i, ev := range evs {
		labels, _ := json.Marshal(labelsOrEmpty(ev.Labels))
		idCol[i], nsCol[i], nameCol[i], keyCol[i] = ev.ID, ev.Namespace, ev.Name, ev.IdempotencyKey
		payloadCol[i], labelsCol[i] = string(ev.Payload), string(labels)
		createdCol[i], expiresCol[i] = ev.CreatedAt, nullTime(ev.ExpiresAt)
	}
	rows, err := db.Query(ctx, `
INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at)
SELECT id, namespace, name, payload::json, labels::jsonb, nullif(idempotency_key, ''), created_at, expires_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
    AS input (id, namespace, name, payload, labels, idempotency_key, created_at, expires_at)
ON CONFLICT (namespace, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id`, idCol, nsCol, nameCol, payloadCol, labelsCol, keyCol, createdCol, expiresCol)
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
	stored, created := make([]*Event, n), make([]bool, n)
	for i, ev := range evs {
		stored[i], created[i] = ev, isNew[ev.ID]
		if created[i] {
			continue
		}
		// A repeated key, either already stored or earlier in this batch.
		if stored[i], err = getByIdempotencyKey(ctx, db, ev.Namespace, ev.IdempotencyKey); err != nil {
			return nil, nil, err
		}
	}
	return stored, created, nil
}

// CheckTypes refuses names that are not registered or, with requireActive,
// not active. field names the input holding names[i] in the error. It
// returns the types found, by name.
func CheckTypes(ctx context.Context, db dbutil.DB, names []string, requireActive bool, field func(i int) string) (map[string]*Type, error) {
	rows, err := db.Query(ctx, "SELECT "+typeColumns+" FROM /*schema*/sparrow_event_type WHERE name = ANY($1)", names)
	if err != nil {
		return nil, dbutil.Interpret("check event types", err)
	}
	types, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Type, error) { return scanType(row) })
	if err != nil {
		return nil, dbutil.Interpret("check event types", err)
	}
	byName := make(map[string]*Type, len(types))
	for _, t := range types {
		byName[t.Name] = t
	}
	for i, name := range names {
		t, ok := byName[name]
		switch {
		case !ok:
			return nil, errs.InvalidArgument(field(i), "event type %q is not registered", name)
		case requireActive && !t.Active:
			return nil, errs.FailedPrecondition("%s: event type %q is inactive", field(i), name)
		}
	}
	return byName, nil
}

// ActiveTypes returns which of names are registered and active.
func ActiveTypes(ctx context.Context, db dbutil.DB, names []string) (map[string]bool, error) {
	rows, err := db.Query(ctx, "SELECT name FROM /*schema*/sparrow_event_type WHERE name = ANY($1) AND active", names)
	if err != nil {
		return nil, dbutil.Interpret("active event types", err)
	}
	active, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make(map[string]bool, len(active))
	for _, name := range active {
		out[name] = true
	}
	return out, dbutil.Interpret("active event types", err)
}

const eventColumns = "id, namespace, name, labels, coalesce(idempotency_key, ''), created_at, expires_at"

// scanEvent scans eventColumns, then the payload when asked for, then the
// columns after them into more.
func scanEvent(row pgx.Row, payload *json.RawMessage, more ...any) (*Event, error) {
	var ev Event
	var expires *time.Time
	// Bytes, not a json.RawMessage: pgx would pass the payload through
	// json.Unmarshal, re-checking JSON that was checked when pushed.
	var raw []byte
	dest := []any{&ev.ID, &ev.Namespace, &ev.Name, &ev.Labels, &ev.IdempotencyKey, &ev.CreatedAt, &expires}
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

// Get returns the event id in namespace, payload included.
func Get(ctx context.Context, db dbutil.DB, namespace, id string) (*Event, error) {
	var payload json.RawMessage
	ev, err := scanEvent(db.QueryRow(ctx, "SELECT "+eventColumns+", payload FROM /*schema*/sparrow_event WHERE namespace = $1 AND id = $2",
		namespace, id), &payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event", id)
	}
	return ev, dbutil.Interpret("get event", err)
}

func getByIdempotencyKey(ctx context.Context, db dbutil.DB, namespace, key string) (*Event, error) {
	var payload json.RawMessage
	ev, err := scanEvent(db.QueryRow(ctx, "SELECT "+eventColumns+", payload FROM /*schema*/sparrow_event WHERE namespace = $1 AND idempotency_key = $2",
		namespace, key), &payload)
	return ev, dbutil.Interpret("get event by idempotency key", err)
}

// ListParams selects a page of a namespace's events, newest first.
type ListParams struct {
	Namespace string
	// Name, when set, keeps events of that type only.
	Name string
	// Since and Until, when set, bound the creation time: [Since, Until).
	Since time.Time
	Until time.Time
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// List returns a page of events without their payloads, and whether more
// follow.
func List(ctx context.Context, db dbutil.DB, p ListParams) ([]Event, bool, error) {
	rows, err := db.Query(ctx, "SELECT "+eventColumns+` FROM /*schema*/sparrow_event
WHERE namespace = $1
  AND ($2 = '' OR name = $2)
  AND ($3 = '' OR id < $3)
  AND ($4::timestamptz IS NULL OR created_at >= $4)
  AND ($5::timestamptz IS NULL OR created_at < $5)
ORDER BY id DESC LIMIT $6`, p.Namespace, p.Name, p.Before, nullTime(p.Since), nullTime(p.Until), p.Limit+1)
	if err != nil {
		return nil, false, dbutil.Interpret("list events", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		ev, err := scanEvent(row, nil)
		if err != nil {
			return Event{}, err
		}
		return *ev, nil
	})
	if err != nil {
		return nil, false, dbutil.Interpret("list events", err)
	}
	more := len(evs) > p.Limit
	return evs[:min(len(evs), p.Limit)], more, nil
}

// NextRound returns the fan-out round a repush of event id takes: the one
// after its last.
func NextRound(ctx context.Context, db dbutil.DB, namespace, id string) (int, error) {
	var next int
	err := db.QueryRow(ctx, `
SELECT coalesce((SELECT max(f.round) + 1 FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id), 0)
FROM /*schema*/sparrow_event e WHERE e.namespace = $1 AND e.id = $2`, namespace, id).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errs.NotFound("event", id)
	}
	return next, dbutil.Interpret("get event round", err)
}

// ClaimFanout claims fan-out round `round` of the events ids and returns
// those events, payloads included. Events that had that round, or a later
// one, are left out: a fan-out River runs twice claims nothing the second
// time.
func ClaimFanout(ctx context.Context, db dbutil.DB, ids []string, round int, now time.Time) ([]*Event, error) {
	// Every lookup by primary key, one per id, whatever the planner
	// estimates (see delivery.LoadWork): OFFSET 0 keeps each subquery from
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
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Event, error) {
		var payload json.RawMessage
		return scanEvent(row, &payload)
	})
	return evs, dbutil.Interpret("claim fan-out", err)
}

// Queued is an event taken from the fan-out queue.
type Queued struct {
	*Event
	// TraceContext is the push's trace context as job metadata, or nil.
	TraceContext []byte
}

// TakeQueued takes up to limit events from the fan-out queue, oldest first,
// passing over rows other transactions hold: it deletes their queue rows,
// claims their first fan-out round and returns them, payloads included.
// Rolled back, the events are queued again. Fewer than limit events means
// the queue held no more that this transaction could take.
func TakeQueued(ctx context.Context, db dbutil.DB, limit int, now time.Time) ([]Queued, error) {
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
	queued, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Queued, error) {
		var payload json.RawMessage
		var traceContext *string
		ev, err := scanEvent(row, &payload, &traceContext)
		q := Queued{Event: ev}
		if traceContext != nil {
			q.TraceContext = []byte(*traceContext)
		}
		return q, err
	})
	return queued, dbutil.Interpret("take queued events", err)
}

// DequeueOldest deletes the fan-out queue's oldest row that no other
// transaction holds and returns its event's id, "" if there is none: the
// fan-out of an event that fails alone is handed to a River job.
func DequeueOldest(ctx context.Context, db dbutil.DB) (string, error) {
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

// OldestQueued returns the id of the event that has waited longest in the
// fan-out queue, or "" when it is empty.
func OldestQueued(ctx context.Context, db dbutil.DB) (string, error) {
	var id string
	err := db.QueryRow(ctx, "SELECT event_id FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT 1").Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, dbutil.Interpret("peek fan-out queue", err)
}

// nullJSON returns raw, or nil (SQL NULL) when it is empty.
func nullJSON(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	return raw
}

func labelsOrEmpty(labels map[string]string) map[string]string {
	if labels == nil {
		return map[string]string{}
	}
	return labels
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Prune deletes up to limit events of ns pushed before cutoff, oldest
// first, and returns how many. An event goes only once fanned out and left
// without deliveries: a delivery still kept needs its event's payload.
func Prune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
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
