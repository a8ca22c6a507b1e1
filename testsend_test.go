package sparrow_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
)

const testOrderSchema = `{
  "type": "object",
  "required": ["order_id", "total", "placed_at"],
  "properties": {
    "order_id": {"type": "string", "pattern": "^ord_[0-9a-z]{8}$"},
    "total": {"type": "number", "minimum": 0.5, "maximum": 0.5},
    "placed_at": {"type": "string", "format": "date-time"},
    "status": {"enum": ["new", "paid"]},
    "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}
  },
  "$defs": {"line": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string", "examples": ["SKU-1"]}}}}
}`

// TestSendTestEvent: a test send reaches the webhook it names, whether or
// not it subscribes to the type, and no other, with a payload made from
// the type's schema, one given, or {} for a type without a schema.
func TestSendTestEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	target, subscriber := newReceiver(t, nil), newReceiver(t, nil)
	if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(testOrderSchema)}); err != nil {
		t.Fatal(err)
	}
	b.registerEvent(t, "order.note")
	// The target subscribes to nothing; the other webhook to the type.
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: target.URL})
	other := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: subscriber.URL, Events: []string{"order.created", "order.note"}})
	if err := target.SetSecrets(w.Secret); err != nil {
		t.Fatal(err)
	}
	b.start(t)

	sent, err := b.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{WebhookID: w.ID, Name: "order.created"})
	if err != nil {
		t.Fatal(err)
	}
	wantPayload := `{"lines":[{"sku":"SKU-1"}],"order_id":"ord_aaaaaaaa","placed_at":"2025-01-01T12:00:00Z","status":"new","total":0.5}`
	if string(sent.Event.Payload) != wantPayload {
		t.Errorf("payload %s, want the schema's example %s", sent.Event.Payload, wantPayload)
	}
	got := target.waitRequests(t, 1)[0]
	if string(got.Body) != wantPayload || got.DeliveryID != sent.Delivery.ID || got.EventID != sent.Event.ID || got.EventName != "order.created" {
		t.Errorf("received %s (delivery %s, event %s %s), want %s (delivery %s, event %s)",
			got.Body, got.DeliveryID, got.EventID, got.EventName, wantPayload, sent.Delivery.ID, sent.Event.ID)
	}
	if got.SignatureErr != nil {
		t.Errorf("the test delivery's signature: %v", got.SignatureErr)
	}
	d := b.waitDelivery(t, "default", sent.Delivery.ID, func(d *delivery.Delivery) bool { return d.Status == delivery.StatusSucceeded })
	if d.WebhookID != w.ID || d.SubscriptionID != "" || d.MaxAttempts != w.MaxAttempts {
		t.Errorf("delivery to %s, subscription %q, %d attempts; want %s, none, %d", d.WebhookID, d.SubscriptionID, d.MaxAttempts, w.ID, w.MaxAttempts)
	}
	ev, err := b.eng.GetEvent(ctx, "default", sent.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{event.LabelTest: "true"}, ev.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	// A payload given is sent byte for byte; a type without a schema gets
	// {}.
	given := json.RawMessage(`{"order_id": "ord_abcdefgh", "total": 0.5, "placed_at": "now", "big": 9007199254740993}`)
	withPayload, err := b.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{WebhookID: w.ID, Name: "order.created", Payload: given})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := b.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{WebhookID: w.ID, Name: "order.note"})
	if err != nil {
		t.Fatal(err)
	}
	if string(empty.Event.Payload) != `{}` {
		t.Errorf("a type without a schema sent %s, want {}", empty.Event.Payload)
	}
	bodies := map[string]string{}
	for _, r := range target.waitRequests(t, 3) {
		bodies[r.EventID] = string(r.Body)
	}
	if bodies[withPayload.Event.ID] != string(given) || bodies[empty.Event.ID] != `{}` {
		t.Errorf("received %v, want %s and {}", bodies, given)
	}

	// A push afterwards reaches the subscriber: the fan-out has run past
	// the test events, and made them no delivery.
	pushed, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.note", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r := subscriber.waitRequests(t, 1); len(r) != 1 || r[0].EventID != pushed.ID {
		t.Errorf("the subscriber received %d requests (first %s), want only the push %s", len(r), r[0].EventID, pushed.ID)
	}
	for _, test := range []*sparrow.TestEvent{sent, withPayload, empty} {
		ds := b.waitDeliveries(t, "default", test.Event.ID, 1)
		if len(ds) != 1 || ds[0].WebhookID != w.ID {
			t.Errorf("test event %s has %d deliveries (first to %s), want one to %s", test.Event.ID, len(ds), ds[0].WebhookID, w.ID)
		}
	}
	page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: other.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Errorf("the subscriber has %d deliveries, want 1 (the push)", len(page.Items))
	}
	// A repush is a fan-out like any other (documented): it is the one way
	// a test event reaches subscribers, asked for by name.
}

