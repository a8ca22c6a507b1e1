package sparrow_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/webhook"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// transitionLog records the health callbacks' calls.
type transitionLog struct {
	mu       sync.Mutex
	changes  []health.Transition
	disabled []health.Transition
}

func (l *transitionLog) states() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, t := range l.changes {
		out = append(out, string(t.From)+"→"+string(t.To))
	}
	return out
}

// TestHealthScripted drives one webhook through scripted outcomes on an
// injected clock (all succeed, intermittent 500s, a long outage, recovery),
// one attempt at a time, and checks every state change and figure.
func TestHealthScripted(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	var log transitionLog
	b := setup(t,
		sparrow.WithClock(clock.Now),
		sparrow.WithHealthThresholds(health.Thresholds{DisableAfterFailures: 20, DisableAfter: 2 * time.Hour}),
		sparrow.WithOnHealthChange(func(_ context.Context, tr health.Transition) {
			log.mu.Lock()
			log.changes = append(log.changes, tr)
			log.mu.Unlock()
		}),
		sparrow.WithOnWebhookDisabled(func(_ context.Context, tr health.Transition) {
			log.mu.Lock()
			log.disabled = append(log.disabled, tr)
			log.mu.Unlock()
		}),
	)
	b.start(t)
	var status atomic.Int32
	status.Store(200)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(int(status.Load())) })
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})

	// attempt pushes one event answered with code, a step after the last,
	// and waits for its delivery to finish.
	attempt := func(code int, step time.Duration) *delivery.Delivery {
		t.Helper()
		status.Store(int32(code))
		clock.Advance(step)
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
		return b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() || d.Waiting })
	}
	get := func() *health.Health {
		t.Helper()
		h, err := b.eng.GetWebhookHealth(ctx, "default", wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	h := get()
	if h.State != health.StateUnknown || h.Attempts != 0 || h.SuccessRate != 0 {
		t.Fatalf("before any attempt: %+v", h)
	}

	// All succeed.
	for range 10 {
		attempt(200, time.Minute)
	}
	h = get()
	if h.State != health.StateHealthy || h.Attempts != 10 || h.Successes != 10 || h.SuccessRate != 100 ||
		h.ConsecutiveFailures != 0 || h.LatencyAvg <= 0 || h.LatencyP95 <= 0 || h.RecentAttempts != 10 || h.RecentSuccessRate != 100 {
		t.Fatalf("after 10 successes: %+v", h)
	}
	if !h.LastSuccessAt.Equal(clock.Now()) {
		t.Fatalf("LastSuccessAt %v, want %v", h.LastSuccessAt, clock.Now())
	}
	if len(h.Timeline) != 10 || h.Timeline[0].Attempts != 1 || h.Timeline[9].Successes != 1 || !h.Timeline[9].At.Equal(clock.Now().Truncate(time.Minute)) {
		t.Fatalf("timeline of 10 successes a minute apart: %+v", h.Timeline)
	}

	// Intermittent 500s: one in five.
	for i := range 20 {
		code := 200
		if i%5 == 0 {
			code = 500
		}
		attempt(code, time.Minute)
	}
	h = get()
	if h.State != health.StateDegraded || h.Attempts != 30 || h.Successes != 26 || h.Failures != 4 ||
		h.ErrorCounts["http_5xx"] != 4 || h.ConsecutiveFailures != 0 {
		t.Fatalf("after intermittent failures: %+v", h)
	}
	if want := 100 * 26.0 / 30; h.SuccessRate != want {
		t.Fatalf("success rate %.2f, want %.2f", h.SuccessRate, want)
	}

	// A long outage, once the window has rolled past the above.
	clock.Advance(2 * time.Hour)
	for i := 1; i <= 19; i++ {
		attempt(503, 10*time.Minute)
		h = get()
		// The window rolled past the successes: degraded from the first
		// failure (too few attempts for a rate, the last one failed);
		// unhealthy from 5, once the window holds MinAttempts attempts, all
		// failed.
		want := health.StateDegraded
		if i >= health.MinAttemptsDefault {
			want = health.StateUnhealthy
		}
		if h.State != want || h.ConsecutiveFailures != i {
			t.Fatalf("after %d failures of the outage: state %s (%s), consecutive %d; want %s", i, h.State, h.StateReason, h.ConsecutiveFailures, want)
		}
	}
	failingSince := h.FailingSince
	attempt(503, 10*time.Minute) // the 20th failure, 190 minutes in
	h = get()
	if h.State != health.StateDisabled || h.ConsecutiveFailures != 20 || h.SuccessRate != 0 {
		t.Fatalf("after 20 failures over 3 hours: %+v", h)
	}
	if got := clock.Now().Sub(failingSince); got != 190*time.Minute {
		t.Fatalf("failing for %s, want 190m", got)
	}
	w, err := b.eng.GetWebhook(ctx, "default", wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w.State != webhook.StateDisabled || w.StateReason == "" {
		t.Fatalf("webhook after auto-disable: %s (%q)", w.State, w.StateReason)
	}
	log.mu.Lock()
	disabled := append([]health.Transition(nil), log.disabled...)
	log.mu.Unlock()
	if len(disabled) != 1 || disabled[0].WebhookID != wh.ID {
		t.Fatalf("OnWebhookDisabled calls: %+v", disabled)
	}
	sent := len(rcv.received())
	waiting := attempt(200, time.Minute)
	if !waiting.Waiting || len(rcv.received()) != sent {
		t.Fatalf("a disabled webhook's delivery: %+v (receiver got %d, had %d)", waiting, len(rcv.received()), sent)
	}

	// Recovery: resumed, health starts over, the waiting delivery goes out.
	status.Store(200)
	if _, err := b.eng.ResumeWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	b.waitDelivery(t, "default", waiting.ID, func(d *delivery.Delivery) bool { return d.Status == delivery.StatusSucceeded })
	h = get()
	if h.State != health.StateHealthy || h.Attempts != 1 || h.ConsecutiveFailures != 0 || h.RecentAttempts != 1 {
		t.Fatalf("after recovery: %+v", h)
	}

	want := []string{
		"unknown→healthy", "healthy→degraded", "degraded→unhealthy", "unhealthy→disabled", "unknown→healthy",
	}
	// Callbacks run after the commit, so the last may follow the delivery's
	// success by a moment.
	for deadline := time.Now().Add(10 * time.Second); len(log.states()) < len(want) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if diff := cmp.Diff(want, log.states()); diff != "" {
		t.Fatalf("OnHealthChange calls (-want +got):\n%s", diff)
	}
	var recorded []string
	for _, tr := range h.Transitions {
		recorded = append([]string{string(tr.From) + "→" + string(tr.To)}, recorded...)
	}
	wantRecorded := append(append([]string{}, want[:4]...), "disabled→unknown", "unknown→healthy")
	if diff := cmp.Diff(wantRecorded, recorded); diff != "" {
		t.Fatalf("recorded transitions, oldest first (-want +got):\n%s", diff)
	}
}

// TestHealthConcurrent sends 200 deliveries to one webhook at once: the
// counters must add up to exactly what happened.
func TestHealthConcurrent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	var n atomic.Int32
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(500)
		}
	})
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	evs := make([]sparrow.Event, 200)
	for i := range evs {
		evs[i] = sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	rcv.waitRequests(t, 200)
	deadline := time.Now().Add(20 * time.Second)
	for countStatus(t, b, delivery.StatusSucceeded)+countStatus(t, b, delivery.StatusFailed) < 200 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h, err := b.eng.GetWebhookHealth(ctx, "default", wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Attempts != 200 || h.Successes != 150 || h.Failures != 50 || h.ErrorCounts["http_5xx"] != 50 ||
		h.SuccessRate != 75 || h.RecentAttempts != 100 {
		t.Fatalf("health after 200 concurrent attempts (150 ok, 50 failed): attempts %d successes %d failures %d errors %v rate %.1f recent %d",
			h.Attempts, h.Successes, h.Failures, h.ErrorCounts, h.SuccessRate, h.RecentAttempts)
	}
}

func TestHealthSummary(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	ok := newReceiver(t, nil)
	bad := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
	b.registerEvent(t, "order.created")
	good := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: ok.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	failing := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: bad.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: ok.URL}) // no subscriptions: stays unknown
	b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "other", URL: ok.URL})
	for range 10 {
		if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	ok.waitRequests(t, 10)
	bad.waitRequests(t, 10)
	var s *health.Summary
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if s, err = b.eng.GetHealthSummary(ctx, "default"); err != nil {
			t.Fatal(err)
		}
		if s.Attempts == 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := map[health.State]int{health.StateHealthy: 1, health.StateUnhealthy: 1, health.StateUnknown: 1}
	if diff := cmp.Diff(want, s.Webhooks); diff != "" {
		t.Fatalf("webhooks by state (-want +got):\n%s", diff)
	}
	if s.Attempts != 20 || s.Successes != 10 || s.SuccessRate != 50 {
		t.Fatalf("summary figures: %+v", s)
	}
	var timelineAttempts, timelineSuccesses int
	for _, p := range s.Timeline {
		timelineAttempts, timelineSuccesses = timelineAttempts+p.Attempts, timelineSuccesses+p.Successes
	}
	if timelineAttempts != 20 || timelineSuccesses != 10 {
		t.Fatalf("timeline sums to %d attempts, %d successes; want 20, 10", timelineAttempts, timelineSuccesses)
	}
	if len(s.Worst) != 1 || s.Worst[0].WebhookID != failing.ID || s.Worst[0].SuccessRate != 0 {
		t.Fatalf("worst: %+v", s.Worst)
	}
	h, err := b.eng.GetWebhookHealth(ctx, "default", good.ID)
	if err != nil || h.State != health.StateHealthy {
		t.Fatalf("good webhook: %+v, %v", h, err)
	}
	_, err = b.eng.GetHealthSummary(ctx, "bad namespace")
	wantInvalid(t, err, "namespace")
}

