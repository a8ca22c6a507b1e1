// Package health keeps per-webhook health: success rate and latency over a
// recent window, consecutive failures, and a state machine
//
//	unknown → healthy ↔ degraded ↔ unhealthy → disabled
//
// decided by Thresholds. A paused webhook reports StatePaused instead,
// whatever its attempts call for. Its figures are counters updated once per
// batch of recorded attempts (per webhook, minute and outcome), never once
// per attempt, so many concurrent deliveries to one webhook don't queue on
// one row.
package health

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// State is a webhook's health.
type State string

const (
	// StateUnknown: no attempt yet (or none since the webhook was resumed).
	StateUnknown State = "unknown"
	// StateHealthy: succeeding.
	StateHealthy State = "healthy"
	// StateDegraded: failing now and then.
	StateDegraded State = "degraded"
	// StateUnhealthy: failing mostly.
	StateUnhealthy State = "unhealthy"
	// StateDisabled: failed long enough that Sparrow disabled the webhook;
	// its deliveries wait until it is resumed. Only the resume (Reset) ends
	// it, whatever attempts still in flight then do.
	StateDisabled State = "disabled"
	// StatePaused: the webhook is paused (by request, registered inactive,
	// or after a 410 Gone answer) and its deliveries wait. It is reported in
	// place of the state its figures call for, which is kept and shows again
	// once the webhook is resumed (a disabled one's is reset then); no
	// Transition leads to it, and Worst leaves it out.
	StatePaused State = "paused"
)

// Windows Engine.GetWebhookHealthOver takes, besides 0 for the health window
// (Thresholds.Window). Their figures come from the same per-minute counters
// as the health window's, which are kept for the retention (WithRetention,
// 30 days by default) or the health window, whichever is longer: with a
// retention under a week, WindowWeek covers only what is kept.
const (
	WindowHour = time.Hour
	WindowDay  = 24 * time.Hour
	WindowWeek = 7 * 24 * time.Hour
)

// ValidateWindow checks a window asked for: WindowHour, WindowDay,
// WindowWeek, or 0 for the health window.
func ValidateWindow(field string, window time.Duration) error {
	switch window {
	case 0, WindowHour, WindowDay, WindowWeek:
		return nil
	}
	return errs.InvalidArgument(field, "must be 3600 (an hour), 86400 (a day) or 604800 (a week), or 0 for the health window")
}

// PointSpan is how long the points of a webhook's timeline over window
// are: ten minutes over WindowDay, an hour over WindowWeek, and a minute
// otherwise, so that a chart of any of the three has 60 to 168 points.
func PointSpan(window time.Duration) time.Duration {
	switch window {
	case WindowDay:
		return 10 * time.Minute
	case WindowWeek:
		return time.Hour
	}
	return time.Minute
}

// NoAnswer is the StatusCounts key of attempts that got no HTTP answer (a
// timeout, a refused connection, a blocked destination, ...).
const NoAnswer = "none"

// Worst returns up to n of webhooks that are degraded or worse, worst
// first: by state, then lowest success rate, then most consecutive
// failures. It sorts webhooks.
func Worst(webhooks []Health, n int) []Health {
	slices.SortFunc(webhooks, func(a, b Health) int {
		if c := b.State.severity() - a.State.severity(); c != 0 {
			return c
		}
		if c := cmp.Compare(a.SuccessRate, b.SuccessRate); c != 0 {
			return c
		}
		return b.ConsecutiveFailures - a.ConsecutiveFailures
	})
	var worst []Health
	for _, h := range webhooks {
		if len(worst) == n || h.State.severity() < StateDegraded.severity() {
			break
		}
		worst = append(worst, h)
	}
	return worst
}

// severity orders states from best to worst, unknown aside.
func (s State) severity() int {
	switch s {
	case StateHealthy:
		return 1
	case StateDegraded:
		return 2
	case StateUnhealthy:
		return 3
	case StateDisabled:
		return 4
	}
	return 0
}

