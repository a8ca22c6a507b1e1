package sparrow_test

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
	calls    chan struct{}
}

func newTransitionLog() *transitionLog { return &transitionLog{calls: make(chan struct{}, 1000)} }

// options registers the log as the engine's OnHealthChange and
// OnWebhookDisabled.
func (l *transitionLog) options() []sparrow.Option {
	return []sparrow.Option{
		sparrow.WithOnHealthChange(func(_ context.Context, tr health.Transition) { l.add(&l.changes, tr) }),
		sparrow.WithOnWebhookDisabled(func(_ context.Context, tr health.Transition) { l.add(&l.disabled, tr) }),
	}
}

func (l *transitionLog) add(to *[]health.Transition, tr health.Transition) {
	l.mu.Lock()
	*to = append(*to, tr)
	l.mu.Unlock()
	l.calls <- struct{}{}
}

// got returns the calls so far.
func (l *transitionLog) got() (changes, disabled []health.Transition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.changes), slices.Clone(l.disabled)
}

// waitChanges waits until OnHealthChange has had n calls, and returns the
// calls of both callbacks. A worker calls them after its commit, so they may
// follow by a moment what the test reads through the engine.
func (l *transitionLog) waitChanges(t *testing.T, n int) (changes, disabled []health.Transition) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		changes, disabled := l.got()
		if len(changes) >= n {
			return changes, disabled
		}
		select {
		case <-l.calls:
		case <-deadline:
			t.Fatalf("OnHealthChange had %d calls, want %d: %+v", len(changes), n, changes)
		}
	}
}

// quickDisable disables a webhook after two failures a minute apart.
var quickDisable = health.Thresholds{DegradedAfterFailures: 1, UnhealthyAfterFailures: 2, DisableAfterFailures: 2, DisableAfter: time.Minute}

// ignoreLatency leaves out of a comparison the figures that depend on how
// fast the receiver answered, and the transitions, compared on their own.
var ignoreLatency = cmpopts.IgnoreFields(health.Health{},
	"LatencyAvg", "LatencyP95", "RecentLatencyAvg", "RecentLatencyP95", "Timeline", "Transitions")

// pushAndWait moves the clock on by step, pushes one event named name and
// waits until its delivery (the test has one webhook) is finished or waiting.
func pushAndWait(t *testing.T, b *testBundle, clock *testClock, step time.Duration, name string) *delivery.Delivery {
	t.Helper()
	clock.Advance(step)
	ev, err := b.eng.PushEvent(context.Background(), sparrow.PushEventParams{Name: name, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
	return b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() || d.Waiting })
}