func TestHealthTrackingOff(t *testing.T) {
	t.Parallel()

	b := setup(t, sparrow.WithHealthTracking(false))
	b.start(t)
	rcv := newReceiver(t, nil)
	w, d := b.pushOne(t, rcv, nil)
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	h, err := b.eng.GetWebhookHealth(context.Background(), "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.State != health.StateUnknown || h.Attempts != 0 || h.RecentAttempts != 1 {
		t.Fatalf("with tracking off: state %s, window attempts %d, recent %d", h.State, h.Attempts, h.RecentAttempts)
	}
	if n := b.count(t, "sparrow_webhook_health"); n != 0 {
		t.Fatalf("%d health rows with tracking off", n)
	}
}

func TestOnDeliveryExhausted(t *testing.T) {
	t.Parallel()

	exhausted := make(chan delivery.Exhausted, 10)
	b := setup(t, sparrow.WithOnDeliveryExhausted(func(_ context.Context, e delivery.Exhausted) { exhausted <- e }))
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(503) })
	w, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 2 })
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	select {
	case e := <-exhausted:
		want := delivery.Exhausted{
			DeliveryID: d.ID, Namespace: "default", WebhookID: w.ID, EventID: d.EventID, EventName: "order.created",
			Attempts: 2, LastStatusCode: 503, LastErrorClass: delivery.ClassHTTP5xx, LastError: "HTTP 503 Service Unavailable",
		}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Fatalf("exhausted (-want +got):\n%s", diff)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnDeliveryExhausted was not called")
	}
	select {
	case e := <-exhausted:
		t.Fatalf("called again: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}
