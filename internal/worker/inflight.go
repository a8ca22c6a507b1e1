package worker

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
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
// delivering to everyone else. Namespaces share the process fairly: the
// attempt slots go to the namespace holding fewest when they are short,
// and a namespace's jobs hold at most an equal share of the workers with
// the other namespaces at work here, never all of them, so that jobs of
// other namespaces queued behind a backlog are fetched and run.
type inflight struct {
	// attempts bounds the requests in flight; unrecorded the attempts not
	// recorded yet, so outcomes can't pile up ahead of the database.
	attempts                    *fairSlots
	unrecorded                  *semaphore.Weighted
	maxAttempts                 int64
	perWebhookAttempts, maxJobs int64
	// namespaceJobs is what the jobs of all namespaces at work may hold of
	// the process's workers (see namespaceShare).
	namespaceJobs int

	mu         sync.Mutex
	webhooks   map[string]*webhookSlots
	namespaces map[string]*namespaceSlots
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
	meter       rateMeter
}

// namespaceSlots are a namespace's jobs admitted or waiting. Guarded by
// inflight.mu.
type namespaceSlots struct {
	jobs  int
	meter rateMeter
}

// rateMeter estimates how long the work ahead takes: queued is the
// deliveries of the jobs admitted or waiting that are not done yet;
// perDelivery a moving average of the time between two requests answered,
// the last at lastSent.
type rateMeter struct {
	queued, sent int
	perDelivery  time.Duration
	lastSent     time.Time
}

func (m *rateMeter) answered(now time.Time) {
	if m.sent++; m.sent > 1 {
		m.perDelivery += (now.Sub(m.lastSent) - m.perDelivery) / 16
	}
	m.lastSent = now
}

// workAhead is the time the queued deliveries take at the measured rate,
// once the rate is measured.
func (m *rateMeter) workAhead() (time.Duration, bool) {
	if m.sent < minRateSample {
		return 0, false
	}
	return time.Duration(m.queued) * m.perDelivery, true
}

func newInflight(maxAttempts, perWebhookAttempts, maxJobsPerWebhook int) *inflight {
	return &inflight{
		attempts:           newFairSlots(int64(maxAttempts)),
		maxAttempts:        int64(maxAttempts),
		unrecorded:         semaphore.NewWeighted(maxUnrecorded),
		perWebhookAttempts: int64(perWebhookAttempts),
		maxJobs:            int64(maxJobsPerWebhook),
		namespaceJobs:      max(maxAttempts-maxAttempts/10, 1),
		webhooks:           map[string]*webhookSlots{},
		namespaces:         map[string]*namespaceSlots{},
		snoozed:            map[string][]snoozedJob{},
	}
}

// namespaceSnoozeKey names, among the snoozed jobs, those of namespace
// turned away for its share; webhook ids never start with a NUL.
func namespaceSnoozeKey(namespace string) string { return "\x00" + namespace }

// namespaceShare is how many jobs a namespace may hold, with n namespaces
// at work in the process: an equal share of what all may hold, a tenth of
// the workers being kept for jobs of namespaces not seen yet. Attempts,
// not jobs, are the process's capacity (a job runs its webhook's attempts
// side by side), so a namespace's share of jobs still lets it use every
// attempt slot the others leave. Called with mu held.
func (f *inflight) namespaceShare() int {
	return max(f.namespaceJobs/max(len(f.namespaces), 1), 1)
}

// enter admits a job of webhookID, in namespace, carrying deliveries
// deliveries. A namespace holding its share of the process's jobs turns it
// away. When the webhook has its share of jobs running, the job waits for
// one to leave until ctx is done, unless as many wait already: a webhook's
// jobs, running and waiting, hold at most twice its share of workers. It
// returns the job's slots, or the snooze key of what turned it away.
func (f *inflight) enter(ctx context.Context, namespace, webhookID string, deliveries int) (_ *jobSlots, busy string) {
	f.mu.Lock()
	ns := f.namespaces[namespace]
	if ns == nil {
		ns = &namespaceSlots{}
		f.namespaces[namespace] = ns
	}
	if ns.jobs >= f.namespaceShare() {
		f.mu.Unlock()
		return nil, namespaceSnoozeKey(namespace)
	}
	s := f.webhooks[webhookID]
	if s == nil {
		s = &webhookSlots{jobs: semaphore.NewWeighted(f.maxJobs), attempts: semaphore.NewWeighted(f.perWebhookAttempts)}
		f.webhooks[webhookID] = s
	}
	admitted := s.jobs.TryAcquire(1)
	wait := !admitted && int64(s.waitingJobs) < f.maxJobs
	if admitted || wait {
		s.users++
		s.meter.queued += deliveries
		ns.jobs++
		ns.meter.queued += deliveries
	} else if ns.jobs == 0 {
		delete(f.namespaces, namespace)
	}
	if wait {
		s.waitingJobs++
	}
	f.mu.Unlock()
	if !admitted && !wait {
		return nil, webhookID
	}
	j := &jobSlots{f: f, namespace: namespace, webhookID: webhookID, s: s, ns: ns, left: deliveries}
	if wait {
		admitted = s.jobs.Acquire(ctx, 1) == nil
		f.mu.Lock()
		s.waitingJobs--
		f.mu.Unlock()
		if !admitted {
			j.forget()
			return nil, webhookID
		}
	}
	return j, ""
}