func getHealth(t *testing.T, b *testBundle, id string) *health.Health {
	t.Helper()
	h, err := b.eng.GetWebhookHealth(context.Background(), "default", id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func getWebhook(t *testing.T, b *testBundle, id string) *webhook.Webhook {
	t.Helper()
	w, err := b.eng.GetWebhook(context.Background(), "default", id)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// oldestFirst returns a Health's transitions, which come newest first, the
// other way round.
func oldestFirst(ts []health.Transition) []health.Transition {
	ts = slices.Clone(ts)
	slices.Reverse(ts)
	return ts
}

// stateOf is the part of a webhook that health decides.
type stateOf struct {
	State          webhook.State
	StateReason    string
	StateChangedAt time.Time
}

// attemptMade is an attempt as its delivery records it, for the figures
// health must derive from it.
type attemptMade struct {
	at       time.Time
	duration time.Duration
	ok       bool
}

func madeBy(d *delivery.Delivery) attemptMade {
	a := d.Attempts[len(d.Attempts)-1]
	return attemptMade{at: a.StartedAt, duration: a.Duration, ok: a.ErrorClass == delivery.ClassNone}
}

// latencies returns the figures health reports over attempts (all in its
// window and among its last 100): the window average, to the microsecond
// like the counters; the last attempts' exact average and nearest-rank p95;
// and the per-minute timeline of attempts made a minute or more apart.
func latencies(attempts []attemptMade) (avg, recentAvg, recentP95 time.Duration, timeline []health.Point) {
	var sumUS int64
	var sum time.Duration
	var sorted []time.Duration
	for _, a := range attempts {
		sumUS, sum, sorted = sumUS+a.duration.Microseconds(), sum+a.duration, append(sorted, a.duration)
		p := health.Point{At: a.at.Truncate(time.Minute), Attempts: 1, LatencyAvg: a.duration.Truncate(time.Microsecond)}
		if a.ok {
			p.Successes = 1
		}
		timeline = append(timeline, p)
	}
	n := len(attempts)
	slices.Sort(sorted)
	return time.Duration(sumUS/int64(n)) * time.Microsecond, sum / time.Duration(n),
		sorted[int(math.Ceil(0.95*float64(n)))-1], timeline
}

// TestHealthScripted drives one webhook through scripted outcomes on an
// injected clock (all succeed, intermittent 500s, a long outage, recovery),
// one attempt at a time, and checks every state change and figure.
func TestHealthScripted(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	t0 := clock.Now()
	minute := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	log := newTransitionLog()
	b := setup(t, append(log.options(),
		sparrow.WithClock(clock.Now),
		sparrow.WithHealthThresholds(health.Thresholds{DisableAfterFailures: 20, DisableAfter: 2 * time.Hour}))...)
	b.start(t)
	var status atomic.Int32
	var delay atomic.Int64
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		time.Sleep(time.Duration(delay.Load()))
		w.WriteHeader(int(status.Load()))
	})
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	transition := func(at time.Time, from, to health.State, reason string) health.Transition {
		return health.Transition{WebhookID: wh.ID, Namespace: "default", At: at, From: from, To: to, Reason: reason}
	}
	var made []attemptMade
	// attempt makes one attempt answered with code, a step after the last.
	attempt := func(code int, step time.Duration) *delivery.Delivery {
		t.Helper()
		status.Store(int32(code))
		d := pushAndWait(t, b, clock, step, "order.created")
		if !d.Waiting {
			made = append(made, madeBy(d))
		}
		return d
	}

	h := getHealth(t, b, wh.ID)
	if h.State != health.StateUnknown || h.Attempts != 0 || h.SuccessRate != 0 {
		t.Fatalf("before any attempt: %+v", h)
	}

	// All succeed, each answered after slowAnswer: every latency falls in
	// the histogram's bucket (1s, 2.5s], unless this machine adds more
	// than a second to a local request (a busy machine adds a few hundred
	// milliseconds), so the p95 the histogram interpolates is 1s + 95% of
	// 1.5s.
	const slowAnswer = 1050 * time.Millisecond
	delay.Store(int64(slowAnswer))
	for range 10 {
		attempt(200, time.Minute)
	}
	delay.Store(0)
	for _, a := range made {
		if a.duration < slowAnswer || a.duration > 2500*time.Millisecond {
			t.Fatalf("an attempt answered after %s took %s, outside the bucket (1s, 2.5s] this test relies on", slowAnswer, a.duration)
		}
	}
	avg, recentAvg, recentP95, timeline := latencies(made)
	want := &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		State: health.StateHealthy, StateReason: "the last attempt succeeded", StateChangedAt: minute(1),
		Window: health.WindowDefault, Attempts: 10, Successes: 10, SuccessRate: 100,
		LatencyAvg: avg, LatencyP95: 2425 * time.Millisecond, ErrorCounts: map[string]int{}, StatusCounts: map[string]int{"200": 10},
		RecentAttempts: 10, RecentSuccessRate: 100, RecentLatencyAvg: recentAvg, RecentLatencyP95: recentP95,
		LastSuccessAt: minute(10),
		Transitions:   []health.Transition{transition(minute(1), health.StateUnknown, health.StateHealthy, "the last attempt succeeded")},
		Timeline:      timeline,
	}
	if diff := cmp.Diff(want, getHealth(t, b, wh.ID)); diff != "" {
		t.Fatalf("after 10 successes (-want +got):\n%s", diff)
	}

	// Intermittent 500s: one in five, from the first.
	for i := range 20 {
		code := 200
		if i%5 == 0 {
			code = 500
		}
		attempt(code, time.Minute)
	}
	avg, recentAvg, recentP95, timeline = latencies(made)
	want = &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		// 10 successes and the first failure: 90.9%.
		State: health.StateDegraded, StateReason: "success rate 90.9% below 95%", StateChangedAt: minute(11),
		Window: health.WindowDefault, Attempts: 30, Successes: 26, Failures: 4, SuccessRate: 100 * 26.0 / 30,
		LatencyAvg: avg, ErrorCounts: map[string]int{"http_5xx": 4}, StatusCounts: map[string]int{"200": 26, "500": 4},
		RecentAttempts: 30, RecentSuccessRate: 100 * 26.0 / 30, RecentLatencyAvg: recentAvg, RecentLatencyP95: recentP95,
		LastSuccessAt: minute(30), LastFailureAt: minute(26),
		Timeline: timeline,
	}
	// The p95 of fast answers depends on how fast.
	if diff := cmp.Diff(want, getHealth(t, b, wh.ID), cmpopts.IgnoreFields(health.Health{}, "LatencyP95", "Transitions")); diff != "" {
		t.Fatalf("after intermittent failures (-want +got):\n%s", diff)
	}

	// A long outage, once the window has rolled past the above: a failure
	// every 10 minutes from minute 160.
	clock.Advance(2 * time.Hour)
	for i := 1; i <= 19; i++ {
		attempt(503, 10*time.Minute)
		h = getHealth(t, b, wh.ID)
		// The window rolled past the successes: degraded from the first
		// failure (too few attempts for a rate, the last one failed);
		// unhealthy from 5, once the window holds MinAttempts attempts, all
		// failed.
		want := health.StateDegraded
		if i >= health.MinAttemptsDefault {
			want = health.StateUnhealthy
		}
		if h.State != want || h.ConsecutiveFailures != i || !h.LastFailureAt.Equal(clock.Now()) {
			t.Fatalf("after %d failures of the outage: state %s (%s), consecutive %d, last failure at %s; want %s, %d, %s",
				i, h.State, h.StateReason, h.ConsecutiveFailures, h.LastFailureAt, want, i, clock.Now())
		}
	}
	attempt(503, 10*time.Minute) // the 20th failure, 190 minutes in
	disabledAt := minute(350)
	disabledReason := "20 consecutive failures and no success for 3h10m0s"
	want = &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		State: health.StateDisabled, StateReason: disabledReason, StateChangedAt: disabledAt,
		// The hour's window holds the failures from minute 290 on.
		Window: health.WindowDefault, Attempts: 7, Failures: 7, ErrorCounts: map[string]int{"http_5xx": 7}, StatusCounts: map[string]int{"503": 7},
		RecentAttempts: 50, RecentSuccessRate: 100 * 26.0 / 50,
		ConsecutiveFailures: 20, FailingSince: minute(160), LastSuccessAt: minute(30), LastFailureAt: disabledAt,
	}
	if diff := cmp.Diff(want, getHealth(t, b, wh.ID), ignoreLatency); diff != "" {
		t.Fatalf("after 20 failures over 3 hours (-want +got):\n%s", diff)
	}
	wantWebhook := stateOf{State: webhook.StateDisabled, StateReason: disabledReason, StateChangedAt: disabledAt}
	w := getWebhook(t, b, wh.ID)
	if diff := cmp.Diff(wantWebhook, stateOf{w.State, w.StateReason, w.StateChangedAt}); diff != "" {
		t.Fatalf("webhook after auto-disable (-want +got):\n%s", diff)
	}
	sent := len(rcv.received())
	waiting := attempt(200, time.Minute)
	if !waiting.Waiting || len(rcv.received()) != sent {
		t.Fatalf("a disabled webhook's delivery: %+v (receiver got %d, had %d)", waiting, len(rcv.received()), sent)
	}

	// Recovery: resumed, health starts over, the waiting delivery goes out.
	// The resume's change reaches OnHealthChange before ResumeWebhook
	// returns.
	resumedAt := minute(351)
	wantChanges := []health.Transition{
		transition(minute(1), health.StateUnknown, health.StateHealthy, "the last attempt succeeded"),
		transition(minute(11), health.StateHealthy, health.StateDegraded, "success rate 90.9% below 95%"),
		transition(minute(200), health.StateDegraded, health.StateUnhealthy, "success rate 0.0% below 50%"),
		transition(disabledAt, health.StateUnhealthy, health.StateDisabled, disabledReason),
		transition(resumedAt, health.StateDisabled, health.StateUnknown, "webhook resumed"),
	}
	if _, err := b.eng.ResumeWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	if changes, _ := log.got(); len(changes) < len(wantChanges) || !cmp.Equal(wantChanges[4], changes[4]) {
		t.Fatalf("OnHealthChange calls once ResumeWebhook returned: %+v", changes)
	}
	b.waitDelivery(t, "default", waiting.ID, statusIs(delivery.StatusSucceeded))
	wantChanges = append(wantChanges, transition(resumedAt, health.StateUnknown, health.StateHealthy, "the last attempt succeeded"))
	want = &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		State: health.StateHealthy, StateReason: "the last attempt succeeded", StateChangedAt: resumedAt,
		Window: health.WindowDefault, Attempts: 1, Successes: 1, SuccessRate: 100, ErrorCounts: map[string]int{},
		StatusCounts:   map[string]int{"200": 1},
		RecentAttempts: 1, RecentSuccessRate: 100,
		// The last times outlive the reset: they are history, not figures.
		LastSuccessAt: resumedAt, LastFailureAt: disabledAt,
	}
	h = getHealth(t, b, wh.ID)
	if diff := cmp.Diff(want, h, ignoreLatency); diff != "" {
		t.Fatalf("after recovery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChanges, oldestFirst(h.Transitions)); diff != "" {
		t.Fatalf("recorded transitions, oldest first (-want +got):\n%s", diff)
	}
	changes, disabled := log.waitChanges(t, len(wantChanges))
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Fatalf("OnHealthChange calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChanges[3:4], disabled); diff != "" {
		t.Fatalf("OnWebhookDisabled calls (-want +got):\n%s", diff)
	}
}

