package worker

import (
	"context"
	"slices"
	"sync"
)

// fairSlots is a counting semaphore shared by namespaces. While slots are
// short, each one freed goes to the waiting namespace that holds the
// fewest, and within a namespace to its first waiter: a namespace with a
// backlog can't keep the others waiting behind it. Its waiters never pass
// one another over within a namespace, and the namespace served next
// waits for enough slots rather than be passed over by smaller requests.
type fairSlots struct {
	mu      sync.Mutex
	free    int64
	held    map[string]int64
	waiting map[string][]*slotWaiter
	waiters int
}

type slotWaiter struct {
	n     int64
	ready chan struct{}
}

func newFairSlots(n int64) *fairSlots {
	return &fairSlots{free: n, held: map[string]int64{}, waiting: map[string][]*slotWaiter{}}
}

// acquire takes n slots for namespace, waiting until ctx is done.
func (s *fairSlots) acquire(ctx context.Context, namespace string, n int64) error {
	s.mu.Lock()
	if s.waiters == 0 && s.free >= n {
		s.free -= n
		s.held[namespace] += n
		s.mu.Unlock()
		return nil
	}
	w := &slotWaiter{n: n, ready: make(chan struct{})}
	s.waiting[namespace] = append(s.waiting[namespace], w)
	s.waiters++
	s.grant()
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	select {
	case <-w.ready: // granted meanwhile: given back
		s.mu.Unlock()
		s.release(namespace, n)
		return ctx.Err()
	default:
	}
	queue := slices.DeleteFunc(s.waiting[namespace], func(o *slotWaiter) bool { return o == w })
	if len(queue) == 0 {
		delete(s.waiting, namespace)
	} else {
		s.waiting[namespace] = queue
	}
	s.waiters--
	s.grant() // it may have held up the others
	s.mu.Unlock()
	return ctx.Err()
}

// release gives back n slots of namespace.
func (s *fairSlots) release(namespace string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free += n
	if s.held[namespace] -= n; s.held[namespace] <= 0 {
		delete(s.held, namespace)
	}
	s.grant()
}

// grant hands free slots to the waiters, fewest held first. Called with mu
// held.
func (s *fairSlots) grant() {
	for s.waiters > 0 {
		next, found := "", false
		for namespace := range s.waiting {
			if !found || s.held[namespace] < s.held[next] || s.held[namespace] == s.held[next] && namespace < next {
				next, found = namespace, true
			}
		}
		queue := s.waiting[next]
		w := queue[0]
		if w.n > s.free {
			return
		}
		s.free -= w.n
		s.held[next] += w.n
		if len(queue) == 1 {
			delete(s.waiting, next)
		} else {
			s.waiting[next] = queue[1:]
		}
		s.waiters--
		close(w.ready)
	}
}