// snooze is how long job jobID, turned away by busy (a webhook id, or a
// namespace's snooze key), should snooze: from half to three quarters of
// the time the webhook or namespace needs, at the rate it has been
// sending, for the deliveries ahead of the job. The jobs turned away come
// back spread out, and early rather than late: early costs another snooze,
// late leaves the webhook idle (until a job leaving wakes one: see leave).
func (f *inflight) snooze(busy string, jobID int64) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var meter *rateMeter
	if namespace, ok := strings.CutPrefix(busy, namespaceSnoozeKey("")); ok {
		if ns := f.namespaces[namespace]; ns != nil {
			meter = &ns.meter
		}
	} else if s := f.webhooks[busy]; s != nil {
		meter = &s.meter
	}
	wait := minBusyWait
	if meter != nil {
		if ahead, ok := meter.workAhead(); ok {
			wait = ahead
		}
	}
	wait = min(max(wait/2, minBusyWait), maxBusyWait)
	wait += rand.N(wait / 2)
	now := time.Now()
	f.snoozed[busy] = append(f.snoozed[busy], snoozedJob{id: jobID, due: now.Add(wait)})
	if now.Sub(f.lastSweep) >= sweepEvery {
		f.lastSweep = now
		for id := range f.snoozed {
			f.pruneSnoozed(id, now)
		}
	}
	return wait
}

// woke forgets job jobID, of namespace and webhookID, as snoozed: it runs.
func (f *inflight) woke(namespace, webhookID string, jobID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, busy := range []string{webhookID, namespaceSnoozeKey(namespace)} {
		jobs := slices.DeleteFunc(f.snoozed[busy], func(j snoozedJob) bool { return j.id == jobID })
		f.setSnoozed(busy, jobs)
	}
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

// jobSlots are an admitted job's hold on its webhook and namespace.
type jobSlots struct {
	f                    *inflight
	namespace, webhookID string
	s                    *webhookSlots
	ns                   *namespaceSlots
	left                 int // of the job's deliveries counted in the meters' queued
	once                 sync.Once
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
	held := make([]*semaphore.Weighted, 0, 2)
	for _, s := range []*semaphore.Weighted{j.s.attempts, j.f.unrecorded} {
		if s.Acquire(ctx, int64(n)) != nil {
			for _, h := range held {
				h.Release(int64(n))
			}
			return nil, nil, false
		}
		held = append(held, s)
	}
	if j.f.attempts.acquire(ctx, j.namespace, int64(n)) != nil {
		for _, h := range held {
			h.Release(int64(n))
		}
		return nil, nil, false
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
	j.f.attempts.release(j.namespace, 1)
	j.s.attempts.Release(1)
	j.f.mu.Lock()
	defer j.f.mu.Unlock()
	now := time.Now()
	j.s.meter.answered(now)
	j.ns.meter.answered(now)
	if j.left > 0 {
		j.left--
		j.s.meter.queued--
		j.ns.meter.queued--
	}
}

// leave gives the job's place to the next job of its webhook. When no job
// waits for it, it returns the snoozed job to wake in its stead (see
// takeWakeable): one of its webhook's, else one of its namespace's turned
// away for its share; else 0, and always 0 after the first call.
func (j *jobSlots) leave() (wake int64) {
	j.once.Do(func() {
		// Decided before the place is free: a waiter takes it at once.
		j.f.mu.Lock()
		if j.s.waitingJobs == 0 {
			now := time.Now()
			wake = j.f.takeWakeable(j.webhookID, now)
			if wake == 0 && j.ns.jobs-1 < j.f.namespaceShare() {
				wake = j.f.takeWakeable(namespaceSnoozeKey(j.namespace), now)
			}
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
	j.s.meter.queued -= j.left
	j.ns.meter.queued -= j.left
	j.left = 0
	if j.s.users--; j.s.users == 0 {
		delete(j.f.webhooks, j.webhookID)
	}
	if j.ns.jobs--; j.ns.jobs == 0 {
		delete(j.f.namespaces, j.namespace)
	}
}