// TestHealthDisabledIsSticky: attempts in flight when their webhook is
// disabled count in its figures when they end, but neither re-enable it
// (a success would call healthy a webhook whose deliveries wait) nor
// disable it again.
func TestHealthDisabledIsSticky(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	t0 := clock.Now()
	log := newTransitionLog()
	b := setup(t, append(log.options(), sparrow.WithClock(clock.Now), sparrow.WithHealthThresholds(quickDisable))...)
	b.start(t)
	// Requests for the held.* events wait for the test to release them,
	// then answer 200 (held.ok) or 500; all others answer 500 at once.
	held := make(chan struct{}, 10)
	releaseOK, releaseFail, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		event := r.Header.Get(delivery.HeaderEvent)
		if release := map[string]chan struct{}{"held.ok": releaseOK, "held.fail": releaseFail}[event]; release != nil {
			held <- struct{}{}
			select {
			case <-release:
			case <-done:
			case <-r.Context().Done():
			}
		}
		if event != "held.ok" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	t.Cleanup(func() { close(done) }) // before the receiver closes: it waits for its handlers
	events := []string{"held.ok", "held.fail", "fail"}
	b.registerEvent(t, events...)
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: events, MaxAttempts: 1})

	// Three attempts in flight from minute 0.
	var heldIDs []string
	for _, name := range []string{"held.ok", "held.fail", "held.fail"} {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: name, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		heldIDs = append(heldIDs, b.waitDeliveries(t, "default", ev.ID, 1)[0].ID)
	}
	for range 3 {
		select {
		case <-held:
		case <-time.After(20 * time.Second):
			t.Fatalf("receiver holds %d requests, want 3", len(rcv.received()))
		}
	}
	// Two failures a minute apart disable the webhook.
	pushAndWait(t, b, clock, time.Minute, "fail")
	pushAndWait(t, b, clock, time.Minute, "fail")
	disabledAt := t0.Add(2 * time.Minute)
	reason := "2 consecutive failures and no success for 1m0s"
	wantWebhook := stateOf{State: webhook.StateDisabled, StateReason: reason, StateChangedAt: disabledAt}
	if w := getWebhook(t, b, wh.ID); w.State != webhook.StateDisabled {
		t.Fatalf("webhook after two failures: %s (%s)", w.State, w.StateReason)
	}

	// The held success ends: counted, but the webhook stays disabled.
	releaseOK <- struct{}{}
	b.waitDelivery(t, "default", heldIDs[0], statusIs(delivery.StatusSucceeded))
	if h := getHealth(t, b, wh.ID); h.State != health.StateDisabled || h.Attempts != 3 || h.Successes != 1 || h.ConsecutiveFailures != 0 {
		t.Fatalf("after a success in flight when disabled: state %s (%s), attempts %d, successes %d, consecutive failures %d; want disabled, 3, 1, 0",
			h.State, h.StateReason, h.Attempts, h.Successes, h.ConsecutiveFailures)
	}
	// Then the two held failures, a minute apart: enough to disable the
	// webhook, were it not disabled already. Waiting for their jobs to
	// complete waits for their callbacks too.
	for i := range 2 {
		clock.Advance(time.Minute)
		releaseFail <- struct{}{}
		b.waitJobsDone(t, "sparrow_deliver", 4+i)
	}

	want := &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		State: health.StateDisabled, StateReason: reason, StateChangedAt: disabledAt,
		Window: health.WindowDefault, Attempts: 5, Successes: 1, Failures: 4, SuccessRate: 20,
		ErrorCounts: map[string]int{"http_5xx": 4}, StatusCounts: map[string]int{"200": 1, "500": 4},
		RecentAttempts: 5, RecentSuccessRate: 20,
		// The held attempts started at minute 0: a late answer must not
		// make the last failure older.
		ConsecutiveFailures: 2, FailingSince: t0, LastSuccessAt: t0, LastFailureAt: disabledAt,
	}
	h := getHealth(t, b, wh.ID)
	if diff := cmp.Diff(want, h, ignoreLatency); diff != "" {
		t.Fatalf("health once every attempt ended (-want +got):\n%s", diff)
	}
	w := getWebhook(t, b, wh.ID)
	if diff := cmp.Diff(wantWebhook, stateOf{w.State, w.StateReason, w.StateChangedAt}); diff != "" {
		t.Fatalf("webhook once every attempt ended (-want +got):\n%s", diff)
	}
	wantChanges := []health.Transition{
		{WebhookID: wh.ID, Namespace: "default", At: t0.Add(time.Minute), From: health.StateUnknown, To: health.StateDegraded, Reason: "1 consecutive failures"},
		{WebhookID: wh.ID, Namespace: "default", At: disabledAt, From: health.StateDegraded, To: health.StateDisabled, Reason: reason},
	}
	if diff := cmp.Diff(wantChanges, oldestFirst(h.Transitions)); diff != "" {
		t.Fatalf("recorded transitions (-want +got):\n%s", diff)
	}
	changes, disabled := log.got()
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Fatalf("OnHealthChange calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChanges[1:], disabled); diff != "" {
		t.Fatalf("OnWebhookDisabled calls (-want +got):\n%s", diff)
	}
	s, err := b.eng.GetHealthSummary(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[health.State]int{health.StateDisabled: 1}, s.Webhooks); diff != "" {
		t.Fatalf("summary's webhooks by state (-want +got):\n%s", diff)
	}
}

