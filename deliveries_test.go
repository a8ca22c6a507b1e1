package sparrow_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/webhook"
)

// pushOne registers order.created and a webhook on rcv (with opts applied to
// its params), pushes one event and returns the webhook and the delivery.
func (b *testBundle) pushOne(t *testing.T, rcv *receiver, change func(*sparrow.RegisterWebhookParams)) (*webhook.Webhook, *delivery.Delivery) {
	t.Helper()
	ctx := context.Background()
	b.registerEvent(t, "order.created")
	p := sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}}
	if change != nil {
		change(&p)
	}
	w := b.registerWebhook(t, p)
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Namespace: w.Namespace, Name: "order.created", Payload: []byte(`{"order_id":"ord_123","total":49.99}`)})
	if err != nil {
		t.Fatal(err)
	}
	ds := b.waitDeliveries(t, w.Namespace, ev.ID, 1)
	return w, &ds[0]
}

func statusIs(s delivery.Status) func(*delivery.Delivery) bool {
	return func(d *delivery.Delivery) bool { return d.Status == s }
}

func TestDeliverySucceeds(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		w.Header().Set("X-Receipt", "r-1")
		w.Write([]byte(`{"ok":true}`))
	})
	w, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) {
		p.Headers = map[string]string{"Authorization": "Bearer token-1"}
	})
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))

	req := rcv.received()[0]
	wh, err := standardwebhooks.NewWebhook(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Fatalf("the reference verifier refused the delivery: %v", err)
	}
	if req.Header.Get("Webhook-Id") != d.ID || req.Header.Get("Authorization") != "Bearer token-1" {
		t.Fatalf("headers: %v", req.Header)
	}
	if string(req.Body) != `{"order_id":"ord_123","total":49.99}` || string(d.Body) != string(req.Body) {
		t.Fatalf("body received %s, recorded %s", req.Body, d.Body)
	}
	if d.AttemptCount != 1 || d.LastStatusCode != 200 || d.CompletedAt.IsZero() || !d.NextAttemptAt.IsZero() {
		t.Fatalf("delivery record: %+v", d)
	}
	if len(d.Attempts) != 1 {
		t.Fatalf("%d attempts recorded", len(d.Attempts))
	}
	a := d.Attempts[0]
	if a.Number != 1 || a.StatusCode != 200 || a.ErrorClass != "" || string(a.ResponseBody) != `{"ok":true}` ||
		a.ResponseHeaders["X-Receipt"] != "r-1" || a.RequestHeaders["Authorization"] != "********" || a.Duration <= 0 {
		t.Fatalf("attempt record: %+v", a)
	}
}

func TestDeliveryRetries(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("database is down"))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	_, d := b.pushOne(t, rcv, nil)
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))

	reqs := rcv.received()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, req := range reqs {
		if req.Header.Get("Webhook-Id") != d.ID {
			t.Fatalf("attempt %d webhook-id %q, want the delivery id on every attempt", i+1, req.Header.Get("Webhook-Id"))
		}
		if req.Header.Get("Sparrow-Attempt") != strconv.Itoa(i+1) {
			t.Fatalf("attempt %d numbered %q", i+1, req.Header.Get("Sparrow-Attempt"))
		}
	}
	var classes []delivery.ErrorClass
	for _, a := range d.Attempts {
		classes = append(classes, a.ErrorClass)
	}
	if diff := cmp.Diff([]delivery.ErrorClass{delivery.ClassHTTP5xx, delivery.ClassHTTP5xx, delivery.ClassNone}, classes); diff != "" {
		t.Fatalf("attempt classes (-want +got):\n%s", diff)
	}
	if string(d.Attempts[0].ResponseBody) != "database is down" || d.Attempts[0].NextAttemptAt.IsZero() {
		t.Fatalf("failed attempt record: %+v", d.Attempts[0])
	}
}

