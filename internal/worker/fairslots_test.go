package worker

import (
	"context"
	"testing"
	"time"
)

// TestFairSlotsServeTheNamespaceHoldingFewest: with every slot taken, a
// slot freed goes to the waiting namespace that holds the fewest, whoever
// asked first.
func TestFairSlotsServeTheNamespaceHoldingFewest(t *testing.T) {
	t.Parallel()

	s := newFairSlots(3)
	ctx := t.Context()
	if err := s.acquire(ctx, "busy", 3); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 3)
	wait := func(namespace string) {
		s.mu.Lock()
		waiting := s.waiters
		s.mu.Unlock()
		go func() {
			if err := s.acquire(ctx, namespace, 1); err != nil {
				t.Error(err)
			}
			got <- namespace
		}()
		waitFor(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.waiters > waiting
		})
	}
	wait("busy")
	wait("busy")
	wait("quiet") // asked last, holds nothing
	s.release("busy", 1)
	if first := <-got; first != "quiet" {
		t.Fatalf("the freed slot went to %q, want the namespace holding none", first)
	}
	s.release("busy", 2)
	for range 2 {
		if next := <-got; next != "busy" {
			t.Fatalf("then %q, want busy's waiters", next)
		}
	}
}

// TestFairSlotsGiveUp: a waiter whose context ends leaves the queue, and
// holds up no one behind it.
func TestFairSlotsGiveUp(t *testing.T) {
	t.Parallel()

	s := newFairSlots(2)
	if err := s.acquire(t.Context(), "a", 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.acquire(ctx, "big", 2); err == nil {
		t.Fatal("took 2 slots of which 1 was free")
	}
	if err := s.acquire(t.Context(), "b", 1); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiters != 0 || s.free != 0 || s.held["a"] != 1 || s.held["b"] != 1 {
		t.Fatalf("after a waiter gave up: %d waiting, %d free, held %v", s.waiters, s.free, s.held)
	}
}

// TestInflightNamespaceShare: a namespace alone holds at most nine tenths
// of the workers; with a second namespace at work, an equal share each; a
// job leaving below the share wakes one of the namespace's turned away.
func TestInflightNamespaceShare(t *testing.T) {
	t.Parallel()

	f := newInflight(10, 10, 10)
	ctx := t.Context()
	var held []*jobSlots
	for i := range 9 {
		j, busy := f.enter(ctx, "a", "wh_a", 1)
		if busy != "" {
			t.Fatalf("job %d of a namespace alone turned away", i)
		}
		held = append(held, j)
	}
	if _, busy := f.enter(ctx, "a", "wh_a", 1); busy != namespaceSnoozeKey("a") {
		t.Fatalf("10th job of a namespace alone: turned away by %q, want its namespace's share", busy)
	}
	f.snooze(namespaceSnoozeKey("a"), 42)
	b, busy := f.enter(ctx, "b", "wh_b", 1)
	if busy != "" {
		t.Fatal("the second namespace's job turned away")
	}
	// Two namespaces: 4 jobs each (9 / 2). a leaves down to 4.
	for _, j := range held[:5] {
		j.leave()
	}
	held = held[5:]
	if _, busy := f.enter(ctx, "a", "wh_a2", 1); busy != namespaceSnoozeKey("a") {
		t.Fatalf("a at its share of 4 admitted another job (busy %q)", busy)
	}
	f.mu.Lock()
	f.snoozed[namespaceSnoozeKey("a")][0].due = time.Now().Add(time.Minute)
	f.mu.Unlock()
	if wake := held[0].leave(); wake != 42 {
		t.Fatalf("a job of a leaving woke %d, want 42 (turned away for a's share)", wake)
	}
	if _, busy := f.enter(ctx, "a", "wh_a2", 1); busy != "" {
		t.Fatalf("a below its share turned away by %q", busy)
	}
	b.leave()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