// TestHealthRecovers: successes alone, as the window rolls past the
// failures, take an unhealthy webhook back through degraded to healthy.
func TestHealthRecovers(t *testing.T) {
	t.Parallel()

	clock := newTestClock()
	t0 := clock.Now()
	log := newTransitionLog()
	b := setup(t, append(log.options(), sparrow.WithClock(clock.Now), sparrow.WithHealthThresholds(health.Thresholds{Window: 10 * time.Minute}))...)
	b.start(t)
	var status atomic.Int32
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(int(status.Load())) })
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})

	// One attempt a minute: 5 failures, then successes. The 10-minute
	// window reaches 50% at minute 10 and loses its last failure at 16.
	var got, want []health.State
	for k := 1; k <= 16; k++ {
		code, state := 200, health.StateHealthy
		switch {
		case k < 5:
			code, state = 500, health.StateDegraded
		case k == 5:
			code, state = 500, health.StateUnhealthy
		case k < 10:
			state = health.StateUnhealthy
		case k < 16:
			state = health.StateDegraded
		}
		status.Store(int32(code))
		pushAndWait(t, b, clock, time.Minute, "order.created")
		got, want = append(got, getHealth(t, b, wh.ID).State), append(want, state)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("state after each attempt (-want +got):\n%s", diff)
	}
	transition := func(k int, from, to health.State, reason string) health.Transition {
		return health.Transition{WebhookID: wh.ID, Namespace: "default", At: t0.Add(time.Duration(k) * time.Minute), From: from, To: to, Reason: reason}
	}
	wantChanges := []health.Transition{
		transition(1, health.StateUnknown, health.StateDegraded, "the last attempt failed, and too few attempts for a success rate"),
		transition(5, health.StateDegraded, health.StateUnhealthy, "success rate 0.0% below 50%"),
		transition(10, health.StateUnhealthy, health.StateDegraded, "success rate 50.0% below 95%"),
		transition(16, health.StateDegraded, health.StateHealthy, "success rate 100.0%"),
	}
	changes, _ := log.waitChanges(t, len(wantChanges))
	if diff := cmp.Diff(wantChanges, changes); diff != "" {
		t.Fatalf("OnHealthChange calls (-want +got):\n%s", diff)
	}
	if w := getWebhook(t, b, wh.ID); w.State != webhook.StateActive {
		t.Fatalf("webhook after recovering: %s (%s)", w.State, w.StateReason)
	}
}

