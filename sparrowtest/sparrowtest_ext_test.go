package sparrowtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/sparrowtest"
	"github.com/sparrowhq/sparrow/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newEngine returns an engine on a schema of its own, with order.created
// registered and a webhook on a new receiver subscribed to it.
func newEngine(tb testing.TB, opts ...sparrow.Option) (*sparrow.Engine, *sparrowtest.Receiver, *webhook.Webhook) {
	tb.Helper()
	ctx := context.Background()
	opts = append([]sparrow.Option{sparrow.WithSchema(pgtest.Schema(tb)), sparrow.WithAllowPrivateNetworks()}, opts...)
	eng, err := sparrow.New(pgtest.Pool(tb), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		tb.Fatal(err)
	}
	rcv := sparrowtest.NewReceiver(tb)
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := rcv.SetSecrets(wh.Secret); err != nil {
		tb.Fatal(err)
	}
	return eng, rcv, wh
}

func push(tb testing.TB, eng *sparrow.Engine, payload string) string {
	tb.Helper()
	ev, err := eng.PushEvent(context.Background(), sparrow.PushEventParams{Name: "order.created", Payload: []byte(payload)})
	if err != nil {
		tb.Fatal(err)
	}
	return ev.ID
}

// TestDrainAndWait: Drain delivers what a push queued on an engine no one
// started, and the waits then find it delivered, verified and recorded.
func TestDrainAndWait(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	eng, rcv, wh := newEngine(t)
	eventID := push(t, eng, `{"n": 1}`)
	if n := len(rcv.Requests()); n != 0 {
		t.Fatalf("%d requests before Drain, want none: no worker runs", n)
	}
	sparrowtest.Drain(ctx, t, eng)
	if eng.RiverClient() != nil {
		t.Fatal("Drain left its River client running")
	}
	d := sparrowtest.WaitForDelivery(ctx, t, eng, "default", eventID, wh.ID)
	if d.Status != delivery.StatusSucceeded || d.AttemptCount != 1 {
		t.Fatalf("delivery %s after %d attempts, want succeeded after 1", d.Status, d.AttemptCount)
	}
	reqs := rcv.WaitForRequests(ctx, t, 1)
	got := reqs[0]
	if got.SignatureErr != nil || got.EventID != eventID || got.DeliveryID != d.ID || got.WebhookID != wh.ID || got.Attempt != 1 ||
		got.EventName != "order.created" || got.Namespace != "default" || string(got.Body) != `{"n": 1}` {
		t.Fatalf("request %+v does not match delivery %s of event %s", got, d.ID, eventID)
	}

	push(t, eng, `{"n": 2}`)
	push(t, eng, `{"n": 3}`)
	sparrowtest.Drain(ctx, t, eng)
	if ds := sparrowtest.WaitForDeliveries(ctx, t, eng, "default", wh.ID, 3); len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
}

// TestReceiverSignatures: a request signed with another secret is refused
// (401) and recorded as such; during a rotation either secret verifies.
func TestReceiverSignatures(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	eng, rcv, wh := newEngine(t)
	if err := rcv.SetSecrets("whsec_" + "c29tZSBvdGhlciBzZWNyZXQgb2YgMjQgYnl0ZXM="); err != nil {
		t.Fatal(err)
	}
	push(t, eng, `{}`)
	sparrowtest.Drain(ctx, t, eng)
	reqs := rcv.Requests()
	if len(reqs) != 1 || reqs[0].SignatureErr == nil {
		t.Fatalf("requests %+v, want one whose signature failed", reqs)
	}
	page, err := eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: wh.ID})
	if err != nil {
		t.Fatal(err)
	}
	if d := page.Items[0]; d.LastStatusCode != http.StatusUnauthorized {
		t.Fatalf("the receiver answered %d, want 401", d.LastStatusCode)
	}

	if err := rcv.SetSecrets("whsec_c29tZSBvdGhlciBzZWNyZXQgb2YgMjQgYnl0ZXM=", wh.Secret); err != nil {
		t.Fatal(err)
	}
	push(t, eng, `{}`)
	sparrowtest.Drain(ctx, t, eng)
	if reqs := rcv.Requests(); len(reqs) != 2 || reqs[1].SignatureErr != nil {
		t.Fatalf("with the webhook's secret among those set: %+v, want the second request verified", reqs)
	}
	if err := rcv.SetSecrets("whsec_!!"); err == nil {
		t.Fatal("a malformed secret was accepted")
	}
}

// TestWaitFailsOnFailure: a wait for a delivery that ends failed fails the
// test at once, naming why, rather than waiting out its timeout.
func TestWaitFailsOnFailure(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	eng, rcv, wh := newEngine(t)
	rcv.Respond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	eventID := push(t, eng, `{}`)
	sparrowtest.Drain(ctx, t, eng)

	start := time.Now()
	rec := &recordingTB{TB: t}
	func() {
		defer func() { recover() }() // recordingTB.Fatalf stops the wait as testing's does
		sparrowtest.WaitForDelivery(ctx, rec, eng, "default", eventID, wh.ID)
	}()
	if !strings.Contains(rec.fatal, "ended failed") || !strings.Contains(rec.fatal, "http_4xx") {
		t.Fatalf("the wait failed with %q, want the delivery's failure named", rec.fatal)
	}
	if waited := time.Since(start); waited > sparrowtest.WaitTimeoutDefault/2 {
		t.Fatalf("the wait took %s: it should fail as soon as the delivery ended", waited)
	}

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	rec = &recordingTB{TB: t}
	func() {
		defer func() { recover() }()
		rcv.WaitForRequests(short, rec, 5)
	}()
	if !strings.Contains(rec.fatal, "got 1 requests, want 5") {
		t.Fatalf("the wait failed with %q, want the count named", rec.fatal)
	}
}

// recordingTB records a Fatalf and stops the caller, as testing's does.
type recordingTB struct {
	testing.TB
	fatal string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(r.fatal)
}
