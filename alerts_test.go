package sparrow_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/health"
)

// TestHealthAlerts drives a webhook to disabled and checks that an
// operator's endpoint subscribed to Sparrow's own event types receives the
// alerts, and that the failing webhook, subscribed to the alerts about
// itself, gets none: not even a delivery is created for one.
func TestHealthAlerts(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithHealthThresholds(health.Thresholds{
		DegradedAfterFailures: 1, UnhealthyAfterFailures: 2, DisableAfterFailures: 3, DisableAfter: time.Nanosecond,
	}))
	b.start(t)
	failing := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(503) })
	operator := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	wf := b.registerWebhook(t, sparrow.RegisterWebhookParams{
		Namespace: "shop", URL: failing.URL, MaxAttempts: 1,
		Events: []string{"order.created"},
	})
	// It asks for every alert about itself, and only those (alerts about
	// the operator's webhook would be failures of its own, and change the
	// count).
	for _, name := range []string{event.TypeWebhookStateChanged, event.TypeWebhookDisabled, event.TypeDeliveryExhausted} {
		if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
			Namespace: "shop", WebhookID: wf.ID, EventName: name, LabelFilter: map[string]string{event.LabelWebhookID: wf.ID},
		}); err != nil {
			t.Fatal(err)
		}
	}
	wo := b.registerWebhook(t, sparrow.RegisterWebhookParams{
		Namespace: "shop", URL: operator.URL,
		Events: []string{event.TypeWebhookStateChanged, event.TypeWebhookDisabled, event.TypeDeliveryExhausted},
	})
	// One failure recorded at a time: two recorded in one batch would move
	// the webhook past unhealthy in one change of state, one alert fewer.
	for range 3 {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "shop", Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "shop", ev.ID, 1)[0]
		b.waitDelivery(t, "shop", d.ID, statusIs(delivery.StatusFailed))
	}

	got := operator.waitRequests(t, 7)
	// Every alert is fanned out by now (the operator has them all), and none
	// made a delivery for the webhook it is about, though it asked: none was
	// sent, nor left waiting for the webhook to be resumed.
	deliveriesOf := func(webhookID string) map[string]int {
		page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{Namespace: "shop", WebhookID: webhookID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]int{}
		for _, d := range page.Items {
			names[d.EventName]++
		}
		return names
	}
	if diff := cmp.Diff(map[string]int{"order.created": 3}, deliveriesOf(wf.ID)); diff != "" {
		t.Fatalf("the failing webhook's deliveries, by event (-want +got):\n%s", diff)
	}
	counts := map[string]int{}
	var disabled map[string]any
	for _, req := range got {
		name := req.Header.Get("Sparrow-Event")
		counts[name]++
		if req.Header.Get("Sparrow-Namespace") != "shop" {
			t.Fatalf("alert in namespace %q, want the webhook's", req.Header.Get("Sparrow-Namespace"))
		}
		if name == event.TypeWebhookDisabled {
			json.Unmarshal(req.Body, &disabled)
		}
	}
	want := map[string]int{event.TypeDeliveryExhausted: 3, event.TypeWebhookStateChanged: 3, event.TypeWebhookDisabled: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Fatalf("alerts received (-want +got):\n%s", diff)
	}
	// The operator's deliveries are the alerts it received.
	if diff := cmp.Diff(want, deliveriesOf(wo.ID)); diff != "" {
		t.Fatalf("the operator's deliveries, by event (-want +got):\n%s", diff)
	}
	if disabled["webhook_id"] != wf.ID || disabled["to"] != "disabled" {
		t.Fatalf("disabled alert: %v", disabled)
	}
	// The disabled webhook got no alert about itself (and, disabled, nothing new at all).
	for _, req := range failing.received() {
		if event.IsSystem(req.Header.Get("Sparrow-Event")) {
			t.Fatalf("the failing webhook was sent %s about itself", req.Header.Get("Sparrow-Event"))
		}
	}
	time.Sleep(200 * time.Millisecond) // nothing more is due: a late extra would show here
	if n := len(operator.received()); n != 7 {
		t.Fatalf("operator received %d alerts, want 7", n)
	}

	_, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "sparrow.mine"})
	wantInvalid(t, err, "name")
}
