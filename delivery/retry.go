package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Outcome is what one attempt came to, as the retry policy sees it.
type Outcome struct {
	// StatusCode is the HTTP status, 0 when there was no answer.
	StatusCode int
	Class      ErrorClass
	// RetryAfter is the delay a 429 or 503 answer asked for; 0 if none.
	RetryAfter time.Duration
}

// Succeeded reports whether the attempt delivered the event.
func (o *Outcome) Succeeded() bool {
	return o.Class == ClassNone && o.StatusCode >= 200 && o.StatusCode < 300
}

// CheckRetry reports whether a failed attempt's delivery should be tried
// again, attempts permitting.
type CheckRetry func(o *Outcome) bool

// DefaultCheckRetry retries what may succeed later: 408, 429 and 5xx
// answers, timeouts and connection failures. It does not retry what needs a
// person to fix: DNS and TLS failures, blocked destinations, redirects,
// other 4xx answers, template errors.
func DefaultCheckRetry(o *Outcome) bool {
	switch o.Class {
	case ClassHTTP5xx, ClassTimeout, ClassConnectionRefused, ClassConnectionReset, ClassConnectionClosed, ClassNetwork:
		return true
	case ClassHTTP4xx:
		return o.StatusCode == http.StatusRequestTimeout || o.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// Backoff returns the delay before the next attempt, after attempt number
// `attempt` (counting from 1) failed with o.
type Backoff func(attempt int, o *Outcome) time.Duration

// DefaultSchedule is DefaultBackoff's delay after each failed attempt; the
// last entry repeats. With the default 8 attempts it spans about 28 hours.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Bounds on a Retry-After a receiver asks for.
const (
	RetryAfterMin = time.Second
	RetryAfterMax = 24 * time.Hour
)

// DefaultBackoff follows DefaultSchedule with ±20% jitter, so retries of
// many deliveries failed together don't return together. A Retry-After from
// the receiver replaces the schedule, within RetryAfterMin and RetryAfterMax.
func DefaultBackoff(attempt int, o *Outcome) time.Duration {
	if o.RetryAfter > 0 {
		return min(max(o.RetryAfter, RetryAfterMin), RetryAfterMax)
	}
	base := DefaultSchedule[min(max(attempt, 1), len(DefaultSchedule))-1]
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(base))
	return base + jitter
}

// ScheduledBackoff is the wait before retry number `attempt` (from 1) by
// schedule, the last wait repeating, or the receiver's Retry-After when
// longer (bounded by RetryAfterMax).
func ScheduledBackoff(schedule []time.Duration, attempt int, o *Outcome) time.Duration {
	wait := schedule[min(max(attempt, 1), len(schedule))-1]
	if o.RetryAfter > wait {
		return min(o.RetryAfter, RetryAfterMax)
	}
	return wait
}

// ParseRetryAfter reads a Retry-After header, in seconds or as an HTTP date,
// relative to now. It returns 0 when absent or unreadable.
func ParseRetryAfter(value string, now time.Time) time.Duration {
	if value == "" {
		return 0
	}
	if secs, err := strconv.Atoi(value); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}
