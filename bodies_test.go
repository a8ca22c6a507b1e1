package sparrow_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
)

// A job carrying more deliveries than it reads bodies for at once reads
// them as their attempts start: each must get its own body, rendered or
// its event's payload, signed as sent.
func TestDeliveryBodiesOfLargeJobs(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	plain, rendered := newReceiver(t, nil), newReceiver(t, nil)
	wp := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: plain.URL, Events: []string{"order.created"}})
	wr := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rendered.URL})
	if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: wr.ID, EventName: "order.created", Template: `{"order": {{json .order_id}}}`,
	}); err != nil {
		t.Fatal(err)
	}
	const n = 40 // one fan-out, one job per webhook
	var evs []sparrow.PushEventParams
	var wantPlain, wantRendered []string
	for i := range n {
		evs = append(evs, sparrow.PushEventParams{Name: "order.created", Payload: []byte(fmt.Sprintf(`{"order_id":"ord_%d"}`, i))})
		wantPlain = append(wantPlain, fmt.Sprintf(`{"order_id":"ord_%d"}`, i))
		wantRendered = append(wantRendered, fmt.Sprintf(`{"order": "ord_%d"}`, i))
	}
	if _, err := b.eng.PushEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	for _, c := range []struct {
		rcv    *receiver
		secret string
		want   []string
	}{{plain, wp.Secret, wantPlain}, {rendered, wr.Secret, wantRendered}} {
		wh, err := standardwebhooks.NewWebhook(c.secret)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range c.rcv.waitRequests(t, n) {
			if err := wh.Verify(r.Body, r.Header); err != nil {
				t.Fatalf("body %s not signed as sent: %v", r.Body, err)
			}
			got = append(got, string(r.Body))
		}
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Fatalf("bodies received:\n%q\nwant:\n%q", got, c.want)
		}
	}
}