// TestSendTestEventRefusals: each bad request is refused with its typed
// error and changes nothing.
func TestSendTestEventRefusals(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.strict", Schema: json.RawMessage(testOrderSchema)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.old", Inactive: true}); err != nil {
		t.Fatal(err)
	}
	// No example can be built for "a": anything but null, and untyped.
	if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.odd",
		Schema: json.RawMessage(`{"required": ["a"], "properties": {"a": {"not": {"type": "null"}}}}`)}); err != nil {
		t.Fatal(err)
	}
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL})
	paused := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Inactive: true})
	elsewhere := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "other", URL: rcv.URL})

	counts := func() [3]int {
		return [3]int{b.count(t, "sparrow_event"), b.count(t, "sparrow_delivery"), b.countJobs(t, "")}
	}
	before := counts()
	send := func(p sparrow.SendTestEventParams) error {
		t.Helper()
		_, err := b.eng.SendTestEvent(ctx, p)
		if after := counts(); after != before {
			t.Errorf("%+v refused, yet events, deliveries and jobs went from %v to %v", p, before, after)
		}
		return err
	}
	ok := sparrow.SendTestEventParams{WebhookID: w.ID, Name: "order.created"}
	with := func(change func(*sparrow.SendTestEventParams)) sparrow.SendTestEventParams {
		p := ok
		change(&p)
		return p
	}

	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.WebhookID = "" })), "webhook_id")
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.WebhookID = "sub_1" })), "webhook_id")
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.WebhookID = "wh_01aaaaaaaaaaaaaaaaaaaaaaaa" })), sparrow.ErrNotFound)
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.WebhookID = elsewhere.ID })), sparrow.ErrNotFound)
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.WebhookID = paused.ID })), sparrow.ErrFailedPrecondition)
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "" })), "event_name")
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "no such!" })), "event_name")
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "order.unknown" })), "event_name")
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "order.old" })), sparrow.ErrFailedPrecondition)
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "sparrow.webhook.disabled" })), sparrow.ErrPermissionDenied)
	wantErr(t, send(with(func(p *sparrow.SendTestEventParams) { p.Name = "order.odd" })), sparrow.ErrFailedPrecondition)
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.Payload = []byte(`{"a":`) })), "payload")
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) { p.Payload = []byte(`[1]`) })), "payload")
	wantInvalid(t, send(with(func(p *sparrow.SendTestEventParams) {
		p.Name, p.Payload = "order.strict", []byte(`{"order_id": "x", "total": 0.5, "placed_at": "now"}`)
	})), "payload")
	_, err := b.eng.SendTestEventTx(ctx, nil, ok)
	wantInvalid(t, err, "tx")

	// Rolled back, a test send leaves nothing.
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.SendTestEventTx(ctx, tx, ok); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if after := counts(); after != before {
		t.Errorf("a rolled-back test send left events, deliveries and jobs at %v, from %v", after, before)
	}
	// Committed, it is there.
	if err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := b.eng.SendTestEventTx(ctx, tx, ok)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if after := counts(); after != [3]int{before[0] + 1, before[1] + 1, before[2] + 1} {
		t.Errorf("a test send took events, deliveries and jobs from %v to %v, want one more each", before, after)
	}
}
