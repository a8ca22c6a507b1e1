package riverworkers

import (
	"math/rand/v2"
	"sync"
	"time"
)

// inflight bounds the attempts to one webhook running at once in this
// process, so that a webhook that stalls (slow answers, timeouts) holds at
// most that many workers and the others keep delivering to everyone else.
type inflight struct {
	limit int

	mu      sync.Mutex
	running map[string]int
}

func newInflight(limit int) *inflight {
	return &inflight{limit: limit, running: map[string]int{}}
}

// acquire reserves a slot for webhookID and returns its release, or false
// when the webhook already has limit attempts running.
func (f *inflight) acquire(webhookID string) (release func(), ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[webhookID] >= f.limit {
		return nil, false
	}
	f.running[webhookID]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.running[webhookID]--; f.running[webhookID] == 0 {
			delete(f.running, webhookID)
		}
	}, true
}

// busyWait is how long a job for a webhook at its limit waits before trying
// again, with jitter so the waiting jobs don't return together.
func busyWait() time.Duration {
	return 250*time.Millisecond + rand.N(250*time.Millisecond)
}
