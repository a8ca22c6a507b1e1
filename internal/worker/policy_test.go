package worker

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/store"
)

func TestTriageJob(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	work := func(id string, edit func(*store.DeliveryWork)) *store.DeliveryWork {
		w := &store.DeliveryWork{}
		w.ID, w.Status, w.AttemptCount, w.NextAttemptAt = id, delivery.StatusRetrying, 2, now
		if edit != nil {
			edit(w)
		}
		return w
	}
	works := []*store.DeliveryWork{
		work("due", nil),
		work("due_slightly_early", func(w *store.DeliveryWork) { w.NextAttemptAt = now.Add(earlyTolerance) }),
		work("early", func(w *store.DeliveryWork) { w.NextAttemptAt = now.Add(earlyTolerance + time.Millisecond) }),
		work("expired", func(w *store.DeliveryWork) { w.ExpiresAt = now }),
		work("not_expired", func(w *store.DeliveryWork) { w.ExpiresAt = now.Add(time.Second) }),
		work("finished", func(w *store.DeliveryWork) { w.Status = delivery.StatusSucceeded }),
		work("waiting", func(w *store.DeliveryWork) { w.Waiting = true }),
		work("moved_on", func(w *store.DeliveryWork) { w.AttemptCount = 3 }),
		work("moved_on_by_hand", func(w *store.DeliveryWork) { w.ManualAttemptCount = 1 }),
		work("counted_with_manual", func(w *store.DeliveryWork) { w.AttemptCount, w.ManualAttemptCount = 1, 1 }),
		// Manual attempts asked for: their manual job's, due at once
		// whatever their schedule, expiry or status.
		work("requested", func(w *store.DeliveryWork) { w.RetryRequested = true }),
		work("requested_later", func(w *store.DeliveryWork) {
			w.RetryRequested, w.NextAttemptAt, w.ExpiresAt = true, now.Add(time.Hour), now.Add(-time.Minute)
		}),
		work("requested_failed", func(w *store.DeliveryWork) { w.RetryRequested, w.Status = true, delivery.StatusFailed }),
		work("requested_moved_on", func(w *store.DeliveryWork) { w.RetryRequested, w.AttemptCount = true, 3 }),
	}
	ids := func(ws []*store.DeliveryWork) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	type lists struct{ Due, Early, Cancelled, Expired, Parked, Dropped []string }
	tests := []struct {
		name   string
		target store.SendTarget
		manual bool
		want   lists
	}{
		{"Active", store.SendTarget{Active: true}, false, lists{
			Due: []string{"due", "due_slightly_early", "not_expired", "counted_with_manual"}, Early: []string{"early"}, Expired: []string{"expired"},
		}},
		{"Paused", store.SendTarget{}, false, lists{
			Expired: []string{"expired"}, Parked: []string{"due", "due_slightly_early", "early", "not_expired", "counted_with_manual"},
		}},
		{"Deleted", store.SendTarget{Active: true, Deleted: true}, false, lists{
			Cancelled: []string{"due", "due_slightly_early", "early", "expired", "not_expired", "counted_with_manual"},
		}},
		{"ManualActive", store.SendTarget{Active: true}, true, lists{
			Due: []string{"requested", "requested_later", "requested_failed"},
		}},
		// A webhook paused since: the retrying delivery waits for it as the
		// others do; a finished one's request is dropped.
		{"ManualPaused", store.SendTarget{}, true, lists{
			Parked: []string{"requested", "requested_later"}, Dropped: []string{"requested_failed"},
		}},
		{"ManualDeleted", store.SendTarget{Active: true, Deleted: true}, true, lists{
			Cancelled: []string{"requested", "requested_later"}, Dropped: []string{"requested_failed"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := triageJob(&tt.target, works, 2, tt.manual, now)
			gotLists := lists{ids(got.due), ids(got.early), ids(got.cancelled), ids(got.expired), ids(got.parked), ids(got.dropped)}
			if diff := cmp.Diff(tt.want, gotLists); diff != "" {
				t.Fatalf("triage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEarliest(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if got := earliest(nil); !got.IsZero() {
		t.Fatalf("earliest of none = %v, want zero", got)
	}
	var a, b store.DeliveryWork
	a.NextAttemptAt, b.NextAttemptAt = now.Add(time.Minute), now
	if got := earliest([]*store.DeliveryWork{&a, &b}); !got.Equal(now) {
		t.Fatalf("earliest = %v, want %v", got, now)
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	policy := retryPolicy{
		checkRetry: delivery.DefaultCheckRetry,
		backoff:    func(attempt int, _ *delivery.Outcome) time.Duration { return time.Duration(attempt) * time.Minute },
	}
	ok := &delivery.Outcome{StatusCode: http.StatusOK}
	unavailable := &delivery.Outcome{StatusCode: http.StatusServiceUnavailable, Class: delivery.ClassHTTP5xx}
	badRequest := &delivery.Outcome{StatusCode: http.StatusBadRequest, Class: delivery.ClassHTTP4xx}
	timeout := &delivery.Outcome{Class: delivery.ClassTimeout}
	schedule := []time.Duration{5 * time.Second, time.Hour}
	limited := &delivery.Outcome{StatusCode: http.StatusTooManyRequests, Class: delivery.ClassHTTP4xx, RetryAfter: 2 * time.Hour}
	tests := []struct {
		name        string
		outcome     *delivery.Outcome
		number, max int
		schedule    []time.Duration
		expiresAt   time.Time
		want        verdict
	}{
		{"Success", ok, 1, 3, nil, time.Time{}, verdict{status: delivery.StatusSucceeded}},
		{"SuccessOnLastAttempt", ok, 3, 3, nil, time.Time{}, verdict{status: delivery.StatusSucceeded}},
		{"RetryableRetried", unavailable, 2, 3, nil, time.Time{}, verdict{status: delivery.StatusRetrying, next: now.Add(2 * time.Minute)}},
		{"TimeoutRetried", timeout, 1, 3, nil, time.Time{}, verdict{status: delivery.StatusRetrying, next: now.Add(time.Minute)}},
		{"RetryCutAtExpiry", unavailable, 2, 3, nil, now.Add(30 * time.Second), verdict{status: delivery.StatusRetrying, next: now.Add(30 * time.Second)}},
		{"RetryableExhausted", unavailable, 3, 3, nil, time.Time{}, verdict{status: delivery.StatusFailed, exhausted: true}},
		{"NotRetryable", badRequest, 1, 3, nil, time.Time{}, verdict{status: delivery.StatusFailed}},
		{"NotRetryableOnLastAttempt", badRequest, 3, 3, nil, time.Time{}, verdict{status: delivery.StatusFailed}},
		{"ScheduleFirst", unavailable, 1, 4, schedule, time.Time{}, verdict{status: delivery.StatusRetrying, next: now.Add(5 * time.Second)}},
		{"ScheduleLastRepeats", unavailable, 3, 4, schedule, time.Time{}, verdict{status: delivery.StatusRetrying, next: now.Add(time.Hour)}},
		{"RetryAfterLongerWins", limited, 1, 4, schedule, time.Time{}, verdict{status: delivery.StatusRetrying, next: now.Add(2 * time.Hour)}},
		{"ScheduleExhausted", unavailable, 4, 4, schedule, time.Time{}, verdict{status: delivery.StatusFailed, exhausted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := policy.judge(tt.outcome, tt.number, tt.max, tt.schedule, tt.expiresAt, now)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(verdict{})); diff != "" {
				t.Fatalf("judge (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJudgeManual(t *testing.T) {
	t.Parallel()

	next := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	ok := &delivery.Outcome{StatusCode: http.StatusOK}
	unavailable := &delivery.Outcome{StatusCode: http.StatusServiceUnavailable, Class: delivery.ClassHTTP5xx}
	badRequest := &delivery.Outcome{StatusCode: http.StatusBadRequest, Class: delivery.ClassHTTP4xx}
	tests := []struct {
		name    string
		outcome *delivery.Outcome
		before  delivery.Status
		want    verdict
	}{
		{"RetryingSucceeds", ok, delivery.StatusRetrying, verdict{status: delivery.StatusSucceeded}},
		// The automatic schedule goes on as it was, whatever the failure.
		{"RetryingFails", unavailable, delivery.StatusRetrying, verdict{status: delivery.StatusRetrying, next: next}},
		{"RetryingFailsForGood", badRequest, delivery.StatusRetrying, verdict{status: delivery.StatusRetrying, next: next}},
		{"FailedSucceeds", ok, delivery.StatusFailed, verdict{status: delivery.StatusSucceeded}},
		{"FailedFails", unavailable, delivery.StatusFailed, verdict{status: delivery.StatusFailed}},
		{"ExpiredFails", unavailable, delivery.StatusExpired, verdict{status: delivery.StatusFailed}},
		{"ReplaySucceeds", ok, delivery.StatusSucceeded, verdict{status: delivery.StatusSucceeded}},
		{"ReplayFails", badRequest, delivery.StatusSucceeded, verdict{status: delivery.StatusFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var due time.Time
			if tt.before == delivery.StatusRetrying {
				due = next
			}
			got := judgeManual(tt.outcome, tt.before, due)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(verdict{})); diff != "" {
				t.Fatalf("judgeManual (-want +got):\n%s", diff)
			}
		})
	}
}
