package sparrow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/internal/worker"
)

// PushEventParams is an event to push.
type PushEventParams struct {
	// Namespace defaults to "default".
	Namespace string
	// Name is a registered, active event type.
	Name string
	// Payload is a JSON object, sent to receivers byte for byte (unless a
	// subscription's template reshapes it).
	Payload json.RawMessage
	// Labels select subscriptions with label filters.
	Labels map[string]string
	// TTL, when set, stops delivery of the event that long after the push:
	// deliveries still pending then end as expired.
	TTL time.Duration
	// IdempotencyKey, when set, makes a repeated push with the same key in
	// the namespace return the first event and create nothing.
	IdempotencyKey string
	// OrderingKey, when set, delivers the event to each webhook after the
	// events pushed before it with the same key, one at a time: a delivery
	// waits until the one before it (of its key, to its webhook) has
	// succeeded, failed for good, expired or been cancelled. Events with
	// other keys, or none, are not held back.
	OrderingKey string
}

func (ev *PushEventParams) validate(field string, maxPayload int) (err error) {
	if ev.Namespace, err = validate.Namespace(ev.Namespace); err != nil {
		return prefixField(field, err)
	}
	if event.IsSystem(ev.Name) {
		// Receivers trust these as Sparrow's own alerts.
		return fmt.Errorf("%w: %sevent: %q is one of Sparrow's own event types, which only the engine pushes",
			ErrPermissionDenied, fieldPrefix(field), ev.Name)
	}
	return prefixField(field, firstError(
		event.ValidateName("event", ev.Name),
		event.ValidatePayload("payload", ev.Payload, maxPayload),
		validate.Labels("labels", ev.Labels),
		event.ValidateTTL("ttl_seconds", ev.TTL),
		event.ValidateIdempotencyKey("idempotency_key", ev.IdempotencyKey),
		event.ValidateOrderingKey("ordering_key", ev.OrderingKey),
	))
}

func (e *Engine) newEvent(ev *PushEventParams, now time.Time) *event.Event {
	stored := &event.Event{
		ID:             ids.New(ids.Event),
		Namespace:      ev.Namespace,
		Name:           ev.Name,
		Payload:        ev.Payload,
		Labels:         ev.Labels,
		IdempotencyKey: ev.IdempotencyKey,
		OrderingKey:    ev.OrderingKey,
		CreatedAt:      now,
	}
	if stored.Labels == nil {
		stored.Labels = map[string]string{}
	}
	if ev.TTL > 0 {
		stored.ExpiresAt = now.Add(ev.TTL)
	}
	return stored
}

// PushEvent stores an event and queues its fan-out to every matching
// subscription. It returns once the event is stored; fan-out and delivery
// happen where Sparrow's workers run (within milliseconds), and cost the
// push no River job. Calls made at the same time share a transaction (a
// group commit), each still answered with its own event or error: a
// refused event fails its own call only.
func (e *Engine) PushEvent(ctx context.Context, ev PushEventParams) (*event.Event, error) {
	return e.pushEvent(ctx, nil, ev)
}

// PushEventTx is PushEvent in the caller's transaction: the event exists,
// and is delivered, only if the transaction commits. Push it together with
// the business change it announces, and a rollback leaves no trace of
// either (the transactional outbox). On an error the transaction should be
// rolled back.
func (e *Engine) PushEventTx(ctx context.Context, tx pgx.Tx, ev PushEventParams) (*event.Event, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.pushEvent(ctx, tx, ev)
}

func (e *Engine) pushEvent(ctx context.Context, tx pgx.Tx, ev PushEventParams) (_ *event.Event, err error) {
	ctx, span := e.telemetry.Tracer.Start(ctx, "sparrow.push", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(telemetry.AttrNamespace.String(ev.Namespace), telemetry.AttrEventName.String(ev.Name)))
	defer func() { endSpan(span, err) }()
	if err := ev.validate("", e.config.MaxPayloadBytes); err != nil {
		return nil, err
	}
	var stored *event.Event
	var created bool
	if tx == nil {
		stored, created, err = e.pushGrouped(ctx, &ev)
	} else {
		stored, created, err = e.pushInTx(ctx, tx, &ev, e.newEvent(&ev, e.now()))
	}
	if err != nil {
		return nil, err
	}
	span.SetAttributes(telemetry.AttrEventID.String(stored.ID))
	if created {
		e.telemetry.EventsPushed.Add(ctx, 1, metric.WithAttributes(telemetry.AttrEventName.String(stored.Name)))
		e.watchForStall()
	}
	return stored, nil
}

