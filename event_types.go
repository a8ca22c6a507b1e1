package sparrow

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// RegisterEventTypeParams describes an event type to register.
type RegisterEventTypeParams struct {
	// Name is like "order.created": 1 to 128 letters, digits, '_', '-', '.'.
	Name        string
	Description string
	// Inactive registers the type deactivated: pushes of it are refused
	// until UpdateEventType activates it.
	Inactive bool
	// Schema, when set, is a JSON Schema (draft 2020-12 unless its $schema
	// says otherwise) every payload of the type must satisfy; pushes that
	// don't are refused, naming where the payload failed. A schema that
	// could apply more than event.MaxSchemaExpansion subschemas to one
	// payload value is refused, and a payload whose check takes longer
	// than event.MaxValidateTime.
	Schema json.RawMessage
}

func (p *RegisterEventTypeParams) validate() error {
	if err := event.ValidateName("name", p.Name); err != nil {
		return err
	}
	if event.IsSystem(p.Name) {
		return errs.InvalidArgument("name", "the %q prefix is reserved for Sparrow's own event types", event.SystemPrefix)
	}
	if err := validate.Text("description", p.Description, validate.MaxDescriptionLen); err != nil {
		return err
	}
	return validateSchema("schema", p.Schema)
}

func validateSchema(field string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	_, err := event.CompileSchema(field, raw)
	return err
}

// RegisterEventType registers an event type. Event types are global: every
// namespace pushes from one catalogue. It returns ErrAlreadyExists for a
// name taken.
func (e *Engine) RegisterEventType(ctx context.Context, p RegisterEventTypeParams) (*event.Type, error) {
	return e.registerEvent(ctx, nil, p)
}

// RegisterEventTypeTx is RegisterEventType in the caller's transaction.
func (e *Engine) RegisterEventTypeTx(ctx context.Context, tx pgx.Tx, p RegisterEventTypeParams) (*event.Type, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.registerEvent(ctx, tx, p)
}

func (e *Engine) registerEvent(ctx context.Context, tx pgx.Tx, p RegisterEventTypeParams) (*event.Type, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	now := e.now()
	t := &event.Type{Name: p.Name, Description: p.Description, Active: !p.Inactive, Schema: p.Schema, CreatedAt: now, UpdatedAt: now}
	if err := store.EventTypeInsert(ctx, e.db(tx), t); err != nil {
		return nil, err
	}
	return t, nil
}

// GetEventType returns the event type name.
func (e *Engine) GetEventType(ctx context.Context, name string) (*event.Type, error) {
	if err := event.ValidateName("name", name); err != nil {
		return nil, err
	}
	return store.EventTypeGet(ctx, e.db(nil), name)
}

// ListEventTypesParams selects a page of event types, in name order.
type ListEventTypesParams struct {
	ActiveOnly bool
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

// ListEventTypes returns a page of event types in name order.
func (e *Engine) ListEventTypes(ctx context.Context, p ListEventTypesParams) (*Page[event.Type], error) {
	limit, err := validate.PageLimit(p.Limit)
	if err != nil {
		return nil, err
	}
	after, err := validate.Cursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	types, more, err := store.EventTypeList(ctx, e.db(nil), store.EventTypeListParams{After: after, ActiveOnly: p.ActiveOnly, Limit: limit})
	if err != nil {
		return nil, err
	}
	return newPage(types, more, func(t *event.Type) string { return t.Name }), nil
}

// UpdateEventTypeParams changes an event type; nil fields are left as they are.
type UpdateEventTypeParams struct {
	Name        string
	Description *string
	// Active activates or deactivates the type. Deactivating refuses new
	// pushes; events already pushed are still delivered.
	Active *bool
	// Schema replaces the type's JSON Schema; a pointer to an empty one
	// removes it. Events already pushed are not checked again.
	Schema *json.RawMessage
}

func (p *UpdateEventTypeParams) validate() error {
	if err := event.ValidateName("name", p.Name); err != nil {
		return err
	}
	if p.Description != nil {
		if err := validate.Text("description", *p.Description, validate.MaxDescriptionLen); err != nil {
			return err
		}
	}
	if p.Schema != nil {
		return validateSchema("schema", *p.Schema)
	}
	return nil
}

// UpdateEventType changes an event type's description or activates or
// deactivates it.
func (e *Engine) UpdateEventType(ctx context.Context, p UpdateEventTypeParams) (*event.Type, error) {
	return e.updateEvent(ctx, nil, p)
}

// UpdateEventTypeTx is UpdateEventType in the caller's transaction.
func (e *Engine) UpdateEventTypeTx(ctx context.Context, tx pgx.Tx, p UpdateEventTypeParams) (*event.Type, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.updateEvent(ctx, tx, p)
}

func (e *Engine) updateEvent(ctx context.Context, tx pgx.Tx, p UpdateEventTypeParams) (*event.Type, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	t, err := store.EventTypeUpdate(ctx, e.db(tx), p.Name, store.EventTypeUpdateParams{Description: p.Description, Active: p.Active, Schema: p.Schema}, e.now())
	if err == nil {
		e.schemas.forget(p.Name)
	}
	return t, err
}