// TestHealthDisableWaitsForTime: many consecutive failures leave a webhook
// unhealthy, not disabled, until they have lasted DisableAfter.
func TestHealthDisableWaitsForTime(t *testing.T) {
	t.Parallel()

	clock := newTestClock()
	t0 := clock.Now()
	log := newTransitionLog()
	b := setup(t, append(log.options(), sparrow.WithClock(clock.Now), sparrow.WithHealthThresholds(health.Thresholds{
		DegradedAfterFailures: 2, UnhealthyAfterFailures: 3, DisableAfterFailures: 3, DisableAfter: time.Hour,
	}))...)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})

	// 8 failures, over 7 minutes: past DisableAfterFailures, short of
	// DisableAfter.
	for range 8 {
		pushAndWait(t, b, clock, time.Minute, "order.created")
	}
	b.waitJobsDone(t, "sparrow_deliver", 8) // and their callbacks
	if h := getHealth(t, b, wh.ID); h.State != health.StateUnhealthy || h.ConsecutiveFailures != 8 || !h.FailingSince.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after 8 failures in 7 minutes: state %s (%s), consecutive %d since %s; want unhealthy, 8 since %s",
			h.State, h.StateReason, h.ConsecutiveFailures, h.FailingSince, t0.Add(time.Minute))
	}
	if w := getWebhook(t, b, wh.ID); w.State != webhook.StateActive {
		t.Fatalf("webhook after 8 failures in 7 minutes: %s (%s)", w.State, w.StateReason)
	}
	if _, disabled := log.got(); len(disabled) != 0 {
		t.Fatalf("OnWebhookDisabled calls: %+v", disabled)
	}

	// Time was all that was missing: one more failure an hour later.
	pushAndWait(t, b, clock, time.Hour, "order.created")
	if w := getWebhook(t, b, wh.ID); w.State != webhook.StateDisabled || w.StateReason != "9 consecutive failures and no success for 1h7m0s" {
		t.Fatalf("webhook after 9 failures in 67 minutes: %s (%s)", w.State, w.StateReason)
	}
}