// Thresholds decide a webhook's state from its figures. The zero value of a
// field means its default (the ...Default constants).
type Thresholds struct {
	// Window is the recent period success rates and latencies cover.
	Window time.Duration
	// MinAttempts is how many attempts the window needs before its success
	// rate counts; with fewer, only consecutive failures decide.
	MinAttempts int
	// DegradedBelow and UnhealthyBelow are success rates (percent): below
	// them a webhook is degraded or unhealthy.
	DegradedBelow  float64
	UnhealthyBelow float64
	// DegradedAfterFailures and UnhealthyAfterFailures are runs of
	// consecutive failures that make a webhook degraded or unhealthy,
	// whatever its rate.
	DegradedAfterFailures  int
	UnhealthyAfterFailures int
	// DisableAfterFailures and DisableAfter: a webhook with at least that
	// many consecutive failures and no success for that long is disabled.
	DisableAfterFailures int
	DisableAfter         time.Duration
	// NeverDisable turns auto-disable off.
	NeverDisable bool
}

// Defaults of Thresholds.
const (
	WindowDefault                 = time.Hour
	MinAttemptsDefault            = 5
	DegradedBelowDefault          = 95.0
	UnhealthyBelowDefault         = 50.0
	DegradedAfterFailuresDefault  = 3
	UnhealthyAfterFailuresDefault = 10
	DisableAfterFailuresDefault   = 50
	DisableAfterDefault           = 72 * time.Hour
)

// WithDefaults returns t with zero fields set to their defaults.
func (t Thresholds) WithDefaults() Thresholds {
	t.Window = cmp.Or(t.Window, WindowDefault)
	t.MinAttempts = cmp.Or(t.MinAttempts, MinAttemptsDefault)
	t.DegradedBelow = cmp.Or(t.DegradedBelow, DegradedBelowDefault)
	t.UnhealthyBelow = cmp.Or(t.UnhealthyBelow, UnhealthyBelowDefault)
	t.DegradedAfterFailures = cmp.Or(t.DegradedAfterFailures, DegradedAfterFailuresDefault)
	t.UnhealthyAfterFailures = cmp.Or(t.UnhealthyAfterFailures, UnhealthyAfterFailuresDefault)
	t.DisableAfterFailures = cmp.Or(t.DisableAfterFailures, DisableAfterFailuresDefault)
	t.DisableAfter = cmp.Or(t.DisableAfter, DisableAfterDefault)
	return t
}

// Validate reports thresholds that cannot work, naming the field.
func (t Thresholds) Validate() error {
	var problems []error
	if t.Window < time.Minute || t.Window > 30*24*time.Hour {
		problems = append(problems, fmt.Errorf("Window %s: must be between a minute and 30 days", t.Window))
	}
	if t.UnhealthyBelow < 0 || t.DegradedBelow > 100 || t.UnhealthyBelow > t.DegradedBelow {
		problems = append(problems, fmt.Errorf("need 0 <= UnhealthyBelow (%g) <= DegradedBelow (%g) <= 100", t.UnhealthyBelow, t.DegradedBelow))
	}
	if t.MinAttempts < 1 || t.DegradedAfterFailures < 1 || t.UnhealthyAfterFailures < t.DegradedAfterFailures ||
		t.DisableAfterFailures < t.UnhealthyAfterFailures {
		problems = append(problems, errors.New("need 1 <= DegradedAfterFailures <= UnhealthyAfterFailures <= DisableAfterFailures and MinAttempts >= 1"))
	}
	if t.DisableAfter < 0 {
		problems = append(problems, fmt.Errorf("DisableAfter %s is negative", t.DisableAfter))
	}
	return errors.Join(problems...)
}

// Figures are what a state is decided on.
type Figures struct {
	// Attempts and Successes in the window (since the last reset).
	Attempts  int
	Successes int
	// ConsecutiveFailures since the last success (or reset).
	ConsecutiveFailures int
	// FailingSince is the first of those failures; zero if none.
	FailingSince time.Time
}

// SuccessRate is the percentage of attempts in the window that succeeded; 0
// when there were none.
func (f Figures) SuccessRate() float64 {
	if f.Attempts == 0 {
		return 0
	}
	return 100 * float64(f.Successes) / float64(f.Attempts)
}

