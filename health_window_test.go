package sparrow_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/health"
)

// noAnswer makes windowReceiver hold the request until the attempt times
// out.
const noAnswer = 0

// windowReceiver answers each request with the status last stored in
// status, or not at all for noAnswer.
func windowReceiver(t *testing.T, status *atomic.Int32) *receiver {
	return newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		code := int(status.Load())
		if code == noAnswer {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(code)
	})
}

// TestWebhookHealthWindows spreads attempts over eight days of the engine's
// clock, answered 200, 503 or not at all, and reads them over each window:
// the figures, status counts and timeline cover the window asked for, in
// points of its span, while the state and the recent figures stay those of
// the health window.
func TestWebhookHealthWindows(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	b := setup(t, sparrow.WithClock(clock.Now))
	b.start(t)
	var status atomic.Int32
	rcv := windowReceiver(t, &status)
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{
		URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1, Timeout: time.Second,
	})
	attempt := func(code int, step time.Duration) {
		t.Helper()
		status.Store(int32(code))
		pushAndWait(t, b, clock, step, "order.created")
	}
	// The clock starts on 2026-06-01 at 09:00 UTC; the last read is at
	// 2026-06-09 09:30.
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 6, day, hour, minute, 0, 0, time.UTC) }
	attempt(200, at(2, 8, 30).Sub(clock.Now())) // a week and an hour before: in no window
	attempt(200, at(3, 9, 30).Sub(clock.Now())) // six days before
	attempt(503, 0)
	attempt(200, at(9, 4, 30).Sub(clock.Now())) // five hours before
	attempt(200, 5*time.Minute)                 // 04:35, in the 04:30 point of a day
	attempt(503, 6*time.Minute)                 // 04:41, in the next one
	attempt(200, at(9, 9, 10).Sub(clock.Now())) // 20 minutes before
	attempt(noAnswer, 0)
	attempt(503, 15*time.Minute) // 09:25
	clock.Advance(5 * time.Minute)

	type figures struct {
		Window                        time.Duration
		Attempts, Successes, Failures int
		ErrorCounts, StatusCounts     map[string]int
		Timeline                      []health.Point
	}
	point := func(at time.Time, attempts, successes int) health.Point {
		return health.Point{At: at, Attempts: attempts, Successes: successes}
	}
	hour := figures{
		Window: time.Hour, Attempts: 3, Successes: 1, Failures: 2,
		ErrorCounts:  map[string]int{"http_5xx": 1, "timeout": 1},
		StatusCounts: map[string]int{"200": 1, "503": 1, health.NoAnswer: 1},
		Timeline:     []health.Point{point(at(9, 9, 10), 2, 1), point(at(9, 9, 25), 1, 0)},
	}
	day := figures{
		Window: 24 * time.Hour, Attempts: 6, Successes: 3, Failures: 3,
		ErrorCounts:  map[string]int{"http_5xx": 2, "timeout": 1},
		StatusCounts: map[string]int{"200": 3, "503": 2, health.NoAnswer: 1},
		Timeline: []health.Point{
			point(at(9, 4, 30), 2, 2), point(at(9, 4, 40), 1, 0), point(at(9, 9, 10), 2, 1), point(at(9, 9, 20), 1, 0),
		},
	}
	week := figures{
		Window: 7 * 24 * time.Hour, Attempts: 8, Successes: 4, Failures: 4,
		ErrorCounts:  map[string]int{"http_5xx": 3, "timeout": 1},
		StatusCounts: map[string]int{"200": 4, "503": 3, health.NoAnswer: 1},
		Timeline:     []health.Point{point(at(3, 9, 0), 2, 1), point(at(9, 4, 0), 3, 2), point(at(9, 9, 0), 3, 1)},
	}
	wants := map[time.Duration]figures{0: hour, health.WindowHour: hour, health.WindowDay: day, health.WindowWeek: week}

	base := getHealth(t, b, wh.ID)
	for window, want := range wants {
		h, err := b.eng.GetWebhookHealthOver(ctx, "default", wh.ID, window)
		if err != nil {
			t.Fatalf("window %s: %v", window, err)
		}
		got := figures{h.Window, h.Attempts, h.Successes, h.Failures, h.ErrorCounts, h.StatusCounts, h.Timeline}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(health.Point{}, "LatencyAvg")); diff != "" {
			t.Errorf("window %s (-want +got):\n%s", window, diff)
		}
		if h.LatencyAvg <= 0 || h.LatencyP95 <= 0 {
			t.Errorf("window %s: latency avg %s, p95 %s", window, h.LatencyAvg, h.LatencyP95)
		}
		// What the window leaves alone: the state, decided over the health
		// window, and the last attempts' figures.
		type unchanged struct {
			State                          health.State
			StateReason                    string
			ConsecutiveFailures            int
			RecentAttempts                 int
			RecentSuccessRate              float64
			RecentLatencyAvg               time.Duration
			LastSuccessAt, LastFailureAt   time.Time
			TransitionsCount, PendingCount int
		}
		of := func(h *health.Health) unchanged {
			return unchanged{h.State, h.StateReason, h.ConsecutiveFailures, h.RecentAttempts, h.RecentSuccessRate,
				h.RecentLatencyAvg, h.LastSuccessAt, h.LastFailureAt, len(h.Transitions), h.PendingDeliveries}
		}
		if diff := cmp.Diff(of(base), of(h)); diff != "" {
			t.Errorf("window %s changed what it must not (-health window +window):\n%s", window, diff)
		}
	}
	if base.State != health.StateDegraded || base.RecentAttempts != 9 || base.ConsecutiveFailures != 2 {
		t.Errorf("state %s (%s), %d recent attempts, %d consecutive failures; want degraded, 9, 2",
			base.State, base.StateReason, base.RecentAttempts, base.ConsecutiveFailures)
	}

	for _, bad := range []time.Duration{-time.Hour, time.Second, time.Minute, 2 * time.Hour, 30 * 24 * time.Hour} {
		_, err := b.eng.GetWebhookHealthOver(ctx, "default", wh.ID, bad)
		wantInvalid(t, err, "window_seconds")
	}
	_, err := b.eng.GetWebhookHealthOver(ctx, "default", "wh_01aaaaaaaaaaaaaaaaaaaaaaaa", health.WindowDay)
	wantErr(t, err, sparrow.ErrNotFound)
}