// pushInTx stores ev as newEvent in the caller's transaction.
func (e *Engine) pushInTx(ctx context.Context, tx pgx.Tx, ev *PushEventParams, newEvent *event.Event) (stored *event.Event, created bool, err error) {
	db := e.schema.On(tx)
	// Insert only if the type is still at the version whose schema checked
	// the payload; else reload and check again.
	for try := 0; ; try++ {
		cached, err := e.checkPayload(ctx, db, ev)
		if err != nil {
			return nil, false, err
		}
		stored, created, err = store.EventInsert(ctx, db, newEvent, cached.version, telemetry.JobMetadata(ctx))
		if errors.Is(err, store.ErrStaleEventType) && try < 3 {
			e.schemas.forget(ev.Name)
			continue
		}
		if err == nil && !created {
			return stored, false, keyReused("", stored, ev)
		}
		return stored, created, err
	}
}

// checkPayload checks ev's payload with its type's schema, the cached one
// first, and returns the schema that passed it.
func (e *Engine) checkPayload(ctx context.Context, db dbutil.DB, ev *PushEventParams) (cachedSchema, error) {
	for {
		cached, fresh, err := e.schemas.get(ctx, db, ev.Name)
		if err != nil {
			return cachedSchema{}, err
		}
		if err := cached.validate("payload", ev.Payload); err != nil {
			if fresh {
				return cachedSchema{}, err
			}
			e.schemas.forget(ev.Name) // perhaps refused by an outdated schema
			continue
		}
		return cached, nil
	}
}

// pushGroupMax bounds the events of concurrent PushEvent calls committed
// together.
const pushGroupMax = 256

const (
	// pushFlushTimeout bounds a group's transaction. A group does not
	// follow its callers' contexts: an event queued is committed even if
	// its caller gives up.
	pushFlushTimeout = 30 * time.Second
	// pushGroupLockWait bounds how long a group waits for a row lock that
	// another transaction holds: a host's open transaction that pushed an
	// event with the same ordering or idempotency key, which may stay open
	// for long. The events of a group that waited that long are committed
	// one by one, and the one that waits then waits alone.
	pushGroupLockWait = 100 * time.Millisecond
)

// groupedPush is an event of a PushEvent call on its way to a group commit.
type groupedPush struct {
	store.GroupedEvent
	// flushed: this event was in a group before, one whose commit failed
	// or looked failed.
	flushed bool
}

// pushGrouped stores ev in a transaction it shares with the PushEvent
// calls made meanwhile: a commit costs the database the same for one event
// or a hundred, so concurrent pushes go at its pace rather than one commit
// each. Each call returns once its own event is committed, with its own
// result; when idle, an event is committed alone and at once.
func (e *Engine) pushGrouped(ctx context.Context, ev *PushEventParams) (*event.Event, bool, error) {
	newEvent := e.newEvent(ev, e.now())
	trace := telemetry.JobMetadata(ctx)
	for try := 0; ; try++ {
		cached, err := e.checkPayload(ctx, e.db(nil), ev)
		if err != nil {
			return nil, false, err
		}
		// Once queued, an event is committed whatever becomes of its caller;
		// a caller gone already stores nothing.
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		p := &groupedPush{GroupedEvent: store.GroupedEvent{Event: newEvent, TypeVersion: cached.version, TraceContext: trace}}
		if err := e.pushes.Submit(p); dbutil.IsLockTimeout(err) {
			// Even alone, it waits for another transaction: it waits in a
			// transaction of its own, not in the group's.
			var stored *event.Event
			var created bool
			err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) (err error) {
				stored, created, err = e.pushInTx(ctx, tx, ev, newEvent)
				return err
			})
			return stored, created, err
		} else if err != nil {
			return nil, false, err
		}
		switch {
		case errors.Is(p.Err, store.ErrStaleEventType) && try < 3:
			e.schemas.forget(ev.Name)
			continue
		case p.Err != nil:
			return nil, false, p.Err
		case !p.Created:
			return p.Stored, false, keyReused("", p.Stored, ev)
		}
		return p.Stored, true, nil
	}
}