// TestHealthCallbacksAfterCommit: each callback, reading through the
// engine, sees the change it is told about.
func TestHealthCallbacksAfterCommit(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	// observed is what a callback read through the engine.
	type observed struct {
		Callback string
		About    string // the transition's new state, or the delivery
		Health   health.State
		Webhook  webhook.State
		Delivery delivery.Status
	}
	var (
		mu   sync.Mutex
		seen []observed
		b    *testBundle
	)
	observe := func(ctx context.Context, callback, about, webhookID, deliveryID string) {
		o := observed{Callback: callback, About: about}
		h, err := b.eng.GetWebhookHealth(ctx, "default", webhookID)
		if err == nil {
			o.Health = h.State
			var w *webhook.Webhook
			if w, err = b.eng.GetWebhook(ctx, "default", webhookID); err == nil {
				o.Webhook = w.State
			}
		}
		if err == nil && deliveryID != "" {
			var d *delivery.Delivery
			if d, err = b.eng.GetDelivery(ctx, "default", deliveryID); err == nil {
				o.Delivery = d.Status
			}
		}
		if err != nil {
			o.About += ": " + err.Error()
		}
		mu.Lock()
		seen = append(seen, o)
		mu.Unlock()
	}
	b = setup(t,
		sparrow.WithClock(clock.Now),
		sparrow.WithHealthThresholds(quickDisable),
		sparrow.WithOnHealthChange(func(ctx context.Context, tr health.Transition) {
			observe(ctx, "OnHealthChange", string(tr.To), tr.WebhookID, "")
		}),
		sparrow.WithOnWebhookDisabled(func(ctx context.Context, tr health.Transition) {
			observe(ctx, "OnWebhookDisabled", string(tr.To), tr.WebhookID, "")
		}),
		sparrow.WithOnDeliveryExhausted(func(ctx context.Context, e delivery.Exhausted) {
			observe(ctx, "OnDeliveryExhausted", e.DeliveryID, e.WebhookID, e.DeliveryID)
		}),
	)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})

	first := pushAndWait(t, b, clock, time.Minute, "order.created")
	b.waitJobsDone(t, "sparrow_deliver", 1) // and its callbacks
	second := pushAndWait(t, b, clock, time.Minute, "order.created")
	b.waitJobsDone(t, "sparrow_deliver", 2)
	if _, err := b.eng.ResumeWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	want := []observed{
		{"OnHealthChange", "degraded", health.StateDegraded, webhook.StateActive, ""},
		{"OnDeliveryExhausted", first.ID, health.StateDegraded, webhook.StateActive, delivery.StatusFailed},
		{"OnHealthChange", "disabled", health.StateDisabled, webhook.StateDisabled, ""},
		{"OnWebhookDisabled", "disabled", health.StateDisabled, webhook.StateDisabled, ""},
		{"OnDeliveryExhausted", second.ID, health.StateDisabled, webhook.StateDisabled, delivery.StatusFailed},
		{"OnHealthChange", "unknown", health.StateUnknown, webhook.StateActive, ""},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("what the callbacks read (-want +got):\n%s", diff)
	}
}

