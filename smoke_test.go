package sparrow_test

import (
	"context"
	"testing"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

func TestSmoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	if _, err := b.eng.RegisterEvent(ctx, sparrow.RegisterEventParams{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	wh, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{"order_id":"ord_1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rcv.waitRequests(t, 1)
	t.Logf("headers: %v body: %s", reqs[0].Header, reqs[0].Body)
	ds := b.waitDeliveries(t, "default", ev.ID, 1)
	d := b.waitDelivery(t, "default", ds[0].ID, func(d *delivery.Delivery) bool { return d.Status == delivery.StatusSucceeded })
	t.Logf("%+v %s", d, wh.Secret)
}
