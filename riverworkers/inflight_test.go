package riverworkers

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

	stalled, ok := f.enter(ctx, "wh_stalled", 4)
	if !ok {
		t.Fatal("first job not admitted")
	}
	if _, _, ok := stalled.acquire(ctx, 2); !ok {
		t.Fatal("the stalled webhook's first attempts got no slots")
	}
	waiter, ok := f.enter(ctx, "wh_stalled", 2)
	if !ok {
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

	healthy, ok := f.enter(ctx, "wh_healthy", 2)
	if !ok {
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
	j, ok := f.enter(t.Context(), "wh", 8)
	if !ok {
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
