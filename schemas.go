package sparrow

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/store"
)

// schemaCacheSize bounds the event types whose compiled schemas are kept;
// past it the cache starts over.
const schemaCacheSize = 1024

// schemaCache keeps event types' compiled schemas with the version (the
// type's UpdatedAt) they were compiled from. A push validates against the
// cached version and inserts only if the type is still at it; a payload the
// cached schema refuses is checked again against a freshly loaded one. So a
// schema changed by another process is never missed or wrongly applied, and
// costs no extra query while it doesn't change.
type schemaCache struct {
	mu    sync.Mutex
	types map[string]cachedSchema
}

type cachedSchema struct {
	version time.Time
	schema  *event.Schema // nil: the type has no schema
}

func newSchemaCache() *schemaCache { return &schemaCache{types: map[string]cachedSchema{}} }

// get returns the schema of type name: the cached one, or one loaded now
// (fresh) when none is cached.
func (c *schemaCache) get(ctx context.Context, db dbutil.DB, name string) (_ cachedSchema, fresh bool, _ error) {
	c.mu.Lock()
	cached, ok := c.types[name]
	c.mu.Unlock()
	if ok {
		return cached, false, nil
	}
	t, err := store.EventTypeGet(ctx, db, name)
	if errors.Is(err, errs.ErrNotFound) {
		return cachedSchema{}, true, errs.InvalidArgument("event", "event type %q is not registered", name)
	}
	if err != nil {
		return cachedSchema{}, true, err
	}
	cached, err = c.store(t)
	return cached, true, err
}

// store compiles and caches t's schema, unless the cache has it at t's
// version already.
func (c *schemaCache) store(t *event.Type) (cachedSchema, error) {
	c.mu.Lock()
	cached, ok := c.types[t.Name]
	c.mu.Unlock()
	if ok && cached.version.Equal(t.UpdatedAt) {
		return cached, nil
	}
	entry := cachedSchema{version: t.UpdatedAt}
	if len(t.Schema) > 0 {
		var err error
		// A stored schema was valid when saved; failing now means it was
		// saved under looser limits (before event.MaxSchemaExpansion, say)
		// or written some other way, and the push can't be checked.
		if entry.schema, err = event.CompileSchema("schema", t.Schema); err != nil {
			return cachedSchema{}, errs.FailedPrecondition("event type %q has an unusable schema: %v", t.Name, err)
		}
	}
	c.mu.Lock()
	if len(c.types) >= schemaCacheSize {
		clear(c.types)
	}
	c.types[t.Name] = entry
	c.mu.Unlock()
	return entry, nil
}

// forget drops type name, after it changed.
func (c *schemaCache) forget(name string) {
	c.mu.Lock()
	delete(c.types, name)
	c.mu.Unlock()
}

// validate checks payload against schema, when there is one.
func (s cachedSchema) validate(field string, payload []byte) error {
	if s.schema == nil {
		return nil
	}
	return s.schema.Validate(field, payload)
}