func TestDeliveryOutcomes(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		status       int
		maxAttempts  int
		wantStatus   delivery.Status
		wantAttempts int
		wantClass    delivery.ErrorClass
	}{
		{"NotFoundNotRetried", 404, 5, delivery.StatusFailed, 1, delivery.ClassHTTP4xx},
		{"RedirectNotFollowed", 301, 5, delivery.StatusFailed, 1, delivery.ClassHTTP3xx},
		{"ServerErrorExhausted", 502, 3, delivery.StatusFailed, 3, delivery.ClassHTTP5xx},
		{"TooManyRequestsRetried", 429, 2, delivery.StatusFailed, 2, delivery.ClassHTTP4xx},
		{"RequestTimeoutRetried", 408, 2, delivery.StatusFailed, 2, delivery.ClassHTTP4xx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			b.start(t)
			rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
				if tt.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
			})
			_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = tt.maxAttempts })
			d = b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
			if d.Status != tt.wantStatus || d.AttemptCount != tt.wantAttempts || d.LastErrorClass != tt.wantClass || d.LastStatusCode != tt.status {
				t.Fatalf("status %s after %d attempts, class %q, code %d; want %s after %d, %q, %d",
					d.Status, d.AttemptCount, d.LastErrorClass, d.LastStatusCode, tt.wantStatus, tt.wantAttempts, tt.wantClass, tt.status)
			}
			if got := len(rcv.received()); got != tt.wantAttempts {
				t.Fatalf("receiver got %d requests, want %d (a redirect must not be followed)", got, tt.wantAttempts)
			}
		})
	}
}

func TestDeliveryConnectionRefused(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	rcv.Close() // nothing listens there any more
	_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 2 })
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	if d.AttemptCount != 2 || d.LastErrorClass != delivery.ClassConnectionRefused || d.Attempts[0].Error == "" {
		t.Fatalf("%+v", d)
	}
}

func TestDeliveryGonePausesWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	w, d := b.pushOne(t, rcv, nil)
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	if d.AttemptCount != 1 {
		t.Fatalf("410 was attempted %d times", d.AttemptCount)
	}
	got, err := b.eng.GetWebhook(ctx, "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != webhook.StatePaused || got.StateReason == "" {
		t.Fatalf("after 410 the webhook is %s (%q), want paused", got.State, got.StateReason)
	}
}

func TestDeliveryRetryAfter(t *testing.T) {
	t.Parallel()

	b := setup(t, sparrow.WithBackoff(delivery.DefaultBackoff))
	b.start(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	_, d := b.pushOne(t, rcv, nil)
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	reqs := rcv.received()
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Fatalf("retried %s after a Retry-After of 1s", gap)
	}
	if planned := d.Attempts[0].NextAttemptAt.Sub(d.Attempts[0].StartedAt); planned != time.Second {
		t.Fatalf("next attempt planned %s after the first, want the 1s asked for", planned)
	}
}

func TestDeliveryBlockedDestination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	// The same engine settings without the test's permission: the default.
	eng, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	b.start(t)
	rcv := newReceiver(t, nil)
	_, d := b.pushOne(t, rcv, nil)
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	if d.LastErrorClass != delivery.ClassBlockedDestination || d.AttemptCount != 1 {
		t.Fatalf("class %q after %d attempts, want one blocked_destination", d.LastErrorClass, d.AttemptCount)
	}
	if n := len(rcv.received()); n != 0 {
		t.Fatalf("a loopback receiver got %d requests from a default engine", n)
	}
}