// TestWebhookHealthWeekTimeline has pairs of attempts spread over a week:
// the week's timeline has a point for each pair's hour, and its points add
// up to the figures.
func TestWebhookHealthWeekTimeline(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	b := setup(t, sparrow.WithClock(clock.Now))
	b.start(t)
	var status atomic.Int32
	status.Store(503)
	rcv := windowReceiver(t, &status)
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	// Two attempts a minute apart every 14 hours, from 09:10 on the first
	// day to 19:10 on the seventh; the first half answered 503.
	const pairs = 12
	for i := range pairs {
		if i == pairs/2 {
			status.Store(200)
		}
		step := 14*time.Hour - time.Minute
		if i == 0 {
			step = 10 * time.Minute
		}
		pushAndWait(t, b, clock, step, "order.created")
		pushAndWait(t, b, clock, time.Minute, "order.created")
	}
	h, err := b.eng.GetWebhookHealthOver(ctx, "default", wh.ID, health.WindowWeek)
	if err != nil {
		t.Fatal(err)
	}
	var attempts, successes int
	for i, p := range h.Timeline {
		if !p.At.Equal(p.At.Truncate(time.Hour)) || p.Attempts != 2 || i > 0 && !p.At.After(h.Timeline[i-1].At) {
			t.Fatalf("point %d: %+v; want 2 attempts in an hour after the last", i, p)
		}
		attempts, successes = attempts+p.Attempts, successes+p.Successes
	}
	if len(h.Timeline) != pairs || attempts != h.Attempts || successes != h.Successes {
		t.Fatalf("%d points of %d attempts, %d successes; want %d points adding up to %d, %d",
			len(h.Timeline), attempts, successes, pairs, h.Attempts, h.Successes)
	}
	if want := map[string]int{"200": pairs, "503": pairs}; !cmp.Equal(want, h.StatusCounts) || h.Attempts != 2*pairs {
		t.Fatalf("%d attempts by status %v; want %d by %v", h.Attempts, h.StatusCounts, 2*pairs, want)
	}
}

// TestWebhookHealthPaused: a paused webhook reports its health as paused,
// with the pause's reason and time, in GetWebhookHealth and
// GetHealthSummary (where it is not among the worst); its figures stay, and
// its own state comes back when it is resumed.
func TestWebhookHealthPaused(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newTestClock()
	b := setup(t, sparrow.WithClock(clock.Now))
	b.start(t)
	var status atomic.Int32
	status.Store(500)
	rcv := windowReceiver(t, &status)
	b.registerEvent(t, "order.created")
	wh := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1})
	inactive := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Inactive: true})
	pushAndWait(t, b, clock, time.Minute, "order.created")
	failing := getHealth(t, b, wh.ID)
	if failing.State != health.StateDegraded {
		t.Fatalf("after a failure: %s (%s)", failing.State, failing.StateReason)
	}

	clock.Advance(time.Minute)
	if _, err := b.eng.PauseWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	paused := getHealth(t, b, wh.ID)
	want := *failing
	want.State, want.StateReason, want.StateChangedAt = health.StatePaused, "paused by request", clock.Now()
	if diff := cmp.Diff(&want, paused, cmpopts.IgnoreFields(health.Health{}, "LatencyAvg", "LatencyP95", "RecentLatencyAvg", "RecentLatencyP95")); diff != "" {
		t.Fatalf("paused (-want +got):\n%s", diff)
	}
	if h := getHealth(t, b, inactive.ID); h.State != health.StatePaused || h.StateReason != "webhook paused" {
		t.Fatalf("registered inactive: %s (%s)", h.State, h.StateReason)
	}
	s, err := b.eng.GetHealthSummary(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[health.State]int{health.StatePaused: 2}, s.Webhooks); diff != "" {
		t.Fatalf("summary's webhooks by state (-want +got):\n%s", diff)
	}
	if len(s.Worst) != 0 || s.Attempts != 1 {
		t.Fatalf("summary: worst %+v, %d attempts; want none, 1", s.Worst, s.Attempts)
	}

	clock.Advance(time.Minute)
	if _, err := b.eng.ResumeWebhook(ctx, "default", wh.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failing, getHealth(t, b, wh.ID), ignoreLatency); diff != "" {
		t.Fatalf("resumed (-paused before +got):\n%s", diff)
	}
}
