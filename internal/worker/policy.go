package worker

import (
	"slices"
	"time"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/store"
)

// The delivery worker's decisions, apart from the database and the network
// so that tables of cases test them.

// earlyTolerance is how early a job may wake for its attempt and still make
// it, rather than snoozing again for a moment.
const earlyTolerance = 250 * time.Millisecond

// triage is what becomes of a job's deliveries when it runs.
type triage struct {
	// due are attempted now; early wait for their time (a job run early).
	due, early []*store.DeliveryWork
	// cancelled (webhook deleted) and expired (the event's TTL ran out)
	// end without an attempt; parked wait for their paused webhook.
	cancelled, expired, parked []*store.DeliveryWork
}

// triageJob sorts the deliveries of a job carrying deliveries at attempt
// count attempted, to webhook target, at time now. A delivery finished,
// waiting for its webhook or its ordering key's turn, or moved on to a
// later job (its count past the job's) is in none of the lists: it is not
// this job's to touch.
func triageJob(target *store.SendTarget, works []*store.DeliveryWork, attempted int, now time.Time) triage {
	var t triage
	for _, work := range works {
		switch {
		case work.Status.Final(), work.Waiting, work.WaitsFor != "", work.AttemptCount != attempted && !work.Carried:
		case target.Deleted:
			t.cancelled = append(t.cancelled, work)
		case !work.ExpiresAt.IsZero() && !now.Before(work.ExpiresAt):
			t.expired = append(t.expired, work)
		case !target.Active:
			t.parked = append(t.parked, work)
		case work.NextAttemptAt.Sub(now) > earlyTolerance:
			t.early = append(t.early, work)
		default:
			t.due = append(t.due, work)
		}
	}
	return t
}

// earliest returns when the first of works is due, zero for none.
func earliest(works []*store.DeliveryWork) time.Time {
	if len(works) == 0 {
		return time.Time{}
	}
	return slices.MinFunc(works, func(a, b *store.DeliveryWork) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) }).NextAttemptAt
}

// verdict is what an attempt's outcome means for its delivery.
type verdict struct {
	status delivery.Status
	// next is when a retrying delivery's next attempt is due.
	next time.Time
	// exhausted: the delivery failed for good after failures that would
	// have been retried, had attempts remained.
	exhausted bool
}

// retryPolicy decides retries: whether a failure is worth another attempt,
// and after how long.
type retryPolicy struct {
	checkRetry delivery.CheckRetry
	backoff    delivery.Backoff
}

// judge decides what attempt number `number` (of maxAttempts) of a
// delivery expiring at expiresAt (zero: never), made at now with outcome o,
// makes of the delivery. A webhook's schedule, when set, replaces the
// backoff.
func (p retryPolicy) judge(o *delivery.Outcome, number, maxAttempts int, schedule []time.Duration, expiresAt, now time.Time) verdict {
	if o.Succeeded() {
		return verdict{status: delivery.StatusSucceeded}
	}
	retryable := p.checkRetry(o)
	if !retryable || number >= maxAttempts {
		return verdict{status: delivery.StatusFailed, exhausted: retryable}
	}
	wait := p.backoff(number, o)
	if len(schedule) > 0 {
		wait = delivery.ScheduledBackoff(schedule, number, o)
	}
	next := now.Add(wait)
	if !expiresAt.IsZero() && next.After(expiresAt) {
		next = expiresAt // wake to end it as expired, not hours later
	}
	return verdict{status: delivery.StatusRetrying, next: next}
}
