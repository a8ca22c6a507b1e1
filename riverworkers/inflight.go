package riverworkers

import (
	"context"
	"math/rand/v2"
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
	perWebhookAttempts, maxJobs int64

	mu       sync.Mutex
	webhooks map[string]*webhookSlots
}

type webhookSlots struct {
	jobs, attempts *semaphore.Weighted
	// Guarded by inflight.mu.
	users       int // jobs holding or waiting for this entry
	waitingJobs int
	// queued is the deliveries of the jobs admitted or waiting that are not
	// done yet; attemptTime a moving average of an attempt's duration. With
	// them a job turned away estimates how long the webhook needs for the
	// work ahead of it.
	queued      int
	attemptTime time.Duration
}

func newInflight(maxAttempts, perWebhookAttempts, maxJobsPerWebhook int) *inflight {
	return &inflight{
		attempts:           semaphore.NewWeighted(int64(maxAttempts)),
		unrecorded:         semaphore.NewWeighted(maxUnrecorded),
		perWebhookAttempts: int64(perWebhookAttempts),
		maxJobs:            int64(maxJobsPerWebhook),
		webhooks:           map[string]*webhookSlots{},
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

// expectedWait is how long a job of webhookID turned away should snooze:
// about the time the webhook needs for the deliveries ahead of it, with
// jitter so the jobs turned away don't all return together.
func (f *inflight) expectedWait(webhookID string) time.Duration {
	f.mu.Lock()
	wait := minBusyWait
	if s := f.webhooks[webhookID]; s != nil {
		wait = time.Duration(s.queued) * s.attemptTime / time.Duration(f.perWebhookAttempts)
	}
	f.mu.Unlock()
	wait = min(max(wait, minBusyWait), maxBusyWait)
	return wait + rand.N(wait/2)
}

// jobSlots are an admitted job's hold on its webhook.
type jobSlots struct {
	f         *inflight
	webhookID string
	s         *webhookSlots
	left      int // of the job's deliveries counted in s.queued
	once      sync.Once
}

// acquire reserves the slots of an attempt, waiting until ctx is done. It
// returns two releases, or false: sent, once the receiver has answered,
// frees the request's place, the webhook's and the process's; recorded,
// once the outcome is written, frees its place among those waiting for the
// recorder.
func (j *jobSlots) acquire(ctx context.Context) (sent, recorded func(), ok bool) {
	if j.f.unrecorded.Acquire(ctx, 1) != nil {
		return nil, nil, false
	}
	// The webhook's slot before the process's: a job waiting for it holds
	// nothing anyone else needs, while every holder of a process slot is
	// sending.
	if j.s.attempts.Acquire(ctx, 1) != nil {
		j.f.unrecorded.Release(1)
		return nil, nil, false
	}
	if j.f.attempts.Acquire(ctx, 1) != nil {
		j.s.attempts.Release(1)
		j.f.unrecorded.Release(1)
		return nil, nil, false
	}
	started := time.Now()
	sent = sync.OnceFunc(func() {
		j.f.attempts.Release(1)
		j.s.attempts.Release(1)
		j.f.mu.Lock()
		defer j.f.mu.Unlock()
		elapsed := time.Since(started)
		if j.s.attemptTime == 0 {
			j.s.attemptTime = elapsed
		} else {
			j.s.attemptTime += (elapsed - j.s.attemptTime) / 8
		}
		if j.left > 0 {
			j.left--
			j.s.queued--
		}
	})
	recorded = func() {
		sent() // in case the attempt ended before its request
		j.f.unrecorded.Release(1)
	}
	return sent, recorded, true
}

// leave gives the job's place to the next job of its webhook.
func (j *jobSlots) leave() {
	j.once.Do(func() {
		j.s.jobs.Release(1)
		j.forget()
	})
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