// TestHealthResumePausedAfterDisable: a webhook paused after Sparrow
// disabled it reports paused, but keeps its disabled health until resumed,
// which resets it.
func TestHealthResumePausedAfterDisable(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	log := newTransitionLog()
	b := setup(t, append(log.options(), sparrow.WithClock(clock.Now), sparrow.WithHealthThresholds(quickDisable))...)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(500) })
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	pushAndWait(t, b, clock, time.Minute, "order.created")
	pushAndWait(t, b, clock, time.Minute, "order.created")
	log.waitChanges(t, 2) // unknown→degraded→disabled
	if _, err := b.eng.PauseWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	if h := getHealth(t, b, wh.ID); h.State != health.StatePaused || h.StateReason != "paused by request" {
		t.Fatalf("health of a disabled webhook paused: %s (%s)", h.State, h.StateReason)
	}
	clock.Advance(time.Minute)
	if _, err := b.eng.ResumeWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	want := &health.Health{
		WebhookID: wh.ID, Namespace: "default",
		State: health.StateUnknown, StateReason: "webhook resumed", StateChangedAt: clock.Now(),
		Window: health.WindowDefault, ErrorCounts: map[string]int{}, StatusCounts: map[string]int{},
		LastFailureAt: clock.Now().Add(-time.Minute),
	}
	if diff := cmp.Diff(want, getHealth(t, b, wh.ID), ignoreLatency); diff != "" {
		t.Fatalf("health once resumed (-want +got):\n%s", diff)
	}
	changes, _ := log.got()
	wantLast := health.Transition{WebhookID: wh.ID, Namespace: "default", At: clock.Now(), From: health.StateDisabled, To: health.StateUnknown, Reason: "webhook resumed"}
	if len(changes) != 3 || !cmp.Equal(wantLast, changes[2]) {
		t.Fatalf("OnHealthChange calls: %+v; want the resume's last: %+v", changes, wantLast)
	}
}

