package sparrow_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// TestStalledWebhook stalls one receiver of ten (it answers nothing until
// the test ends) and checks the other nine get all their deliveries
// meanwhile: the stalled webhook holds at most its share of the workers.
func TestStalledWebhook(t *testing.T) {
	t.Parallel()

	const workers, perWebhook, events = 20, 5, 30
	ctx := context.Background()
	b := setup(t, sparrow.WithMaxWorkers(workers), sparrow.WithMaxConcurrentPerWebhook(perWebhook))
	release := make(chan struct{})
	var stalledNow, stalledMax atomic.Int32
	stalled := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		n := stalledNow.Add(1)
		defer stalledNow.Add(-1)
		for old := stalledMax.Load(); n > old && !stalledMax.CompareAndSwap(old, n); old = stalledMax.Load() {
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: stalled.URL, Events: []string{"order.created"}, Timeout: time.Minute})
	var healthy []*receiver
	for range 9 {
		rcv := newReceiver(t, nil)
		healthy = append(healthy, rcv)
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	}
	batch := make([]sparrow.Event, events)
	for i := range batch {
		batch[i] = sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	b.start(t)

	for _, rcv := range healthy {
		rcv.waitRequests(t, events) // all of them, while the stalled webhook still holds its attempts
	}
	if got := stalledMax.Load(); got > perWebhook || got == 0 {
		t.Fatalf("the stalled webhook held %d attempts at once, want 1 to %d", got, perWebhook)
	}
	// And recorded, still while the stalled webhook holds its attempts.
	for deadline := time.Now().Add(20 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < 9*events; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries recorded succeeded", countStatus(t, b, delivery.StatusSucceeded), 9*events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	releaseOnce.Do(func() { close(release) })
}
