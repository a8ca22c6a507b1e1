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
	}
	ids := func(ws []*store.DeliveryWork) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	type lists struct{ Due, Early, Cancelled, Expired, Parked []string }
	tests := []struct {
		name   string
		target store.SendTarget
		want   lists
	}{
		{"Active", store.SendTarget{Active: true}, lists{
			Due: []string{"due", "due_slightly_early", "not_expired"}, Early: []string{"early"}, Expired: []string{"expired"},
		}},
		{"Paused", store.SendTarget{}, lists{
			Expired: []string{"expired"}, Parked: []string{"due", "due_slightly_early", "early", "not_expired"},
		}},
		{"Deleted", store.SendTarget{Active: true, Deleted: true}, lists{
			Cancelled: []string{"due", "due_slightly_early", "early", "expired", "not_expired"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := triageJob(&tt.target, works, 2, now)
			gotLists := lists{ids(got.due), ids(got.early), ids(got.cancelled), ids(got.expired), ids(got.parked)}
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
