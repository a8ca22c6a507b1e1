package sparrow_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dnstest"
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
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: w.Namespace, Name: "order.created", Payload: []byte(`{"order_id":"ord_123","total":49.99}`)})
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
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", got)
	}
	if got, want := req.Header.Get("User-Agent"), "Sparrow-Webhooks/"+sparrow.Version+" "; !strings.HasPrefix(got, want) {
		t.Fatalf("User-Agent %q, want it to start with %q", got, want)
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

// TestDeliveryRetryAfter checks that the receiver's Retry-After, in seconds
// or as an HTTP date, sets the next attempt, and that each attempt is signed
// with a timestamp of its own under the same webhook-id.
func TestDeliveryRetryAfter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		status int
		// retryAfter is the header's value, and when it asks the retry to be.
		retryAfter func(now time.Time) (string, time.Time)
	}{
		{"ServiceUnavailableSeconds", http.StatusServiceUnavailable, retryAfterSeconds},
		{"TooManyRequestsSeconds", http.StatusTooManyRequests, retryAfterSeconds},
		{"TooManyRequestsDate", http.StatusTooManyRequests, func(now time.Time) (string, time.Time) {
			// HTTP dates have whole seconds: this asks for one to two
			// seconds from now.
			at := now.Add(2 * time.Second).Truncate(time.Second)
			return at.UTC().Format(http.TimeFormat), at
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t, sparrow.WithBackoff(delivery.DefaultBackoff))
			b.start(t)
			var askedFor atomic.Pointer[time.Time]
			rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
				if n == 1 {
					value, at := tt.retryAfter(time.Now())
					askedFor.Store(&at)
					w.Header().Set("Retry-After", value)
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			w, d := b.pushOne(t, rcv, nil)
			d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
			if len(d.Attempts) != 2 {
				t.Fatalf("%d attempts, want 2", len(d.Attempts))
			}
			first, second := d.Attempts[0], d.Attempts[1]
			want := *askedFor.Load()
			if want.IsZero() { // seconds: counted from the attempt
				want = first.StartedAt.Add(time.Second)
			}
			if !first.NextAttemptAt.Equal(want) {
				t.Fatalf("next attempt planned at %s, want %s as the receiver asked", first.NextAttemptAt, want)
			}
			if second.StartedAt.Before(first.NextAttemptAt) {
				t.Fatalf("retried at %s, before the %s asked for", second.StartedAt, first.NextAttemptAt)
			}

			reqs := rcv.received()
			verifier, err := standardwebhooks.NewWebhook(w.Secret)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs, gotStamps, wantStamps []string
			for i, req := range reqs {
				// The reference verifier also refuses a stale timestamp.
				if err := verifier.Verify(req.Body, req.Header); err != nil {
					t.Errorf("attempt %d: the reference verifier refused it: %v", i+1, err)
				}
				gotIDs = append(gotIDs, req.Header.Get("Webhook-Id"))
				gotStamps = append(gotStamps, req.Header.Get("Webhook-Timestamp"))
				wantStamps = append(wantStamps, strconv.FormatInt(d.Attempts[i].StartedAt.Unix(), 10))
			}
			if diff := cmp.Diff([]string{d.ID, d.ID}, gotIDs); diff != "" {
				t.Errorf("webhook-id per attempt (-want +got):\n%s", diff)
			}
			// The attempts are a second or more apart, so their own
			// timestamps differ: a reused one would show here.
			if diff := cmp.Diff(wantStamps, gotStamps); diff != "" {
				t.Errorf("webhook-timestamp per attempt, want each attempt's start (-want +got):\n%s", diff)
			}
		})
	}
}

// retryAfterSeconds asks for a retry in one second, as a number of seconds;
// the time is zero because it counts from the attempt's start.
func retryAfterSeconds(time.Time) (string, time.Time) { return "1", time.Time{} }

