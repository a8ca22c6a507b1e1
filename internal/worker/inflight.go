package worker

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// maxUnrecorded bounds the attempts made and not recorded yet, in this
// process: enough for the recorder's batches to fill.
const maxUnrecorded = 2 * recordBatchMax

// Bounds on the snooze of a delivery job whose webhook is at its limit.
const (
	minBusyWait = 250 * time.Millisecond
	maxBusyWait = 30 * time.Second
	// minRateSample is how many attempts a webhook's rate is measured over
	// before it sizes snoozes.
	minRateSample = 50
	// wakeMargin: a job due back sooner than this is left to come back by
	// itself rather than woken, so none is woken as it starts.
	wakeMargin = 100 * time.Millisecond
	// sweepEvery: no remembered snooze outlasts maxBusyWait by more.
	sweepEvery = maxBusyWait
)

// inflight bounds what delivery jobs do at once in this process: attempts
// in all (so the process's sockets and memory stay bounded however many
// deliveries a job carries), and per webhook both attempts and running jobs,
// so that a webhook that stalls (slow answers, timeouts) holds no more than
// its share of the workers and attempt slots while the others keep
// delivering to everyone else.
type inflight struct {
	// attempts bounds the requests in flight; unrecorded the attempts not
	// recorded yet, so outcomes can't pile up ahead of the database.
	attempts, unrecorded        *semaphore.Weighted
	maxAttempts                 int64
	perWebhookAttempts, maxJobs int64

	mu       sync.Mutex
	webhooks map[string]*webhookSlots
	// snoozed holds, per webhook, the jobs turned away that are not due
	// back yet: a job leaving a webhook no job waits for wakes the first,
	// so a snooze that overestimated the work ahead leaves the webhook idle
	// only until then. Swept of jobs due back every sweepEvery.
	snoozed   map[string][]snoozedJob
	lastSweep time.Time
}

type snoozedJob struct {
	id  int64
	due time.Time
}

type webhookSlots struct {
	jobs, attempts *semaphore.Weighted
	// Guarded by inflight.mu.
	users       int // jobs holding or waiting for this entry
	waitingJobs int
	// queued is the deliveries of the jobs admitted or waiting that are not
	// done yet; perDelivery a moving average of the time between two
	// requests answered, the last at lastSent. With them a job turned away
	// estimates how long the webhook needs for the work ahead of it.
	queued, sent int
	perDelivery  time.Duration
	lastSent     time.Time
}

func newInflight(maxAttempts, perWebhookAttempts, maxJobsPerWebhook int) *inflight {
	return &inflight{
		attempts:           semaphore.NewWeighted(int64(maxAttempts)),
		maxAttempts:        int64(maxAttempts),
		unrecorded:         semaphore.NewWeighted(maxUnrecorded),
		perWebhookAttempts: int64(perWebhookAttempts),
		maxJobs:            int64(maxJobsPerWebhook),
		webhooks:           map[string]*webhookSlots{},
		snoozed:            map[string][]snoozedJob{},
	}
}

// enter admits a job of webhookID carrying deliveries deliveries. When the
// webhook has its share of jobs running, the job waits for one to leave
// until ctx is done, unless as many wait already: a webhook's jobs, running
// and waiting, hold at most twice its share of workers. It returns the
// job's slots, or false.
func (f *inflight) enter(ctx context.Context, webhookID string, deliveries int) (*jobSlots, bool) {
	f.mu.Lock()
	s := f.webhooks[webhookID]
	if s == nil {
		s = &webhookSlots{jobs: semaphore.NewWeighted(f.maxJobs), attempts: semaphore.NewWeighted(f.perWebhookAttempts)}
		f.webhooks[webhookID] = s
	}
	admitted := s.jobs.TryAcquire(1)
	wait := !admitted && int64(s.waitingJobs) < f.maxJobs
	if admitted || wait {
		s.users++
		s.queued += deliveries
	}
	if wait {
		s.waitingJobs++
	}
	f.mu.Unlock()
	if !admitted && !wait {
		return nil, false
	}
	j := &jobSlots{f: f, webhookID: webhookID, s: s, left: deliveries}
	if wait {
		admitted = s.jobs.Acquire(ctx, 1) == nil
		f.mu.Lock()
		s.waitingJobs--
		f.mu.Unlock()
		if !admitted {
			j.forget()
			return nil, false
		}
	}
	return j, true
}

// snooze is how long job jobID of webhookID, turned away, should snooze:
// from half to three quarters of the time the webhook needs, at the rate it
// has been sending, for the deliveries ahead of the job. The jobs turned
// away come back spread out, and early rather than late: early costs
// another snooze, late leaves the webhook idle (until a job leaving wakes
// one: see leave).
func (f *inflight) snooze(webhookID string, jobID int64) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := minBusyWait
	if s := f.webhooks[webhookID]; s != nil && s.sent >= minRateSample {
		wait = time.Duration(s.queued) * s.perDelivery
	}
	wait = min(max(wait/2, minBusyWait), maxBusyWait)
	wait += rand.N(wait / 2)
	now := time.Now()
	f.snoozed[webhookID] = append(f.snoozed[webhookID], snoozedJob{id: jobID, due: now.Add(wait)})
	if now.Sub(f.lastSweep) >= sweepEvery {
		f.lastSweep = now
		for id := range f.snoozed {
			f.pruneSnoozed(id, now)
		}
	}
	return wait
}

