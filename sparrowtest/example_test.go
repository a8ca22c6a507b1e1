package sparrowtest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/sparrowtest"
)

// exampleEngine is what a host's test would set up: an engine on a
// database of its own, with an event type registered.
func exampleEngine(t testing.TB) *sparrow.Engine {
	eng, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(pgtest.Schema(t)), sparrow.WithAllowPrivateNetworks())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := eng.RegisterEventType(context.Background(), sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		log.Fatal(err)
	}
	return eng
}

// ExampleReceiver: a receiver verifies each delivery's signature with the
// webhook's secret and records it.
func ExampleReceiver() {
	t, done := pgtest.ForExample() // in a test, the test's *testing.T
	defer done()
	ctx := context.Background()
	eng := exampleEngine(t)

	rcv := sparrowtest.NewReceiver(t)
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := rcv.SetSecrets(wh.Secret); err != nil {
		log.Fatal(err)
	}
	if _, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id": 7}`)}); err != nil {
		log.Fatal(err)
	}
	sparrowtest.Drain(ctx, t, eng)

	req := rcv.WaitForRequests(ctx, t, 1)[0]
	fmt.Println(req.EventName, string(req.Body), "signature verified:", req.SignatureErr == nil)
	// Output: order.created {"order_id": 7} signature verified: true
}

// ExampleReceiver_Respond: a receiver that fails its first attempt, to
// test retries.
func ExampleReceiver_Respond() {
	t, done := pgtest.ForExample()
	defer done()
	ctx := context.Background()
	eng := exampleEngine(t)

	rcv := sparrowtest.NewReceiver(t)
	rcv.Respond(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	// The retry waits an hour, so Drain returns with it still scheduled.
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		URL: rcv.URL, Events: []string{"order.created"}, RetrySchedule: []time.Duration{time.Hour},
	})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		log.Fatal(err)
	}
	sparrowtest.Drain(ctx, t, eng)
	d, err := eng.GetDelivery(ctx, "default", rcv.WaitForRequests(ctx, t, 1)[0].DeliveryID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Status, d.AttemptCount, d.LastStatusCode, d.WebhookID == wh.ID, d.EventID == ev.ID)
	// Output: retrying 1 503 true true
}

// ExampleWaitForDelivery: wait for an event's delivery to a webhook to
// succeed, with the engine's own workers running.
func ExampleWaitForDelivery() {
	t, done := pgtest.ForExample()
	defer done()
	ctx := context.Background()
	eng := exampleEngine(t)
	if err := eng.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer eng.Stop(ctx)

	rcv := sparrowtest.NewReceiver(t)
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		log.Fatal(err)
	}
	d := sparrowtest.WaitForDelivery(ctx, t, eng, "default", ev.ID, wh.ID)
	fmt.Println(d.Status, d.AttemptCount)
	// Output: succeeded 1
}

// ExampleWaitForDeliveries: wait for several deliveries to one webhook.
func ExampleWaitForDeliveries() {
	t, done := pgtest.ForExample()
	defer done()
	ctx := context.Background()
	eng := exampleEngine(t)

	rcv := sparrowtest.NewReceiver(t)
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := eng.PushEvents(ctx, []sparrow.PushEventParams{
		{Name: "order.created", Payload: []byte(`{"n": 1}`)},
		{Name: "order.created", Payload: []byte(`{"n": 2}`)},
	}); err != nil {
		log.Fatal(err)
	}
	sparrowtest.Drain(ctx, t, eng)
	fmt.Println(len(sparrowtest.WaitForDeliveries(ctx, t, eng, "default", wh.ID, 2)), "delivered")
	// Output: 2 delivered
}

// ExampleDrain: in a host's test that runs no River client, Drain delivers
// what the code under test pushed.
func ExampleDrain() {
	t, done := pgtest.ForExample()
	defer done()
	ctx := context.Background()
	eng := exampleEngine(t)

	rcv := sparrowtest.NewReceiver(t)
	if _, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}}); err != nil {
		log.Fatal(err)
	}
	if _, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("before:", len(rcv.Requests()))
	sparrowtest.Drain(ctx, t, eng)
	fmt.Println("after:", len(rcv.Requests()))
	// Output:
	// before: 0
	// after: 1
}
