package riverworkers

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// inflight bounds what delivery jobs do at once in this process: attempts
// in all (so the process's sockets and memory stay bounded however many
// deliveries a job carries), and per webhook both attempts and running jobs,
// so that a webhook that stalls (slow answers, timeouts) holds no more than
// its share of the workers and attempt slots while the others keep
// delivering to everyone else.
type inflight struct {
	attempts                    *semaphore.Weighted
	perWebhookAttempts, maxJobs int64
	mu                          sync.Mutex
	webhooks                    map[string]*webhookSlots
}

type webhookSlots struct {
	users          int // jobs holding or waiting for this entry
	jobs, attempts *semaphore.Weighted
	waitingJobs    int
}

func newInflight(maxAttempts, perWebhookAttempts, maxJobsPerWebhook int) *inflight {
	return &inflight{
		attempts:           semaphore.NewWeighted(int64(maxAttempts)),
		perWebhookAttempts: int64(perWebhookAttempts),
		maxJobs:            int64(maxJobsPerWebhook),
		webhooks:           map[string]*webhookSlots{},
	}
}

// enter admits a job of webhookID. When the webhook has its share of jobs
// running, the job waits for one to leave until ctx is done, unless as many
// wait already: a webhook's jobs, running and waiting, hold at most twice its
// share of workers. It returns the job's slots, or false.
func (f *inflight) enter(ctx context.Context, webhookID string) (*jobSlots, bool) {
	f.mu.Lock()
	s := f.webhooks[webhookID]
	if s == nil {
		s = &webhookSlots{jobs: semaphore.NewWeighted(f.maxJobs), attempts: semaphore.NewWeighted(f.perWebhookAttempts)}
		f.webhooks[webhookID] = s
	}
	s.users++
	admitted := s.jobs.TryAcquire(1)
	wait := !admitted && int64(s.waitingJobs) < f.maxJobs
	if wait {
		s.waitingJobs++
	}
	f.mu.Unlock()
	if wait {
		admitted = s.jobs.Acquire(ctx, 1) == nil
		f.mu.Lock()
		s.waitingJobs--
		f.mu.Unlock()
	}
	if !admitted {
		f.forget(webhookID, s)
		return nil, false
	}
	return &jobSlots{f: f, webhookID: webhookID, s: s}, true
}

// forget drops a job's use of s, and s once no job uses it.
func (f *inflight) forget(webhookID string, s *webhookSlots) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(f.webhooks, webhookID)
	}
}

// jobSlots are an admitted job's hold on its webhook.
type jobSlots struct {
	f         *inflight
	webhookID string
	s         *webhookSlots
	left      sync.Once
}

// acquire reserves an attempt slot, of the webhook's and of the process's,
// waiting until ctx is done; it returns the release, or false.
func (j *jobSlots) acquire(ctx context.Context) (release func(), ok bool) {
	// The webhook's slot first: a job waiting for it holds nothing anyone
	// else needs, while every holder of a process slot is sending.
	if j.s.attempts.Acquire(ctx, 1) != nil {
		return nil, false
	}
	if j.f.attempts.Acquire(ctx, 1) != nil {
		j.s.attempts.Release(1)
		return nil, false
	}
	return func() {
		j.f.attempts.Release(1)
		j.s.attempts.Release(1)
	}, true
}

// leave gives the job's place to the next job of its webhook.
func (j *jobSlots) leave() {
	j.left.Do(func() {
		j.s.jobs.Release(1)
		j.f.forget(j.webhookID, j.s)
	})
}

// busyWait is how long a job for a webhook at its limit waits before trying
// again, with jitter so the waiting jobs don't return together.
func busyWait() time.Duration {
	return 250*time.Millisecond + rand.N(250*time.Millisecond)
}