// flushPushes commits a group of PushEvent calls' events. An event refused
// fails its own call only (its Err); an error fails the group, whose events
// groupcommit then commits one by one, each checking first whether the
// failed commit had in fact stored it.
func (e *Engine) flushPushes(pushes []*groupedPush) error {
	ctx, cancel := context.WithTimeout(context.Background(), pushFlushTimeout)
	defer cancel()
	group := make([]*store.GroupedEvent, len(pushes))
	retried, keyed := false, false
	for i, p := range pushes {
		group[i] = &p.GroupedEvent
		retried = retried || p.flushed
		p.flushed = true
		keyed = keyed || p.Event.IdempotencyKey != "" || p.Event.OrderingKey != ""
	}
	if !keyed {
		// Without keys the group's writes are one statement, atomic on its
		// own: no transaction to open and commit, one round trip. Nothing
		// it writes can be locked by another transaction.
		return store.EventInsertGroup(ctx, e.db(nil), group, retried)
	}
	return pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", pushGroupLockWait.Milliseconds())); err != nil {
			return err
		}
		return store.EventInsertGroup(ctx, e.schema.On(tx), group, retried)
	})
}

// MaxPushBatch bounds the events of one PushEvents call, which are fanned
// out by one job: one transaction for all their deliveries.
const MaxPushBatch = 1000

// PushEvents stores a batch of events in one statement and schedules their
// fan-out, all or nothing: one invalid event refuses the batch, naming it
// ("events[3].payload"). It returns the stored events in input order (for a
// repeated idempotency key, the first event).
func (e *Engine) PushEvents(ctx context.Context, evs []PushEventParams) ([]*event.Event, error) {
	return e.pushEvents(ctx, nil, evs)
}

// PushEventsTx is PushEvents in the caller's transaction.
func (e *Engine) PushEventsTx(ctx context.Context, tx pgx.Tx, evs []PushEventParams) ([]*event.Event, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.pushEvents(ctx, tx, evs)
}

func (e *Engine) pushEvents(ctx context.Context, tx pgx.Tx, evs []PushEventParams) (_ []*event.Event, err error) {
	ctx, span := e.telemetry.Tracer.Start(ctx, "sparrow.push", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(telemetry.AttrEventCount.Int(len(evs))))
	defer func() { endSpan(span, err) }()
	if len(evs) == 0 {
		return nil, errs.InvalidArgument("events", "required (at least one event)")
	}
	if len(evs) > MaxPushBatch {
		return nil, fmt.Errorf("%d events in one batch, at most %d: %w", len(evs), MaxPushBatch, errs.ErrResourceExhausted)
	}
	now := e.now()
	batch := make([]*event.Event, len(evs))
	names := make([]string, len(evs))
	for i := range evs {
		if err := evs[i].validate(fmt.Sprintf("events[%d]", i), e.config.MaxPayloadBytes); err != nil {
			return nil, err
		}
		batch[i], names[i] = e.newEvent(&evs[i], now), evs[i].Name
	}
	var stored []*event.Event
	var created []bool
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		field := func(i int) string { return fmt.Sprintf("events[%d].event", i) }
		types, err := store.EventTypeCheck(ctx, db, names, true, field)
		if err != nil {
			return err
		}
		for i := range evs {
			cached, err := e.schemas.store(types[evs[i].Name])
			if err != nil {
				return err
			}
			if err := cached.validate(fmt.Sprintf("events[%d].payload", i), evs[i].Payload); err != nil {
				return err
			}
		}
		if stored, created, err = store.EventInsertMany(ctx, db, batch); err != nil {
			return err
		}
		for i := range evs {
			if !created[i] {
				if err := keyReused(fmt.Sprintf("events[%d]", i), stored[i], &evs[i]); err != nil {
					return err
				}
			}
		}
		var fresh []string
		for i, ev := range stored {
			if created[i] {
				fresh = append(fresh, ev.ID)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		return e.insertJobs(ctx, tx, []river.InsertManyParams{worker.FanoutJob(ctx, e.config.Queue, fresh, 0)})
	})
	if err != nil {
		return nil, err
	}
	for i, ev := range stored {
		if created[i] {
			e.telemetry.EventsPushed.Add(ctx, 1, metric.WithAttributes(telemetry.AttrEventName.String(ev.Name)))
		}
	}
	return stored, nil
}