// Evaluate decides the state figures call for at time now, and says why.
// The state follows the figures, so it may move more than one step at once
// (a burst of failures takes a healthy webhook straight to unhealthy); Apply
// does not ask it about a webhook already disabled.
func (t Thresholds) Evaluate(f Figures, now time.Time) (State, string) {
	rated := f.Attempts >= t.MinAttempts
	rate := f.SuccessRate()
	switch {
	case f.Attempts == 0 && f.ConsecutiveFailures == 0:
		return StateUnknown, "no attempts yet"
	case !t.NeverDisable && f.ConsecutiveFailures >= t.DisableAfterFailures && !f.FailingSince.IsZero() &&
		now.Sub(f.FailingSince) >= t.DisableAfter:
		return StateDisabled, fmt.Sprintf("%d consecutive failures and no success for %s", f.ConsecutiveFailures,
			now.Sub(f.FailingSince).Round(time.Minute))
	case f.ConsecutiveFailures >= t.UnhealthyAfterFailures:
		return StateUnhealthy, fmt.Sprintf("%d consecutive failures", f.ConsecutiveFailures)
	case rated && rate < t.UnhealthyBelow:
		return StateUnhealthy, fmt.Sprintf("success rate %.1f%% below %g%%", rate, t.UnhealthyBelow)
	case f.ConsecutiveFailures >= t.DegradedAfterFailures:
		return StateDegraded, fmt.Sprintf("%d consecutive failures", f.ConsecutiveFailures)
	case !rated && f.ConsecutiveFailures > 0:
		return StateDegraded, "the last attempt failed, and too few attempts for a success rate"
	case rated && rate < t.DegradedBelow:
		return StateDegraded, fmt.Sprintf("success rate %.1f%% below %g%%", rate, t.DegradedBelow)
	case !rated:
		return StateHealthy, "the last attempt succeeded"
	}
	return StateHealthy, fmt.Sprintf("success rate %.1f%%", rate)
}

// Health is a webhook's health and the figures behind it.
type Health struct {
	WebhookID string
	Namespace string
	// State is health_status in the API. For a paused webhook it is
	// StatePaused, with the webhook's reason and time.
	State          State
	StateReason    string
	StateChangedAt time.Time
	// Window is the period the figures below and the timeline cover (since
	// the last reset, if more recent): the health window, or the window
	// asked of GetWebhookHealthOver.
	Window    time.Duration
	Attempts  int
	Successes int
	Failures  int
	// SuccessRate is a percentage, 0 to 100; 0 without attempts.
	SuccessRate float64
	LatencyAvg  time.Duration
	LatencyP95  time.Duration
	// ErrorCounts counts the window's failures by error class.
	ErrorCounts map[string]int
	// StatusCounts counts the window's attempts by HTTP status ("200",
	// "503"), and those that got no answer under NoAnswer. Attempts
	// recorded before migration 017 (which added these counts) are under
	// no key, so for a while after upgrading they may add up to fewer than
	// Attempts.
	StatusCounts map[string]int
	// Recent figures cover the last RecentAttempts attempts (at most 100).
	RecentAttempts    int
	RecentSuccessRate float64
	RecentLatencyAvg  time.Duration
	RecentLatencyP95  time.Duration
	// ConsecutiveFailures since the last success.
	ConsecutiveFailures int
	FailingSince        time.Time
	LastSuccessAt       time.Time
	LastFailureAt       time.Time
	// PendingDeliveries are not finished yet (waiting ones included).
	PendingDeliveries int
	// Transitions are the latest state changes, newest first.
	Transitions []Transition
	// Timeline has the window's figures in points PointSpan(Window) long,
	// oldest first, each starting at a multiple of its span since the Unix
	// epoch (the first may start before the window, and count only the
	// window's part); points without attempts are left out. Its points add
	// up to the figures above.
	Timeline []Point
}

// Point is a span of attempts: a minute, or longer over longer windows
// (PointSpan). At is its start.
type Point struct {
	At         time.Time
	Attempts   int
	Successes  int
	LatencyAvg time.Duration
}

// Transition is a change of a webhook's state.
type Transition struct {
	WebhookID string
	Namespace string
	At        time.Time
	From      State
	To        State
	Reason    string
}

// Summary is the health of a namespace's webhooks.
type Summary struct {
	Namespace string
	// Webhooks counts the namespace's webhooks by state.
	Webhooks map[State]int
	// Window is the period of the figures below.
	Window      time.Duration
	Attempts    int
	Successes   int
	SuccessRate float64
	// Worst lists the webhooks in the worst states, lowest success rates
	// first, with their window figures.
	Worst []Health
	// Timeline has the namespace's attempts per minute over the window,
	// oldest first; minutes without attempts are left out.
	Timeline []Point
}
