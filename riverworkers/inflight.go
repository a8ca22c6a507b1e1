package riverworkers

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// inflight bounds, per webhook and in this process, the delivery jobs
// running (their share of the workers) and the attempts they make at once,
// so that a webhook that stalls (slow answers, timeouts) holds no more than
// that: the other workers keep delivering to everyone else.
type inflight struct {
	maxAttempts, maxJobs int

	mu       sync.Mutex
	webhooks map[string]*slots
}

type slots struct {
	jobs, attempts int
	// Jobs waiting to run and attempts waiting to start get freed places
	// first come, first served; each channel receives the place handed to
	// it.
	waitingJobs, waitingAttempts []chan struct{}
}

func newInflight(maxAttempts, maxJobs int) *inflight {
	return &inflight{maxAttempts: maxAttempts, maxJobs: maxJobs, webhooks: map[string]*slots{}}
}

func (f *inflight) slotsLocked(webhookID string) *slots {
	s := f.webhooks[webhookID]
	if s == nil {
		s = &slots{}
		f.webhooks[webhookID] = s
	}
	return s
}

func (f *inflight) forgetIdleLocked(webhookID string, s *slots) {
	if s.jobs == 0 && s.attempts == 0 && len(s.waitingJobs) == 0 && len(s.waitingAttempts) == 0 {
		delete(f.webhooks, webhookID)
	}
}

// enter admits a job of webhookID and returns its leave. When the webhook
// has its share of jobs running, the job waits for one to leave, up to
// wait, unless as many wait already: false means not admitted. A webhook's
// jobs, running and waiting, hold at most twice its share of workers.
func (f *inflight) enter(ctx context.Context, stop <-chan struct{}, webhookID string, wait time.Duration) (leave func(), ok bool) {
	f.mu.Lock()
	s := f.slotsLocked(webhookID)
	leave = func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.handOnLocked(webhookID, s, &s.waitingJobs, &s.jobs)
	}
	if s.jobs < f.maxJobs {
		s.jobs++
		f.mu.Unlock()
		return leave, true
	}
	if len(s.waitingJobs) >= f.maxJobs || wait <= 0 {
		f.mu.Unlock()
		return nil, false
	}
	if !f.waitLocked(ctx, stop, webhookID, s, &s.waitingJobs, &s.jobs, wait) {
		return nil, false
	}
	return leave, true
}

// waitLocked queues for a place of kind (jobs or attempts), unlocks, and
// reports whether one was handed over within wait (and before ctx or stop
// ended).
func (f *inflight) waitLocked(ctx context.Context, stop <-chan struct{}, webhookID string, s *slots, queue *[]chan struct{}, held *int,
	wait time.Duration) bool {
	handed := make(chan struct{}, 1)
	*queue = append(*queue, handed)
	f.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-handed:
		return true
	case <-timer.C:
	case <-ctx.Done():
	case <-stop:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(*queue, handed); i >= 0 {
		*queue = slices.Delete(*queue, i, i+1)
		f.forgetIdleLocked(webhookID, s)
		return false
	}
	// A place was handed over as the wait ended: give it on.
	f.handOnLocked(webhookID, s, queue, held)
	return false
}

// handOnLocked gives a freed place to the first waiter, or frees it.
func (f *inflight) handOnLocked(webhookID string, s *slots, queue *[]chan struct{}, held *int) {
	if len(*queue) > 0 {
		next := (*queue)[0]
		*queue = (*queue)[1:]
		next <- struct{}{}
		return
	}
	*held--
	f.forgetIdleLocked(webhookID, s)
}

// acquire reserves an attempt slot for an admitted job of webhookID and
// returns its release. When the webhook has its attempts running it waits
// for one to end, up to wait: false means no slot.
func (f *inflight) acquire(ctx context.Context, stop <-chan struct{}, webhookID string, wait time.Duration) (release func(), ok bool) {
	f.mu.Lock()
	s := f.slotsLocked(webhookID)
	release = func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.handOnLocked(webhookID, s, &s.waitingAttempts, &s.attempts)
	}
	if s.attempts < f.maxAttempts {
		s.attempts++
		f.mu.Unlock()
		return release, true
	}
	if wait <= 0 {
		f.mu.Unlock()
		return nil, false
	}
	if !f.waitLocked(ctx, stop, webhookID, s, &s.waitingAttempts, &s.attempts, wait) {
		return nil, false
	}
	return release, true
}

// busyWait is how long a job for a webhook at its limit waits before trying
// again, with jitter so the waiting jobs don't return together.
func busyWait() time.Duration {
	return 250*time.Millisecond + rand.N(250*time.Millisecond)
}