// GetEvent returns event id of namespace, payload included.
func (e *Engine) GetEvent(ctx context.Context, namespace, id string) (*event.Event, error) {
	namespace, err := validateRef(namespace, "event_id", ids.Event, id)
	if err != nil {
		return nil, err
	}
	return store.EventGet(ctx, e.db(nil), namespace, id)
}

// ListEventsParams selects a page of a namespace's events, newest first.
type ListEventsParams struct {
	Namespace string
	// Name keeps events of this type.
	Name string
	// Since and Until bound the push time: [Since, Until).
	Since time.Time
	Until time.Time
	// HideSystemEvents leaves out Sparrow's own events (event.IsSystem),
	// such as its health alerts.
	HideSystemEvents bool
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

// ListEvents returns a page of a namespace's events, newest first, without
// their payloads (GetEvent has them).
func (e *Engine) ListEvents(ctx context.Context, p ListEventsParams) (*Page[event.Event], error) {
	namespace, limit, before, err := validateListing(p.Namespace, p.Limit, p.Cursor)
	if err != nil {
		return nil, err
	}
	if p.Name != "" {
		if err := event.ValidateName("event", p.Name); err != nil {
			return nil, err
		}
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && !p.Since.Before(p.Until) {
		return nil, errs.InvalidArgument("until", "must be after since")
	}
	evs, more, err := store.EventList(ctx, e.db(nil), store.EventListParams{
		Namespace: namespace, Name: p.Name, Since: p.Since, Until: p.Until, HideSystem: p.HideSystemEvents, Before: before, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	return newPage(evs, more, func(ev *event.Event) string { return ev.ID }), nil
}

// RepushEvent fans an event out again, to the subscriptions that match it
// now, creating new deliveries. The earlier deliveries are kept.
func (e *Engine) RepushEvent(ctx context.Context, namespace, id string) (*event.Event, error) {
	return e.repushEvent(ctx, nil, namespace, id)
}

// RepushEventTx is RepushEvent in the caller's transaction.
func (e *Engine) RepushEventTx(ctx context.Context, tx pgx.Tx, namespace, id string) (*event.Event, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.repushEvent(ctx, tx, namespace, id)
}

func (e *Engine) repushEvent(ctx context.Context, tx pgx.Tx, namespace, id string) (*event.Event, error) {
	namespace, err := validateRef(namespace, "event_id", ids.Event, id)
	if err != nil {
		return nil, err
	}
	var ev *event.Event
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		round, err := store.EventNextRound(ctx, db, namespace, id)
		if err != nil {
			return err
		}
		if ev, err = store.EventGet(ctx, db, namespace, id); err != nil {
			return err
		}
		return e.insertJobs(ctx, tx, []river.InsertManyParams{worker.FanoutJob(ctx, e.config.Queue, []string{id}, round)})
	})
	return ev, err
}

// keyReused refuses a push whose idempotency key found an event (stored)
// other than the one it would create: a key names one event, and a push
// with it and another payload is a mistake to report, not to answer with
// the first event as though it were this one.
func keyReused(field string, stored *event.Event, ev *PushEventParams) error {
	same, differs := event.SameEvent(stored, ev.Name, ev.Payload, ev.Labels)
	if same && stored.OrderingKey != ev.OrderingKey {
		same, differs = false, "ordering key"
	}
	if !same {
		return errs.InvalidArgument(fieldPrefix(field)+"idempotency_key",
			"%q was used for another event %s (its %s differs): use a new key for a new event", ev.IdempotencyKey, stored.ID, differs)
	}
	return nil
}

// fieldPrefix returns field followed by a dot, or nothing.
func fieldPrefix(field string) string {
	if field == "" {
		return ""
	}
	return field + "."
}

// prefixField qualifies an invalid-argument error's field with a batch
// position ("events[3]" + "payload").
func prefixField(prefix string, err error) error {
	if prefix == "" || err == nil {
		return err
	}
	if e, ok := err.(*errs.InvalidArgumentError); ok {
		return errs.InvalidArgument(prefix+"."+e.Field, "%s", e.Reason)
	}
	return err
}
