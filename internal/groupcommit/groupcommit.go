// Package groupcommit batches writes submitted concurrently into one
// transaction, the way databases group commits: the first submitter flushes
// everything queued so far, its own item included, and hands the next batch
// to the first waiter. When idle an item is flushed alone and at once; under
// load batches grow by themselves, without timers or background goroutines.
package groupcommit

import "sync"

// Group batches items of type T into calls of a flush function.
type Group[T any] struct {
	flush    func(items []T) error
	maxBatch int

	mu       sync.Mutex
	queue    []*waiter[T]
	flushing bool
}

type waiter[T any] struct {
	item   T
	signal chan signal
}

// signal tells a waiter either its item's result or that it leads the next
// flush.
type signal struct {
	err  error
	lead bool
}

// New returns a Group flushing at most maxBatch items per call of flush. When
// a batch fails, its items are flushed one by one, so one bad item fails
// alone.
func New[T any](maxBatch int, flush func(items []T) error) *Group[T] {
	return &Group[T]{flush: flush, maxBatch: max(maxBatch, 1)}
}

// Submit queues item and returns once it has been flushed, with the flush's
// error. It does not take a context: an item that has been queued is written
// even if its submitter gives up, and the flush function bounds its own time.
func (g *Group[T]) Submit(item T) error {
	w := &waiter[T]{item: item, signal: make(chan signal, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.flushing
	g.flushing = true
	g.mu.Unlock()
	if lead {
		g.flushNext()
	}
	for {
		s := <-w.signal
		if !s.lead {
			return s.err
		}
		g.flushNext()
	}
}

// flushNext flushes the oldest queued items, then passes leadership to the
// oldest waiter left, if any, so no submitter flushes for others forever.
func (g *Group[T]) flushNext() {
	g.mu.Lock()
	n := min(len(g.queue), g.maxBatch)
	batch := make([]*waiter[T], n)
	copy(batch, g.queue)
	g.queue = g.queue[n:]
	g.mu.Unlock()

	items := make([]T, n)
	for i, w := range batch {
		items[i] = w.item
	}
	if err := g.flush(items); err != nil && n > 1 {
		for _, w := range batch {
			w.signal <- signal{err: g.flush([]T{w.item})}
		}
	} else {
		for _, w := range batch {
			w.signal <- signal{err: err}
		}
	}

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.flushing = false
	} else {
		g.queue[0].signal <- signal{lead: true}
	}
	g.mu.Unlock()
}
