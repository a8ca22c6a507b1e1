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
	// dropped are finished deliveries whose manual attempt their webhook,
	// deleted, paused or disabled since it was asked for, can't take: the
	// request is dropped.
	dropped []*store.DeliveryWork
}

// triageJob sorts the deliveries of a job carrying deliveries at attempt
// count attempted (manual attempts included), to webhook target, at time
// now; a manual job's (see riverworkers.DeliverArgs.Manual) as
// sortManual does. A delivery finished, waiting for its webhook or its
// ordering key's turn, moved on to a later job (its count past the
// job's), or with a manual attempt asked for, which its manual job makes,
// is in none of the lists: it is not this job's to touch.
func triageJob(target *store.SendTarget, works []*store.DeliveryWork, attempted int, manual bool, now time.Time) triage {
	var t triage
	for _, work := range works {
		if manual && !work.Carried {
			t.sortManual(target, work, attempted)
			continue
		}
		switch {
		case work.Status.Final(), work.Waiting, work.WaitsFor != "", work.Attempted() != attempted && !work.Carried, work.RetryRequested:
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

// sortManual sorts a delivery of a manual job: due at once, whatever its
// status, schedule and expiry (a person asked), unless its webhook can no
// longer take it. One whose request was met or dropped already is not the
// job's.
func (t *triage) sortManual(target *store.SendTarget, work *store.DeliveryWork, attempted int) {
	switch {
	case !work.RetryRequested, work.Attempted() != attempted, work.Waiting, work.WaitsFor != "":
	case target.Deleted && !work.Status.Final():
		t.cancelled = append(t.cancelled, work)
	case target.Deleted, !target.Active && work.Status.Final():
		t.dropped = append(t.dropped, work)
	case !target.Active:
		t.parked = append(t.parked, work) // the request dropped: it goes on resume
	default:
		t.due = append(t.due, work)
	}
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

// judge decides what automatic attempt number `number` (of maxAttempts;
// manual attempts are not counted) of a delivery expiring at expiresAt
// (zero: never), made at now with outcome o, makes of the delivery. A
// webhook's schedule, when set, replaces the backoff.
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

// judgeManual decides what a manual attempt with outcome o makes of a
// delivery that was in status `before`, its next automatic attempt due at
// next. A success ends it. A failure changes nothing for a delivery still
// retrying: its schedule goes on as it was, with the attempts it had left.
// A finished delivery whose manual attempt fails is failed, with no new
// automatic attempts.
func judgeManual(o *delivery.Outcome, before delivery.Status, next time.Time) verdict {
	switch {
	case o.Succeeded():
		return verdict{status: delivery.StatusSucceeded}
	case before == delivery.StatusRetrying:
		return verdict{status: delivery.StatusRetrying, next: next}
	}
	return verdict{status: delivery.StatusFailed}
}
