package worker

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// TestInflightWaitersHoldNothingShared has a webhook at its limit with a
// job waiting for its slots: another webhook must still get the process's
// places, however few are left.
func TestInflightWaitersHoldNothingShared(t *testing.T) {
	t.Parallel()

	f := newInflight(100, 2, 4)
	f.unrecorded = semaphore.NewWeighted(4) // few places waiting for the recorder
	ctx := t.Context()

	stalled, busy := f.enter(ctx, "ns", "wh_stalled", 4)
	if busy != "" {
		t.Fatal("first job not admitted")
	}
	if _, _, ok := stalled.acquire(ctx, 2); !ok {
		t.Fatal("the stalled webhook's first attempts got no slots")
	}
	waiter, busy := f.enter(ctx, "ns", "wh_stalled", 2)
	if busy != "" {
		t.Fatal("second job not admitted")
	}
	waiting := make(chan struct{})
	go func() {
		defer close(waiting)
		waitCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		waiter.acquire(waitCtx, 2) // blocks on the webhook's slots until the timeout
	}()
	time.Sleep(50 * time.Millisecond) // let it queue

	healthy, busy := f.enter(ctx, "ns", "wh_healthy", 2)
	if busy != "" {
		t.Fatal("the healthy webhook's job not admitted")
	}
	acquireCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, _, ok := healthy.acquire(acquireCtx, 2); !ok {
		t.Fatal("the healthy webhook got no slots while a stalled webhook's job waited for its own")
	}
	<-waiting
}

// TestInflightChunkNeverExceedsALimit asks for more attempts at once than
// the webhook may run: the job gets what the limit allows instead of
// waiting forever.
func TestInflightChunkNeverExceedsALimit(t *testing.T) {
	t.Parallel()

	f := newInflight(100, 3, 4)
	j, busy := f.enter(t.Context(), "ns", "wh", 8)
	if busy != "" {
		t.Fatal("not admitted")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	sent, recorded, ok := j.acquire(ctx, 8)
	if !ok || len(sent) != 3 || len(recorded) != 3 {
		t.Fatalf("acquire(8) with a limit of 3: %d slots, ok %v; want 3", len(sent), ok)
	}
	for i := range recorded {
		recorded[i]()
	}
	j.leave()
	if n := len(f.webhooks); n != 0 {
		t.Fatalf("%d webhook entries left after the job left", n)
	}
}

// TestInflightLeaveWakesTheFirstSnoozedJob turns jobs of a busy webhook
// away: the job leaving next, with none waiting, hands its place to the
// snoozed job due back first; with one waiting, to no one.
func TestInflightLeaveWakesTheFirstSnoozedJob(t *testing.T) {
	t.Parallel()

	f := newInflight(100, 2, 1) // one job of a webhook at a time, one waiting
	ctx := t.Context()
	running, busy := f.enter(ctx, "ns", "wh", 1)
	if busy != "" {
		t.Fatal("first job not admitted")
	}
	// No job waits yet, so turned-away jobs are simulated by snoozing
	// them directly; their snoozes are the shortest there are.
	for _, id := range []int64{11, 12, 13} {
		if wait := f.snooze("wh", id); wait < minBusyWait || wait > minBusyWait*3/2 {
			t.Fatalf("snooze with no rate measured: %v, want %v to %v", wait, minBusyWait, minBusyWait*3/2)
		}
	}
	f.snooze("wh_other", 21)
	f.mu.Lock()
	f.snoozed["wh"][1].due = time.Now().Add(time.Minute) // 12 comes back last
	f.mu.Unlock()
	f.woke("ns", "wh", 11) // 11 came back by itself

	if got := running.leave(); got != 13 {
		t.Fatalf("the leaving job woke job %d, want 13 (due back first of those still snoozed)", got)
	}
	if got := running.leave(); got != 0 {
		t.Fatalf("leaving twice woke job %d as well", got)
	}

	// A job waits: the place is its, no snoozed job is woken.
	next, _ := f.enter(ctx, "ns", "wh", 1)
	entered := make(chan *jobSlots)
	go func() {
		waiter, busy := f.enter(ctx, "ns", "wh", 1)
		if busy != "" {
			t.Error("waiting job not admitted")
		}
		entered <- waiter
	}()
	for {
		f.mu.Lock()
		waiting := f.webhooks["wh"].waitingJobs
		f.mu.Unlock()
		if waiting == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got := next.leave(); got != 0 {
		t.Fatalf("a job left with another waiting and woke job %d", got)
	}
	waiter := <-entered
	if got := waiter.leave(); got != 12 {
		t.Fatalf("the last job left and woke job %d, want 12", got)
	}

	// Jobs due back within wakeMargin are not woken, and are forgotten.
	last, _ := f.enter(ctx, "ns", "wh_other", 1)
	f.mu.Lock()
	f.snoozed["wh_other"][0].due = time.Now().Add(wakeMargin / 2)
	f.mu.Unlock()
	if got := last.leave(); got != 0 {
		t.Fatalf("woke job %d, due back within the margin anyway", got)
	}
	if n := len(f.snoozed); n != 0 {
		t.Fatalf("snoozed jobs of %d webhooks still remembered, want none", n)
	}
}
