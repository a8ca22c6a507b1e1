package sparrow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
	"github.com/sparrowhq/sparrow/webhook"
)

// SendTestEventParams names a webhook and the type of event to send it.
type SendTestEventParams struct {
	// Namespace defaults to "default".
	Namespace string
	// WebhookID is the webhook to send to. It must be active; its
	// subscriptions don't matter.
	WebhookID string
	// Name is the event type: registered, active, not one of Sparrow's own.
	Name string
	// Payload is the event's JSON object, checked against the type's schema
	// as pushes are. Empty: an example made from the schema (see
	// event.Example), or {} for a type without one.
	Payload json.RawMessage
}

func (p *SendTestEventParams) validate(maxPayload int) (err error) {
	if p.Namespace, err = validateRef(p.Namespace, "webhook_id", ids.Webhook, p.WebhookID); err != nil {
		return err
	}
	if event.IsSystem(p.Name) {
		// Receivers trust these as Sparrow's own alerts, as for pushes.
		return fmt.Errorf("%w: event_name: %q is one of Sparrow's own event types, which only the engine sends",
			ErrPermissionDenied, p.Name)
	}
	if err := event.ValidateName("event_name", p.Name); err != nil {
		return err
	}
	if len(p.Payload) == 0 {
		return nil
	}
	return event.ValidatePayload("payload", p.Payload, maxPayload)
}

// TestEvent is a test event sent and its one delivery.
type TestEvent struct {
	// Event is the event stored, labelled event.LabelTest: it shows in
	// event listings, and its payload is what the webhook receives.
	Event *event.Event
	// Delivery is its delivery to the webhook, pending: follow it with
	// GetDelivery. It has no subscription (SubscriptionID is empty).
	Delivery *delivery.Delivery
}

// SendTestEvent sends an event of type p.Name to one webhook only, whatever
// its subscriptions, to try the endpoint: the event is stored (labelled
// event.LabelTest) with exactly one delivery, to that webhook, which goes
// out like any other (signed, retried on failure, counted in the webhook's
// health). No other webhook receives it, even one subscribed to the type.
// A paused or disabled webhook is refused: its delivery would wait until
// it was resumed.
func (e *Engine) SendTestEvent(ctx context.Context, p SendTestEventParams) (*TestEvent, error) {
	return e.sendTestEvent(ctx, nil, p)
}

// SendTestEventTx is SendTestEvent in the caller's transaction: the event
// and its delivery exist, and the delivery goes out, only if it commits.
func (e *Engine) SendTestEventTx(ctx context.Context, tx pgx.Tx, p SendTestEventParams) (*TestEvent, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.sendTestEvent(ctx, tx, p)
}

func (e *Engine) sendTestEvent(ctx context.Context, tx pgx.Tx, p SendTestEventParams) (*TestEvent, error) {
	if err := p.validate(e.config.MaxPayloadBytes); err != nil {
		return nil, err
	}
	now := e.now()
	var sent *TestEvent
	err := e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		// Locked, so that a delete or pause can't pass the delivery by.
		w, err := store.WebhookGet(ctx, db, p.Namespace, p.WebhookID, true)
		if err != nil {
			return err
		}
		if w.State != webhook.StateActive {
			return errs.FailedPrecondition("webhook %s is %s: resume it to send it a test event", w.ID, w.State)
		}
		types, err := store.EventTypeCheck(ctx, db, []string{p.Name}, true, func(int) string { return "event_name" })
		if err != nil {
			return err
		}
		payload, err := e.testPayload(types[p.Name], p.Payload)
		if err != nil {
			return err
		}
		ev := &event.Event{
			ID: ids.New(ids.Event), Namespace: p.Namespace, Name: p.Name, Payload: payload,
			Labels: map[string]string{event.LabelTest: "true"}, CreatedAt: now,
		}
		// Stored without entering the fan-out queue, and its first fan-out
		// round claimed at once: no fan-out ever takes it to subscribers.
		if _, _, err := store.EventInsertMany(ctx, db, []*event.Event{ev}); err != nil {
			return err
		}
		if _, err := store.EventClaimFanout(ctx, db, []string{ev.ID}, 0, now); err != nil {
			return err
		}
		d := &delivery.Delivery{
			ID: ids.New(ids.Delivery), Namespace: ev.Namespace, WebhookID: w.ID, EventID: ev.ID, EventName: ev.Name,
			Status: delivery.StatusPending, MaxAttempts: w.MaxAttempts, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		}
		if err := store.DeliveryInsertMany(ctx, db, []*delivery.Delivery{d}); err != nil {
			return err
		}
		ref := store.DeliveryRef{ID: d.ID, WebhookID: w.ID, Namespace: w.Namespace}
		if err := e.insertJobs(ctx, tx, worker.DeliverJobs(ctx, e.config.Queue, []store.DeliveryRef{ref}, time.Time{})); err != nil {
			return err
		}
		sent = &TestEvent{Event: ev, Delivery: d}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// testPayload returns the payload of a test event of type t: the one
// given, checked against t's schema, else an example of the schema.
func (e *Engine) testPayload(t *event.Type, given json.RawMessage) (json.RawMessage, error) {
	schema, err := e.schemas.store(t)
	if err != nil {
		return nil, err
	}
	if len(given) > 0 {
		return given, schema.validate("payload", given)
	}
	if len(t.Schema) == 0 {
		return json.RawMessage(`{}`), nil
	}
	example, err := event.Example(t.Schema)
	if err != nil {
		return nil, errs.FailedPrecondition("no example payload could be made from the schema of event type %q (%v): give one in payload", t.Name, err)
	}
	if len(example) > e.config.MaxPayloadBytes {
		return nil, errs.FailedPrecondition("the example payload made from the schema of event type %q is over the %d byte limit: give one in payload",
			t.Name, e.config.MaxPayloadBytes)
	}
	return example, nil
}