func TestDeliveryTTL(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("ExpiresWhileRetrying", func(t *testing.T) {
		t.Parallel()

		b := setup(t, sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return 300 * time.Millisecond }))
		b.start(t)
		rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
		b.registerEvent(t, "order.created")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 50})
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`), TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ds := b.waitDeliveries(t, w.Namespace, ev.ID, 1)
		d := b.waitDelivery(t, "default", ds[0].ID, statusIs(delivery.StatusExpired))
		if d.AttemptCount == 0 || d.AttemptCount > 5 || d.CompletedAt.IsZero() {
			t.Fatalf("expired after %d attempts: %+v", d.AttemptCount, d)
		}
		if got := len(rcv.received()); got != d.AttemptCount {
			t.Fatalf("receiver got %d requests, the record says %d", got, d.AttemptCount)
		}
	})

	t.Run("ExpiresBeforeItsNextAttempt", func(t *testing.T) {
		t.Parallel()

		// The next attempt would come long after the TTL: the delivery
		// ends as expired when the TTL runs out, not at that attempt.
		b := setup(t, sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Hour }))
		b.start(t)
		rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
		b.registerEvent(t, "order.created")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`), TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ds := b.waitDeliveries(t, w.Namespace, ev.ID, 1)
		d := b.waitDelivery(t, "default", ds[0].ID, statusIs(delivery.StatusExpired))
		if d.AttemptCount != 1 || len(rcv.received()) != 1 {
			t.Fatalf("expired after %d attempts, %d requests", d.AttemptCount, len(rcv.received()))
		}
	})

	t.Run("ExpiredBeforeFanout", func(t *testing.T) {
		t.Parallel()

		clock := time.Now()
		b := setup(t, sparrow.WithClock(func() time.Time { return clock }))
		rcv := newReceiver(t, nil)
		b.registerEvent(t, "order.created")
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`), TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Minute) // the workers start late
		b.start(t)
		ds := b.waitDeliveries(t, "default", ev.ID, 1)
		if ds[0].Status != delivery.StatusExpired || ds[0].AttemptCount != 0 {
			t.Fatalf("delivery of an event expired at fan-out: %s after %d attempts", ds[0].Status, ds[0].AttemptCount)
		}
		if n := len(rcv.received()); n != 0 {
			t.Fatalf("an expired event reached the receiver %d times", n)
		}
	})
}

func TestPauseResumeDelivery(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if _, err := b.eng.PauseWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	var evIDs []string
	for range 3 {
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		evIDs = append(evIDs, ev.ID)
	}
	var ds []delivery.Delivery
	for _, id := range evIDs {
		d := b.waitDeliveries(t, "default", id, 1)[0]
		d = *b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Waiting })
		if d.Status != delivery.StatusPending || d.AttemptCount != 0 {
			t.Fatalf("a paused webhook's delivery is %s after %d attempts", d.Status, d.AttemptCount)
		}
		ds = append(ds, d)
	}
	if n := len(rcv.received()); n != 0 {
		t.Fatalf("a paused webhook received %d requests", n)
	}

	if _, err := b.eng.ResumeWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 3)
	for _, d := range ds {
		got := b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
		if got.Waiting || got.AttemptCount != 1 {
			t.Fatalf("after resume: %+v", got)
		}
	}
}

func TestDeleteWebhookCancelsDeliveries(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if _, err := b.eng.PauseWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
	b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Waiting })
	if err := b.eng.DeleteWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	got := b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusCancelled))
	if got.Waiting || got.CompletedAt.IsZero() {
		t.Fatalf("cancelled delivery: %+v", got)
	}
	_, err = b.eng.RetryDelivery(ctx, "default", d.ID)
	wantErr(t, err, sparrow.ErrFailedPrecondition)
}

func TestDeliveryTemplates(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL})
	if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created",
		Template: `{"text": {{json (printf "New order %s for $%v" .order_id .total)}}, "items": {{len .items}}}`,
	}); err != nil {
		t.Fatal(err)
	}
	broken := newReceiver(t, nil)
	wb := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: broken.URL})
	if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: wb.ID, EventName: "order.created", Template: `{"text": "{{.order_id}}`, // not JSON once rendered
	}); err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{"order_id":"ord_\"1\"","total":49.99,"items":[1,2]}`)})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rcv.waitRequests(t, 1)
	want := `{"text": "New order ord_\"1\" for $49.99", "items": 2}`
	if string(reqs[0].Body) != want {
		t.Fatalf("rendered body %s, want %s", reqs[0].Body, want)
	}
	wh, _ := standardwebhooks.NewWebhook(w.Secret)
	if err := wh.Verify(reqs[0].Body, reqs[0].Header); err != nil {
		t.Fatalf("rendered body not signed as sent: %v", err)
	}

	var failed *delivery.Delivery
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 2) {
		if d.WebhookID == wb.ID {
			failed = &d
		}
	}
	if failed.Status != delivery.StatusFailed || failed.LastErrorClass != delivery.ClassTransform || failed.AttemptCount != 0 || failed.LastError == "" {
		t.Fatalf("template failure: %+v", failed)
	}
	if n := len(broken.received()); n != 0 {
		t.Fatalf("a failed template still sent %d requests", n)
	}
}

func TestDeliveryLabelFilter(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	premium, everyone := newReceiver(t, nil), newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	wp := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: premium.URL})
	if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: wp.ID, EventName: "order.created", LabelFilter: map[string]string{"plan": "premium", "region": "eu"},
	}); err != nil {
		t.Fatal(err)
	}
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: everyone.URL, Events: []string{"order.created"}})

	push := func(labels map[string]string) {
		payload := mustJSON(t, labels)
		if labels == nil {
			payload = []byte(`{}`)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: payload, Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	push(map[string]string{"plan": "premium", "region": "eu", "extra": "x"})
	push(map[string]string{"plan": "premium", "region": "us"})
	push(map[string]string{"plan": "basic", "region": "eu"})
	push(nil)
	everyone.waitRequests(t, 4)
	b.waitJobsDone(t, "sparrow_fanout", 4)
	got := premium.waitRequests(t, 1)
	if len(got) != 1 || string(got[0].Body) != `{"extra":"x","plan":"premium","region":"eu"}` {
		t.Fatalf("the filtered webhook got %d requests, first %s", len(got), got[0].Body)
	}
}

func TestDeliveryDuringRotation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	rotated, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	req := rcv.waitRequests(t, 1)[0]
	for _, secret := range []string{w.Secret, rotated.Secret} {
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.Verify(req.Body, req.Header); err != nil {
			t.Errorf("a receiver holding %s refused the delivery: %v", secret, err)
		}
	}
}

func TestRetryDelivery(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	var healthy atomic.Bool
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	w, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 2 })
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))

	_, err := b.eng.RetryDelivery(ctx, "other", d.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	healthy.Store(true)
	retried, err := b.eng.RetryDelivery(ctx, "default", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retried.Status != delivery.StatusRetrying || retried.MaxAttempts != 1+w.MaxAttempts {
		t.Fatalf("after RetryDelivery: status %s, max attempts %d", retried.Status, retried.MaxAttempts)
	}
	got := b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	if got.AttemptCount != 2 || len(got.Attempts) != 2 {
		t.Fatalf("after the retry: %d attempts", got.AttemptCount)
	}
	// A retry of a delivery in progress or done again is harmless.
	if _, err := b.eng.RetryDelivery(ctx, "default", d.ID); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 3)
}

func TestRetryFailedDeliveries(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	var healthy atomic.Bool
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	since := time.Now()
	var ids []string
	for range 5 {
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
		ids = append(ids, d.ID)
	}
	healthy.Store(true)
	n, err := b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("retried %d deliveries, want 5", n)
	}
	for _, id := range ids {
		b.waitDelivery(t, "default", id, statusIs(delivery.StatusSucceeded))
	}
	n, err = b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: since})
	if err != nil || n != 0 {
		t.Fatalf("a second replay retried %d (%v), want 0", n, err)
	}
	_, err = b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{Namespace: "other", WebhookID: w.ID, Since: since})
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID})
	wantInvalid(t, err, "since")
}

func TestListDeliveries(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	ok := newReceiver(t, nil)
	bad := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(400) })
	b.registerEvent(t, "order.created")
	wOK := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: ok.URL, Events: []string{"order.created"}})
	wBad := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: bad.URL, Events: []string{"order.created"}})
	var events []string
	for range 4 {
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev.ID)
	}
	ok.waitRequests(t, 4)
	bad.waitRequests(t, 4)
	list := func(p sparrow.ListDeliveriesParams) []delivery.Delivery {
		t.Helper()
		var out []delivery.Delivery
		for range 20 {
			page, err := b.eng.ListDeliveries(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Items...)
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				return out
			}
		}
		t.Fatal("pagination did not end")
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	// Requests arrive before their attempts are recorded.
	for (len(list(sparrow.ListDeliveriesParams{Status: delivery.StatusFailed})) < 4 ||
		len(list(sparrow.ListDeliveriesParams{Status: delivery.StatusSucceeded})) < 4) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	all := list(sparrow.ListDeliveriesParams{Limit: 3})
	if len(all) != 8 {
		t.Fatalf("%d deliveries listed, want 8", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b delivery.Delivery) int { return -cmpString(a.ID, b.ID) }) {
		t.Fatal("not newest first")
	}
	for _, d := range all {
		if d.Body != nil || d.Attempts != nil {
			t.Fatal("a listing carried bodies or attempts")
		}
	}
	for _, d := range list(sparrow.ListDeliveriesParams{WebhookID: wBad.ID}) {
		if d.WebhookID != wBad.ID || d.Status != delivery.StatusFailed {
			t.Fatalf("by webhook: %+v", d)
		}
	}
	if got := list(sparrow.ListDeliveriesParams{WebhookID: wOK.ID, Status: delivery.StatusSucceeded}); len(got) != 4 {
		t.Fatalf("%d succeeded deliveries to the good webhook, want 4", len(got))
	}
	if got := list(sparrow.ListDeliveriesParams{EventID: events[0]}); len(got) != 2 {
		t.Fatalf("%d deliveries of one event, want 2", len(got))
	}
	if got := list(sparrow.ListDeliveriesParams{Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Fatalf("%d deliveries from the future", len(got))
	}
	if got := list(sparrow.ListDeliveriesParams{Namespace: "other"}); len(got) != 0 {
		t.Fatalf("%d deliveries leaked into another namespace", len(got))
	}
	_, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{Status: "lost"})
	wantInvalid(t, err, "status")
	_, err = b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: "sub_x"})
	wantInvalid(t, err, "webhook_id")
	_, err = b.eng.GetDelivery(ctx, "other", all[0].ID)
	wantErr(t, err, sparrow.ErrNotFound)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
