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

// EventTypeInsert stores a new event type.
func EventTypeInsert(ctx context.Context, db dbutil.DB, t *event.Type) error {
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_event_type (name, description, active, schema, created_at, updated_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $5)`, t.Name, t.Description, t.Active, nullJSON(t.Schema), t.CreatedAt)
	if dbutil.IsUniqueViolation(err, "") {
		return errs.AlreadyExists("event type %q", t.Name)
	}
	return dbutil.Interpret("insert event type", err)
}

const eventTypeColumns = "name, description, active, schema::text, created_at, updated_at"

func scanEventType(row pgx.Row) (*event.Type, error) {
	var t event.Type
	var schema *string
	err := row.Scan(&t.Name, &t.Description, &t.Active, &schema, &t.CreatedAt, &t.UpdatedAt)
	if schema != nil {
		t.Schema = json.RawMessage(*schema)
	}
	return &t, err
}

// EventTypeGet returns the event type name.
func EventTypeGet(ctx context.Context, db dbutil.DB, name string) (*event.Type, error) {
	t, err := scanEventType(db.QueryRow(ctx, "SELECT "+eventTypeColumns+" FROM /*schema*/sparrow_event_type WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event type", name)
	}
	return t, dbutil.Interpret("get event type", err)
}

// EventTypeListParams selects a page of event types, in name order.
type EventTypeListParams struct {
	// After is the name the page starts after.
	After      string
	ActiveOnly bool
	Limit      int
}

// EventTypeList returns a page of event types and whether more follow.
func EventTypeList(ctx context.Context, db dbutil.DB, p EventTypeListParams) ([]event.Type, bool, error) {
	return collectPage(scanEventType, p.Limit, "list event types")(db.Query(ctx, "SELECT "+eventTypeColumns+` FROM /*schema*/sparrow_event_type
WHERE name > $1 AND (NOT $2 OR active)
ORDER BY name LIMIT $3`, p.After, p.ActiveOnly, p.Limit+1))
}

// EventTypeUpdateParams lists the fields of an event type to change; nil leaves a field
// as it is.
type EventTypeUpdateParams struct {
	Description *string
	Active      *bool
	// Schema replaces the schema; a pointer to an empty one removes it.
	Schema *json.RawMessage
}

// EventTypeUpdate changes an event type and returns it as stored.
func EventTypeUpdate(ctx context.Context, db dbutil.DB, name string, u EventTypeUpdateParams, now time.Time) (*event.Type, error) {
	var schema []byte
	if u.Schema != nil {
		schema = nullJSON(*u.Schema)
	}
	t, err := scanEventType(db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_event_type
SET description = coalesce($2, description), active = coalesce($3, active),
    schema = CASE WHEN $5 THEN $6::jsonb ELSE schema END, updated_at = $4
WHERE name = $1
RETURNING `+eventTypeColumns, name, u.Description, u.Active, now, u.Schema != nil, schema))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("event type", name)
	}
	return t, dbutil.Interpret("update event type", err)
}

// EventTypeCheck refuses names that are not registered or, with requireActive,
// not active. field names the input holding names[i] in the error. It
// returns the types found, by name.
func EventTypeCheck(ctx context.Context, db dbutil.DB, names []string, requireActive bool, field func(i int) string) (map[string]*event.Type, error) {
	rows, err := db.Query(ctx, "SELECT "+eventTypeColumns+" FROM /*schema*/sparrow_event_type WHERE name = ANY($1)", names)
	if err != nil {
		return nil, dbutil.Interpret("check event types", err)
	}
	types, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*event.Type, error) { return scanEventType(row) })
	if err != nil {
		return nil, dbutil.Interpret("check event types", err)
	}
	byName := make(map[string]*event.Type, len(types))
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

// EventTypeListActive returns which of names are registered and active.
func EventTypeListActive(ctx context.Context, db dbutil.DB, names []string) (map[string]bool, error) {
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