// woke forgets job jobID of webhookID as snoozed: it runs.
func (f *inflight) woke(webhookID string, jobID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	jobs := slices.DeleteFunc(f.snoozed[webhookID], func(j snoozedJob) bool { return j.id == jobID })
	f.setSnoozed(webhookID, jobs)
}

// takeWakeable removes and returns the snoozed job of webhookID due back
// first, if any is not due within wakeMargin, else 0. Called with mu held.
func (f *inflight) takeWakeable(webhookID string, now time.Time) int64 {
	jobs := f.pruneSnoozed(webhookID, now.Add(wakeMargin))
	if len(jobs) == 0 {
		return 0
	}
	first := 0
	for i, j := range jobs {
		if j.due.Before(jobs[first].due) {
			first = i
		}
	}
	id := jobs[first].id
	f.setSnoozed(webhookID, slices.Delete(jobs, first, first+1))
	return id
}

// pruneSnoozed drops the jobs of webhookID due back by then (they run, or
// soon will, without waking) and returns the rest. Called with mu held.
func (f *inflight) pruneSnoozed(webhookID string, by time.Time) []snoozedJob {
	jobs := slices.DeleteFunc(f.snoozed[webhookID], func(j snoozedJob) bool { return !j.due.After(by) })
	f.setSnoozed(webhookID, jobs)
	return jobs
}

func (f *inflight) setSnoozed(webhookID string, jobs []snoozedJob) {
	if len(jobs) == 0 {
		delete(f.snoozed, webhookID)
	} else {
		f.snoozed[webhookID] = jobs
	}
}

// jobSlots are an admitted job's hold on its webhook.
type jobSlots struct {
	f         *inflight
	webhookID string
	s         *webhookSlots
	left      int // of the job's deliveries counted in s.queued
	once      sync.Once
}

// acquire reserves the slots of n attempts, waiting until ctx is done. It
// returns for each two releases, or false: sent, once the receiver has
// answered, frees the request's place, the webhook's and the process's;
// recorded, once the outcome is written, frees its place among those
// waiting for the recorder.
func (j *jobSlots) acquire(ctx context.Context, n int) (sent, recorded []func(), ok bool) {
	// Never more than a semaphore holds: that would wait forever.
	n = int(min(int64(n), j.f.perWebhookAttempts, j.f.maxAttempts, maxUnrecorded))
	// The webhook's slots first: a job waiting for them must hold nothing
	// other webhooks need (a stalled webhook's waiting jobs would otherwise
	// sit on the process's places). The process's slots free up whatever
	// any webhook does: recording goes on, requests time out.
	held := make([]*semaphore.Weighted, 0, 3)
	for _, s := range []*semaphore.Weighted{j.s.attempts, j.f.unrecorded, j.f.attempts} {
		if s.Acquire(ctx, int64(n)) != nil {
			for _, h := range held {
				h.Release(int64(n))
			}
			return nil, nil, false
		}
		held = append(held, s)
	}
	sent, recorded = make([]func(), n), make([]func(), n)
	for i := range n {
		sent[i] = sync.OnceFunc(j.sent)
		recorded[i] = func() {
			sent[i]() // in case the attempt ended before its request
			j.f.unrecorded.Release(1)
		}
	}
	return sent, recorded, true
}

// sent frees an answered request's slots and counts it in the webhook's
// rate.
func (j *jobSlots) sent() {
	j.f.attempts.Release(1)
	j.s.attempts.Release(1)
	j.f.mu.Lock()
	defer j.f.mu.Unlock()
	now := time.Now()
	if j.s.sent++; j.s.sent > 1 {
		j.s.perDelivery += (now.Sub(j.s.lastSent) - j.s.perDelivery) / 16
	}
	j.s.lastSent = now
	if j.left > 0 {
		j.left--
		j.s.queued--
	}
}

// leave gives the job's place to the next job of its webhook. When no job
// waits for it, it returns the snoozed job to wake in its stead (see
// takeWakeable), else 0; always 0 after the first call.
func (j *jobSlots) leave() (wake int64) {
	j.once.Do(func() {
		// Decided before the place is free: a waiter takes it at once.
		j.f.mu.Lock()
		if j.s.waitingJobs == 0 {
			wake = j.f.takeWakeable(j.webhookID, time.Now())
		}
		j.f.mu.Unlock()
		j.s.jobs.Release(1)
		j.forget()
	})
	return wake
}

// forget drops the job's use of its webhook's entry, and the entry once no
// job uses it.
func (j *jobSlots) forget() {
	j.f.mu.Lock()
	defer j.f.mu.Unlock()
	j.s.queued -= j.left
	j.left = 0
	if j.s.users--; j.s.users == 0 {
		delete(j.f.webhooks, j.webhookID)
	}
}