// TestHealthConcurrent has 200 deliveries to one webhook in flight at once:
// the counters must add up to exactly what happened.
func TestHealthConcurrent(t *testing.T) {
	t.Parallel()

	const n = 200
	ctx := context.Background()
	b := setup(t, sparrow.WithMaxWorkers(n), sparrow.WithMaxConcurrentPerWebhook(n))
	// Every request waits until all n have arrived, so none is answered
	// before n are in flight; then one in four fails.
	var arrived, answered atomic.Int32
	all, done := make(chan struct{}), make(chan struct{})
	rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-done:
		case <-r.Context().Done():
		}
		if answered.Add(1)%4 == 0 {
			w.WriteHeader(500)
		}
	})
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	evs := make([]sparrow.PushEventParams, n)
	for i := range evs {
		evs[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	t.Cleanup(func() { close(done) }) // before the engine stops: it waits for its attempts
	rcv.waitRequests(t, n)
	if got := len(rcv.received()); got != n {
		t.Fatalf("receiver got %d requests, want %d", got, n)
	}
	b.waitJobsIdle(t, "sparrow_deliver") // their jobs share deliveries
	h := getHealth(t, b, wh.ID)
	type totals struct {
		Attempts, Successes, Failures int
		ErrorCounts, StatusCounts     map[string]int
		SuccessRate                   float64
		RecentAttempts                int
	}
	want := totals{
		Attempts: n, Successes: 150, Failures: 50, SuccessRate: 75, RecentAttempts: 100,
		ErrorCounts: map[string]int{"http_5xx": 50}, StatusCounts: map[string]int{"200": 150, "500": 50},
	}
	if diff := cmp.Diff(want, totals{h.Attempts, h.Successes, h.Failures, h.ErrorCounts, h.StatusCounts, h.SuccessRate, h.RecentAttempts}); diff != "" {
		t.Fatalf("health after %d concurrent attempts (-want +got):\n%s", n, diff)
	}
	if succeeded, failed := countStatus(t, b, delivery.StatusSucceeded), countStatus(t, b, delivery.StatusFailed); succeeded != 150 || failed != 50 {
		t.Fatalf("deliveries: %d succeeded, %d failed; want 150, 50", succeeded, failed)
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
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
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
			Attempts: 2, LastStatusCode: 503, LastErrorClass: delivery.ClassHTTP5xx, LastError: "answered 503 Service Unavailable",
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