// TestDeliveryDNSFailure delivers to a name that doesn't resolve: the
// attempt is recorded as a dns failure and not retried.
func TestDeliveryDNSFailure(t *testing.T) {
	t.Parallel()

	// A resolver that knows no names, as TestPrivateHostnameRefused uses.
	b := setup(t, sparrow.WithResolver(dnstest.New(t, nil).Resolver()))
	b.start(t)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{
		URL: "http://hooks.unknown.test/hook", Events: []string{"order.created"}, MaxAttempts: 5,
	})
	ev, err := b.eng.PushEvent(context.Background(), sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0]
	got := b.waitDelivery(t, w.Namespace, d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
	if got.Status != delivery.StatusFailed || got.AttemptCount != 1 || got.LastErrorClass != delivery.ClassDNS {
		t.Fatalf("status %s after %d attempts, class %q; want failed after 1, dns", got.Status, got.AttemptCount, got.LastErrorClass)
	}
	if a := got.Attempts[0]; a.StatusCode != 0 || a.Error == "" || !a.NextAttemptAt.IsZero() {
		t.Fatalf("attempt record: %+v", a)
	}
}

// TestDeliveryConnectionClosed has the receiver close the connection half
// way through its answer: an unexpected EOF, retried.
func TestDeliveryConnectionClosed(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n > 1 {
			w.WriteHeader(http.StatusOK)
			return
		}
		conn := hijackConn(t, w)
		conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"))
		conn.Close() // a FIN, 96 bytes short
	})
	_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 3 })
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	var classes []delivery.ErrorClass
	for _, a := range d.Attempts {
		classes = append(classes, a.ErrorClass)
	}
	if diff := cmp.Diff([]delivery.ErrorClass{delivery.ClassConnectionClosed, delivery.ClassNone}, classes); diff != "" {
		t.Fatalf("attempt classes (-want +got):\n%s", diff)
	}
	if a := d.Attempts[0]; a.Error == "" || a.NextAttemptAt.IsZero() {
		t.Fatalf("closed attempt record: %+v", a)
	}
	if n := len(rcv.received()); n != 2 {
		t.Fatalf("receiver got %d requests, want 2", n)
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), TTL: time.Second})
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), TTL: time.Second})
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), TTL: time.Minute})
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id":"ord_\"1\"","total":49.99,"items":[1,2]}`)})
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
	we := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: everyone.URL, Events: []string{"order.created"}})

	push := func(labels map[string]string) string {
		payload := mustJSON(t, labels)
		if labels == nil {
			payload = []byte(`{}`)
		}
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: payload, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	matching := push(map[string]string{"plan": "premium", "region": "eu", "extra": "x"})
	b.waitFannedOut(t, matching, push(map[string]string{"plan": "premium", "region": "us"}),
		push(map[string]string{"plan": "basic", "region": "eu"}), push(nil))
	// Fan-out is done: every delivery there will be exists. Count them
	// rather than the requests, which a wrong match might not have sent yet.
	deliveriesTo := func(webhookID string) []string {
		t.Helper()
		page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: webhookID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, d := range page.Items {
			events = append(events, d.EventID)
		}
		return events
	}
	if diff := cmp.Diff([]string{matching}, deliveriesTo(wp.ID)); diff != "" {
		t.Fatalf("events delivered to the filtered webhook (-want +got):\n%s", diff)
	}
	if n := len(deliveriesTo(we.ID)); n != 4 {
		t.Fatalf("the unfiltered webhook has %d deliveries, want 4", n)
	}
	got := premium.waitRequests(t, 1)
	if string(got[0].Body) != `{"extra":"x","plan":"premium","region":"eu"}` {
		t.Fatalf("the filtered webhook got %s", got[0].Body)
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
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
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

// TestRetryDelivery retries by hand a delivery that used up its attempts
// ("2 of 2", failed): one extra attempt, recorded as manual, that leaves the
// limit alone. It fails or succeeds as the receiver answers, and a failure
// brings no automatic attempt after it.
func TestRetryDelivery(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		healthy bool
		want    delivery.Status
	}{
		{"StillFailing", false, delivery.StatusFailed},
		{"Mended", true, delivery.StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			b := setup(t) // retries 10 ms apart: one scheduled by mistake would show at once
			b.start(t)
			var healthy atomic.Bool
			rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
				if !healthy.Load() {
					w.WriteHeader(http.StatusServiceUnavailable) // retried, attempts permitting
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 2 })
			d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
			if d.AttemptCount != 2 || d.MaxAttempts != 2 {
				t.Fatalf("before the retry: %d of %d attempts", d.AttemptCount, d.MaxAttempts)
			}

			_, err := b.eng.RetryDelivery(ctx, "other", d.ID)
			wantErr(t, err, sparrow.ErrNotFound)
			healthy.Store(tt.healthy)
			retried, err := b.eng.RetryDelivery(ctx, "default", d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if retried.Status != delivery.StatusFailed || !retried.RetryRequested || retried.AttemptCount != 2 || retried.MaxAttempts != 2 {
				t.Fatalf("RetryDelivery returned status %s, retry requested %v, %d of %d attempts; want failed, true, 2 of 2",
					retried.Status, retried.RetryRequested, retried.AttemptCount, retried.MaxAttempts)
			}
			got := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.ManualAttemptCount == 1 })
			b.waitJobsIdle(t, "sparrow_deliver")
			if got.Status != tt.want || got.AttemptCount != 2 || got.MaxAttempts != 2 || got.RetryRequested || !got.NextAttemptAt.IsZero() {
				t.Fatalf("after the manual attempt: status %s, %d of %d attempts (+%d manual), retry requested %v, next attempt %v; want %s, 2 of 2 (+1)",
					got.Status, got.AttemptCount, got.MaxAttempts, got.ManualAttemptCount, got.RetryRequested, got.NextAttemptAt, tt.want)
			}
			var manual []bool
			for _, a := range got.Attempts {
				manual = append(manual, a.Manual)
			}
			if diff := cmp.Diff([]bool{false, false, true}, manual); diff != "" {
				t.Fatalf("attempts recorded, manual or not (-want +got):\n%s", diff)
			}
			reqs := rcv.received()
			if len(reqs) != 3 {
				t.Fatalf("the receiver got %d requests, want 3: the manual attempt and no automatic one after it", len(reqs))
			}
			if h := reqs[2].Header; h.Get("Webhook-Id") != d.ID || h.Get("Sparrow-Attempt") != "3" {
				t.Fatalf("the manual attempt carried webhook-id %q, attempt %q; want %q, 3", h.Get("Webhook-Id"), h.Get("Sparrow-Attempt"), d.ID)
			}
			if !tt.healthy {
				return
			}
			// A succeeded delivery retried is sent again: a replay, under the
			// same webhook-id so that a receiver that de-duplicates ignores it.
			if _, err := b.eng.RetryDelivery(ctx, "default", d.ID); err != nil {
				t.Fatal(err)
			}
			replay := rcv.waitRequests(t, 4)[3]
			if got := replay.Header.Get("Webhook-Id"); got != d.ID {
				t.Fatalf("the replay carried webhook-id %q, want the delivery's %q", got, d.ID)
			}
			final := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.ManualAttemptCount == 2 })
			if final.Status != delivery.StatusSucceeded || final.AttemptCount != 2 || len(final.Attempts) != 4 {
				t.Fatalf("after the replay: %s, %d automatic attempts, %d recorded", final.Status, final.AttemptCount, len(final.Attempts))
			}
		})
	}
}

// TestRetryDeliveryWhileRetrying retries by hand a delivery waiting an hour
// for its next automatic attempt: the manual attempt goes at once. If it
// fails, the automatic schedule goes on as it was (same time, same
// attempts left, the backoff counting automatic attempts only); if it
// succeeds, the delivery is done and the automatic attempt never goes.
func TestRetryDeliveryWhileRetrying(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		healthy bool
		want    delivery.Status
	}{
		{"ManualFails", false, delivery.StatusRetrying},
		{"ManualSucceeds", true, delivery.StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			// An hour after the first automatic attempt, two after the second.
			b := setup(t, sparrow.WithBackoff(func(n int, _ *delivery.Outcome) time.Duration { return time.Duration(n) * time.Hour }))
			b.start(t)
			var healthy atomic.Bool
			rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
				if !healthy.Load() {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			_, d := b.pushOne(t, rcv, nil)
			before := b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusRetrying))
			b.waitJobsIdle(t, "sparrow_deliver")
			if until := time.Until(before.NextAttemptAt); until < 59*time.Minute {
				t.Fatalf("next automatic attempt in %s, want an hour", until)
			}

			healthy.Store(tt.healthy)
			asked := time.Now()
			if _, err := b.eng.RetryDelivery(ctx, "default", d.ID); err != nil {
				t.Fatal(err)
			}
			rcv.waitRequests(t, 2)
			got := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.ManualAttemptCount == 1 })
			if took := time.Since(asked); took > 15*time.Second {
				t.Fatalf("the manual attempt took %s to go", took)
			}
			if got.Status != tt.want || got.AttemptCount != 1 || got.MaxAttempts != before.MaxAttempts || got.RetryRequested {
				t.Fatalf("after the manual attempt: status %s, %d of %d attempts, retry requested %v; want %s, 1 of %d",
					got.Status, got.AttemptCount, got.MaxAttempts, got.RetryRequested, tt.want, before.MaxAttempts)
			}
			wantNext := before.NextAttemptAt
			if tt.healthy {
				wantNext = time.Time{}
			}
			if !got.NextAttemptAt.Equal(wantNext) || !got.Attempts[1].NextAttemptAt.Equal(wantNext) || !got.Attempts[1].Manual {
				t.Fatalf("after the manual attempt: next attempt %v (recorded %v, manual %v), want %v",
					got.NextAttemptAt, got.Attempts[1].NextAttemptAt, got.Attempts[1].Manual, wantNext)
			}

			// Now let the hour pass, for the delivery and every scheduled
			// delivery job: the automatic attempt goes once if the delivery
			// still retries, never if it succeeded.
			if _, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()+
				" SET next_attempt_at = now() WHERE id = $1 AND next_attempt_at IS NOT NULL", d.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
				" SET scheduled_at = now(), state = 'available' WHERE kind = 'sparrow_deliver' AND state = 'scheduled'"); err != nil {
				t.Fatal(err)
			}
			b.waitJobsIdle(t, "sparrow_deliver")
			if !tt.healthy {
				got = b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.AttemptCount == 2 })
				// The second automatic attempt's backoff: two hours, not three.
				if wait := got.NextAttemptAt.Sub(got.LastAttemptAt); got.Status != delivery.StatusRetrying || wait != 2*time.Hour {
					t.Fatalf("after the automatic attempt: %s, next in %s; want retrying, in 2h", got.Status, wait)
				}
			}
			want := map[bool]int{false: 3, true: 2}[tt.healthy]
			if n := len(rcv.received()); n != want {
				t.Fatalf("the receiver got %d requests, want %d", n, want)
			}
		})
	}
}

// TestRetryDeliveryAskedTwice asks twice, in one transaction, for a manual
// attempt: the second call finds it asked for and adds nothing.
func TestRetryDeliveryAskedTwice(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
	_, d := b.pushOne(t, rcv, nil)
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	b.waitJobsIdle(t, "sparrow_deliver")
	jobs := b.countJobs(t, "sparrow_deliver")

	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for range 2 {
		got, err := b.eng.RetryDeliveryTx(ctx, tx, "default", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RetryRequested || got.Status != delivery.StatusFailed {
			t.Fatalf("RetryDeliveryTx returned %s, retry requested %v", got.Status, got.RetryRequested)
		}
	}
	var added int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
		" WHERE kind = 'sparrow_deliver'").Scan(&added); err != nil {
		t.Fatal(err)
	}
	if added-jobs != 1 {
		t.Fatalf("two calls added %d delivery jobs, want 1", added-jobs)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.ManualAttemptCount == 1 })
	b.waitJobsIdle(t, "sparrow_deliver")
	if n := len(rcv.received()); n != 2 || got.Status != delivery.StatusFailed {
		t.Fatalf("%d requests, status %s; want 2 (one automatic, one manual), failed", n, got.Status)
	}
}

// TestRetryDeliveryPausedWebhook refuses a manual retry while the webhook
// is paused: its attempt would wait for the webhook anyway.
func TestRetryDeliveryPausedWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	var healthy atomic.Bool
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	w, d := b.pushOne(t, rcv, nil)
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	if _, err := b.eng.PauseWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	_, err := b.eng.RetryDelivery(ctx, "default", d.ID)
	wantErr(t, err, sparrow.ErrFailedPrecondition)
	if !strings.Contains(err.Error(), "resume it") {
		t.Fatalf("error %q does not say what to do", err)
	}
	_, err = b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: d.CreatedAt, DryRun: true})
	wantErr(t, err, sparrow.ErrFailedPrecondition)
	if got, _ := b.eng.GetDelivery(ctx, "default", d.ID); got.RetryRequested {
		t.Fatal("a refused retry was asked for")
	}

	if _, err := b.eng.ResumeWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	healthy.Store(true)
	if _, err := b.eng.RetryDelivery(ctx, "default", d.ID); err != nil {
		t.Fatal(err)
	}
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
}

// TestRetryDeliveryInProgress retries deliveries not attempted yet, whose
// first attempt is on its way or waits its turn: the call returns the
// delivery as it was, changes nothing and adds no job.
func TestRetryDeliveryInProgress(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	tests := []struct {
		name string
		// prepare leaves one delivery in progress and returns it.
		prepare func(t *testing.T, b *testBundle) *delivery.Delivery
	}{
		{"Pending", func(t *testing.T, b *testBundle) *delivery.Delivery {
			// A paused webhook's delivery waits, pending, with no attempt.
			rcv := newReceiver(t, nil)
			b.registerEvent(t, "order.created")
			w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Inactive: true})
			ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			d := b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0]
			return b.waitDelivery(t, w.Namespace, d.ID, func(d *delivery.Delivery) bool { return d.Waiting })
		}},
		{"WaitingForItsTurn", func(t *testing.T, b *testBundle) *delivery.Delivery {
			// The second delivery of an ordering key waits, pending, for the
			// first, which retries in an hour.
			rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
			b.registerEvent(t, "order.created")
			w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
			var ds []delivery.Delivery
			for range 2 {
				ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), OrderingKey: "cart-1"})
				if err != nil {
					t.Fatal(err)
				}
				ds = append(ds, b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0])
			}
			// Once the first attempt is recorded, its retry's job is in:
			// the jobs counted next stay as they are.
			b.waitDelivery(t, w.Namespace, ds[0].ID, statusIs(delivery.StatusRetrying))
			return b.waitDelivery(t, w.Namespace, ds[1].ID, func(d *delivery.Delivery) bool { return d.WaitsFor == ds[0].ID })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			// The next attempt is an hour away: nothing moves while the test
			// looks.
			b := setup(t, sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Hour }))
			b.start(t)
			before := tt.prepare(t, b)
			if before.Status != delivery.StatusPending {
				t.Fatalf("prepared a %s delivery", before.Status)
			}
			jobs := b.countJobs(t, "sparrow_deliver")

			got, err := b.eng.RetryDelivery(ctx, "default", before.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, got); diff != "" {
				t.Errorf("RetryDelivery returned (-before +got):\n%s", diff)
			}
			after, err := b.eng.GetDelivery(ctx, "default", before.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("stored after RetryDelivery (-before +after):\n%s", diff)
			}
			if n := b.countJobs(t, "sparrow_deliver"); n != jobs {
				t.Errorf("%d delivery jobs after RetryDelivery, want the %d there were", n, jobs)
			}
		})
	}
}

// TestDeleteWebhookCancelsRetrying deletes a webhook whose delivery waits
// for its next attempt: the delivery ends cancelled at once, and its job,
// when it runs, sends nothing.
func TestDeleteWebhookCancelsRetrying(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Hour }))
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	w, d := b.pushOne(t, rcv, nil)
	d = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusRetrying))
	jobID := b.waitJobState(t, "sparrow_deliver", "scheduled") // snoozed for the hour

	if err := b.eng.DeleteWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	got, err := b.eng.GetDelivery(ctx, "default", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != delivery.StatusCancelled || got.CompletedAt.IsZero() || !got.NextAttemptAt.IsZero() || got.AttemptCount != 1 {
		t.Fatalf("after the delete: status %s, %d attempts, completed %v, next attempt %v",
			got.Status, got.AttemptCount, got.CompletedAt, got.NextAttemptAt)
	}

	// Run the snoozed job now rather than in an hour.
	if _, err := b.eng.RiverClient().JobRetry(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	b.waitJobsDone(t, "sparrow_deliver", 1)
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("the deleted webhook's receiver got %d requests, want the 1 before the delete", n)
	}
	final, err := b.eng.GetDelivery(ctx, "default", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, final); diff != "" {
		t.Fatalf("the job changed the cancelled delivery (-cancelled +now):\n%s", diff)
	}
	_, err = b.eng.RetryDelivery(ctx, "default", d.ID)
	wantErr(t, err, sparrow.ErrFailedPrecondition)
}

// waitJobState waits until the schema's only job of kind is in state and
// returns its id.
func (b *testBundle) waitJobState(t *testing.T, kind, state string) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var id int64
		var got string
		if err := b.pool.QueryRow(context.Background(),
			"SELECT id, state FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+" WHERE kind = $1", kind).Scan(&id, &got); err != nil {
			t.Fatal(err)
		}
		if got == state {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s job %d is %s, want %s", kind, id, got, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
		ids = append(ids, d.ID)
	}
	healthy.Store(true)
	b.waitJobsIdle(t, "sparrow_deliver")
	jobs := b.countJobs(t, "sparrow_deliver")
	// A dry run counts what a replay would retry, and retries nothing.
	n, err := b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: since, DryRun: true})
	if err != nil || n != 5 {
		t.Fatalf("a dry run counted %d (%v), want 5", n, err)
	}
	if got := b.countJobs(t, "sparrow_deliver"); got != jobs {
		t.Fatalf("a dry run added %d delivery jobs", got-jobs)
	}
	for _, id := range ids {
		if d, err := b.eng.GetDelivery(ctx, "default", id); err != nil || d.Status != delivery.StatusFailed || d.RetryRequested {
			t.Fatalf("after a dry run: %s, retry requested %v (%v)", d.Status, d.RetryRequested, err)
		}
	}
	if n, err := b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: time.Now(), DryRun: true}); err != nil || n != 0 {
		t.Fatalf("a dry run since now counted %d (%v), want 0", n, err)
	}

	n, err = b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("retried %d deliveries, want 5", n)
	}
	for _, id := range ids {
		// One manual attempt each, beside the automatic one that failed.
		d := b.waitDelivery(t, "default", id, statusIs(delivery.StatusSucceeded))
		if d.AttemptCount != 1 || d.ManualAttemptCount != 1 || d.MaxAttempts != w.MaxAttempts {
			t.Fatalf("replayed: %d of %d attempts (+%d manual), want 1 of %d (+1)", d.AttemptCount, d.MaxAttempts, d.ManualAttemptCount, w.MaxAttempts)
		}
	}
	if n, err := b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{WebhookID: w.ID, Since: since, DryRun: true}); err != nil || n != 0 {
		t.Fatalf("a dry run after the replay counted %d (%v), want 0", n, err)
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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

func TestListDeliveriesTimeRange(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	b := setup(t, sparrow.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	// Paused: the deliveries wait, and nothing but fan-out reads the clock.
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Inactive: true})
	var made []string // a delivery made at start, then one an hour later
	for i := range 2 {
		clock.Store(start.Add(time.Duration(i) * time.Hour).UnixNano())
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0].ID)
	}
	list := func(p sparrow.ListDeliveriesParams) []string {
		t.Helper()
		page, err := b.eng.ListDeliveries(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range page.Items {
			ids = append(ids, d.ID)
		}
		return ids
	}
	tests := []struct {
		name string
		p    sparrow.ListDeliveriesParams
		want []string
	}{
		{"Until", sparrow.ListDeliveriesParams{Until: start.Add(30 * time.Minute)}, made[:1]},
		{"UntilExcludesItsInstant", sparrow.ListDeliveriesParams{Until: start}, nil},
		{"Since", sparrow.ListDeliveriesParams{Since: start.Add(30 * time.Minute)}, made[1:]},
		{"SinceIncludesItsInstant", sparrow.ListDeliveriesParams{Since: start.Add(time.Hour)}, made[1:]},
		{"Both", sparrow.ListDeliveriesParams{Since: start, Until: start.Add(2 * time.Hour)}, []string{made[1], made[0]}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestListDeliveriesInvalid(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	now := time.Now()
	tests := []struct {
		name  string
		p     sparrow.ListDeliveriesParams
		field string
	}{
		{"LimitNegative", sparrow.ListDeliveriesParams{Limit: -1}, "limit"},
		{"LimitOverMax", sparrow.ListDeliveriesParams{Limit: 101}, "limit"},
		{"CursorNotBase64", sparrow.ListDeliveriesParams{Cursor: "!!not a cursor!!"}, "cursor"},
		{"UntilBeforeSince", sparrow.ListDeliveriesParams{Since: now, Until: now.Add(-time.Minute)}, "until"},
		{"UntilEqualsSince", sparrow.ListDeliveriesParams{Since: now, Until: now}, "until"},
		{"BadWebhookID", sparrow.ListDeliveriesParams{WebhookID: "wh_"}, "webhook_id"},
		{"BadEventID", sparrow.ListDeliveriesParams{EventID: "dlv_01aaaaaaaaaaaaaaaaaaaaaaaa"}, "event_id"},
		{"BadNamespace", sparrow.ListDeliveriesParams{Namespace: "no spaces"}, "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.eng.ListDeliveries(ctx, tt.p)
			wantInvalid(t, err, tt.field)
		})
	}
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

// TestListDeliveriesByOutcome filters deliveries by their event's type and
// by what their latest attempt got: an HTTP status, or an error class.
func TestListDeliveriesByOutcome(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	answering := func(code int) *receiver {
		return newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(code) })
	}
	refused := newReceiver(t, nil)
	refused.Close() // nothing listens there any more
	receivers := map[string]*receiver{"ok": answering(200), "bad": answering(400), "down": answering(503), "refused": refused}
	b.registerEvent(t, "order.created", "order.paid")
	webhooks := map[string]string{} // webhook id → receiver name
	for name, rcv := range receivers {
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created", "order.paid"}, MaxAttempts: 1})
		webhooks[w.ID] = name
	}
	for _, name := range []string{"order.created", "order.paid"} {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: name, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range b.waitDeliveries(t, "default", ev.ID, 4) {
			b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
		}
	}
	var badID string
	for id, name := range webhooks {
		if name == "bad" {
			badID = id
		}
	}
	// list returns "receiver event" of each delivery listed, sorted.
	list := func(p sparrow.ListDeliveriesParams) []string {
		t.Helper()
		page, err := b.eng.ListDeliveries(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range page.Items {
			got = append(got, webhooks[d.WebhookID]+" "+d.EventName)
		}
		slices.Sort(got)
		return got
	}
	tests := []struct {
		name string
		p    sparrow.ListDeliveriesParams
		want []string
	}{
		{"EventName", sparrow.ListDeliveriesParams{EventName: "order.paid"},
			[]string{"bad order.paid", "down order.paid", "ok order.paid", "refused order.paid"}},
		{"HTTPStatusOK", sparrow.ListDeliveriesParams{HTTPStatus: 200}, []string{"ok order.created", "ok order.paid"}},
		{"HTTPStatus", sparrow.ListDeliveriesParams{HTTPStatus: 503}, []string{"down order.created", "down order.paid"}},
		{"HTTPStatusNoneGot", sparrow.ListDeliveriesParams{HTTPStatus: 404}, nil},
		{"ErrorClass", sparrow.ListDeliveriesParams{ErrorClass: delivery.ClassConnectionRefused},
			[]string{"refused order.created", "refused order.paid"}},
		{"ErrorClassAndEventName", sparrow.ListDeliveriesParams{ErrorClass: delivery.ClassHTTP5xx, EventName: "order.created"},
			[]string{"down order.created"}},
		{"HTTPStatusAndWebhook", sparrow.ListDeliveriesParams{HTTPStatus: 400, WebhookID: badID, Status: delivery.StatusFailed},
			[]string{"bad order.created", "bad order.paid"}},
		{"ErrorClassOfAnotherWebhook", sparrow.ListDeliveriesParams{ErrorClass: delivery.ClassHTTP5xx, WebhookID: badID}, nil},
		{"EventNameElsewhere", sparrow.ListDeliveriesParams{EventName: "order.paid", Namespace: "other"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(tt.p)); diff != "" {
				t.Errorf("listed (-want +got):\n%s", diff)
			}
		})
	}

	for _, tt := range []struct {
		name  string
		p     sparrow.ListDeliveriesParams
		field string
	}{
		{"HTTPStatusTooLow", sparrow.ListDeliveriesParams{HTTPStatus: 99}, "http_status"},
		{"HTTPStatusTooHigh", sparrow.ListDeliveriesParams{HTTPStatus: 600}, "http_status"},
		{"HTTPStatusNegative", sparrow.ListDeliveriesParams{HTTPStatus: -1}, "http_status"},
		{"ErrorClass", sparrow.ListDeliveriesParams{ErrorClass: "http_500"}, "error_class"},
		{"EventName", sparrow.ListDeliveriesParams{EventName: "order created"}, "event_name"},
	} {
		t.Run("Invalid"+tt.name, func(t *testing.T) {
			_, err := b.eng.ListDeliveries(ctx, tt.p)
			wantInvalid(t, err, tt.field)
		})
	}
	_, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{ErrorClass: "http_500"})
	if want := `unknown class "http_500": use one of timeout, dns, tls, connection_refused, connection_reset, connection_closed, network, blocked_destination, http_3xx, http_4xx, http_5xx, transform`; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want it to end %q", err, want)
	}
}
