package sparrow_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
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

// TestSnoozedJobWokenWhenItsWebhookFreesUp turns a delivery job away from a
// webhook that has been slow, with a snooze sized for the work ahead at that
// pace. The webhook then speeds up: the job must be delivered as soon as its
// webhook has room, not when its snooze ends.
func TestSnoozedJobWokenWhenItsWebhookFreesUp(t *testing.T) {
	t.Parallel()

	// One job of a webhook at a time, one waiting, one request at a time.
	const slowRequests, events = 55, 300
	ctx := context.Background()
	b := setup(t, sparrow.WithMaxWorkers(4), sparrow.WithMaxConcurrentPerWebhook(1))
	fast := make(chan struct{})
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		select {
		case <-fast:
		case <-time.After(50 * time.Millisecond):
		}
	})
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil { // one job of 300
		t.Fatal(err)
	}
	b.start(t)
	// The webhook's pace measured: 50 ms a request, slow enough that the
	// snooze it sizes outlasts the fast requests by seconds on a loaded
	// machine too.
	rcv.waitRequests(t, slowRequests)

	waiting, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.waitFannedOut(t, waiting.ID) // its job waits for the first's place
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// Turned away, for about half the time ~240 deliveries take at 50 ms.
	var snoozedUntil time.Time
	for deadline := time.Now().Add(20 * time.Second); snoozedUntil.IsZero(); time.Sleep(10 * time.Millisecond) {
		err := b.pool.QueryRow(ctx, "SELECT scheduled_at FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
			" WHERE kind = 'sparrow_deliver' AND state IN ('available', 'scheduled') AND scheduled_at > now() + interval '2 seconds'").Scan(&snoozedUntil)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery job snoozed for the work ahead")
		}
	}
	close(fast)

	got := rcv.waitRequests(t, events+2)
	last := got[len(got)-1].At
	if margin := snoozedUntil.Sub(last); margin < time.Second {
		t.Fatalf("the last delivery arrived %v before the snoozed job was due back (negative: after); want it woken, at least 1s before", margin)
	}
}
