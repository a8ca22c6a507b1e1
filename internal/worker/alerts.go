package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
)

// raiseAlerts pushes Sparrow's own events for what a batch of attempts
// caused (health changes, a disabled webhook, exhausted deliveries) into the
// namespace of the webhook concerned, in the recording transaction, so an
// alert exists exactly when its cause does. Event types an operator
// deactivated are skipped; alerts about deliveries of alerts are not raised,
// so two failing alert receivers can't feed each other.
func (r *recorder) raiseAlerts(ctx context.Context, tx pgx.Tx, outcomes []*outcome, transitions []health.Transition, now time.Time) error {
	var alerts []*event.Event
	alert := func(namespace, name, webhookID string, payload any, labels map[string]string) {
		body, _ := json.Marshal(payload) // maps of strings and numbers always marshal
		if labels == nil {
			labels = map[string]string{}
		}
		labels[event.LabelWebhookID] = webhookID
		alerts = append(alerts, &event.Event{
			ID: ids.New(ids.Event), Namespace: namespace, Name: name, Payload: body, Labels: labels, CreatedAt: now,
		})
	}
	for _, t := range transitions {
		payload := map[string]any{
			"webhook_id": t.WebhookID, "namespace": t.Namespace, "from": t.From, "to": t.To, "reason": t.Reason, "at": t.At,
		}
		alert(t.Namespace, event.TypeWebhookStateChanged, t.WebhookID, payload, map[string]string{"state": string(t.To)})
		if t.To == health.StateDisabled {
			alert(t.Namespace, event.TypeWebhookDisabled, t.WebhookID, payload, nil)
		}
	}
	for _, o := range outcomes {
		if x := o.exhausted; o.moved && x != nil && !event.IsSystem(x.EventName) {
			alert(x.Namespace, event.TypeDeliveryExhausted, x.WebhookID, map[string]any{
				"delivery_id": x.DeliveryID, "webhook_id": x.WebhookID, "event_id": x.EventID, "event_name": x.EventName,
				"attempts": x.Attempts, "last_status_code": x.LastStatusCode, "last_error_class": x.LastErrorClass, "last_error": x.LastError,
			}, nil)
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	db := r.db.schema.On(tx)
	active, err := store.EventTypeListActive(ctx, db, []string{event.TypeWebhookStateChanged, event.TypeWebhookDisabled, event.TypeDeliveryExhausted})
	if err != nil {
		return err
	}
	kept := alerts[:0]
	for _, a := range alerts {
		if active[a.Name] {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	if _, _, err := store.EventInsertMany(ctx, db, kept); err != nil {
		return err
	}
	eventIDs := make([]string, len(kept))
	for i, a := range kept {
		eventIDs[i] = a.ID
	}
	_, err = outcomes[0].client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{FanoutJob(ctx, r.queue, eventIDs, 0)})
	if err != nil {
		return fmt.Errorf("insert alert fan-out: %w", err)
	}
	return nil
}
