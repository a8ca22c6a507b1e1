package health

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th := Thresholds{}.WithDefaults()
	tests := []struct {
		name string
		f    Figures
		want State
	}{
		{"NoAttempts", Figures{}, StateUnknown},
		{"AllGood", Figures{Attempts: 100, Successes: 100}, StateHealthy},
		{"FewAttemptsLastSucceeded", Figures{Attempts: 2, Successes: 1}, StateHealthy},
		{"FirstAttemptFailed", Figures{Attempts: 1, ConsecutiveFailures: 1, FailingSince: now}, StateDegraded},
		{"ManyAttemptsOneFailure", Figures{Attempts: 100, Successes: 99, ConsecutiveFailures: 1, FailingSince: now}, StateHealthy},
		{"JustAboveDegraded", Figures{Attempts: 100, Successes: 95}, StateHealthy},
		{"BelowDegraded", Figures{Attempts: 100, Successes: 94}, StateDegraded},
		{"BelowUnhealthy", Figures{Attempts: 100, Successes: 49}, StateUnhealthy},
		{"ConsecutiveDegraded", Figures{Attempts: 100, Successes: 97, ConsecutiveFailures: 3, FailingSince: now}, StateDegraded},
		{"ConsecutiveUnhealthy", Figures{Attempts: 100, Successes: 90, ConsecutiveFailures: 10, FailingSince: now}, StateUnhealthy},
		{"ManyFailuresButRecent", Figures{Attempts: 60, ConsecutiveFailures: 60, FailingSince: now.Add(-time.Hour)}, StateUnhealthy},
		{"SustainedFailure", Figures{Attempts: 60, ConsecutiveFailures: 60, FailingSince: now.Add(-73 * time.Hour)}, StateDisabled},
		{"LongButFewFailures", Figures{Attempts: 10, ConsecutiveFailures: 10, FailingSince: now.Add(-100 * time.Hour)}, StateUnhealthy},
		{"WindowEmptyButFailing", Figures{ConsecutiveFailures: 4, FailingSince: now.Add(-2 * time.Hour)}, StateDegraded},
	}
	for _, tt := range tests {
		if got, reason := th.Evaluate(tt.f, now); got != tt.want || reason == "" {
			t.Errorf("%s: %s (%q), want %s", tt.name, got, reason, tt.want)
		}
	}
	never := th
	never.NeverDisable = true
	if got, _ := never.Evaluate(Figures{Attempts: 60, ConsecutiveFailures: 60, FailingSince: now.Add(-100 * time.Hour)}, now); got != StateUnhealthy {
		t.Errorf("NeverDisable: %s", got)
	}
}

func TestThresholdsValidate(t *testing.T) {
	t.Parallel()

	if err := (Thresholds{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := []Thresholds{
		{Window: time.Second},
		{DegradedBelow: 40, UnhealthyBelow: 60},
		{DegradedAfterFailures: 20, UnhealthyAfterFailures: 10},
		{UnhealthyAfterFailures: 30, DisableAfterFailures: 20},
		{DisableAfter: -time.Hour},
	}
	for _, th := range bad {
		if err := th.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v accepted", th)
		}
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()

	h := func(id string, state State, rate float64, consecutive int) Health {
		return Health{WebhookID: id, State: state, SuccessRate: rate, ConsecutiveFailures: consecutive}
	}
	all := []Health{
		h("healthy", StateHealthy, 100, 0),
		h("degraded_low", StateDegraded, 80, 1),
		h("disabled", StateDisabled, 0, 60),
		h("unknown", StateUnknown, 0, 0),
		h("degraded_lower", StateDegraded, 70, 1),
		h("unhealthy_more", StateUnhealthy, 20, 12),
		h("unhealthy", StateUnhealthy, 20, 10),
		h("paused", StatePaused, 0, 30),
	}
	ids := func(hs []Health) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.WebhookID)
		}
		return out
	}
	want := []string{"disabled", "unhealthy_more", "unhealthy", "degraded_lower", "degraded_low"}
	if got := ids(Worst(slices.Clone(all), 10)); !slices.Equal(got, want) {
		t.Fatalf("Worst = %v, want %v (degraded or worse, worst first)", got, want)
	}
	if got := ids(Worst(slices.Clone(all), 2)); !slices.Equal(got, want[:2]) {
		t.Fatalf("Worst of 2 = %v, want %v", got, want[:2])
	}
}

func TestWindows(t *testing.T) {
	t.Parallel()

	spans := map[time.Duration]time.Duration{
		0: time.Minute, WindowHour: time.Minute, WindowDay: 10 * time.Minute, WindowWeek: time.Hour,
	}
	for window, want := range spans {
		if err := ValidateWindow("window_seconds", window); err != nil {
			t.Errorf("ValidateWindow(%s): %v", window, err)
		}
		if got := PointSpan(window); got != want {
			t.Errorf("PointSpan(%s) = %s, want %s", window, got, want)
		}
	}
	// A configured health window other than the three keeps minute points.
	if got := PointSpan(6 * time.Hour); got != time.Minute {
		t.Errorf("PointSpan(6h) = %s, want 1m", got)
	}
	for _, bad := range []time.Duration{-time.Hour, time.Second, time.Minute, 2 * time.Hour, 30 * 24 * time.Hour} {
		err := ValidateWindow("window_seconds", bad)
		var invalid *errs.InvalidArgumentError
		if !errors.As(err, &invalid) || invalid.Field != "window_seconds" || !strings.Contains(invalid.Reason, "604800") {
			t.Errorf("ValidateWindow(%s) = %v, want an InvalidArgumentError on window_seconds naming the windows", bad, err)
		}
	}
}
