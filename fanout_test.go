package sparrow_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
)

// TestFanout delivers 200 events to 20 webhooks: 4,000 deliveries, each
// received exactly once, each signature checked by the reference verifier
// with its own webhook's secret.
func TestFanout(t *testing.T) {
	t.Parallel()

	const webhooks, events = 20, 200
	ctx := context.Background()
	b := setup(t)

	var mu sync.Mutex
	verifiers := map[string]*standardwebhooks.Webhook{} // by path
	received := map[string]int{}                        // by webhook-id
	var bad []string
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := verifiers[r.URL.Path].Verify(body, r.Header); err != nil {
			bad = append(bad, r.URL.Path+": "+err.Error())
		}
		received[r.Header.Get("Webhook-Id")]++
		if len(received) == webhooks*events {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	}))
	t.Cleanup(srv.Close)

	b.registerEvent(t, "order.created")
	for i := range webhooks {
		path := "/hooks/" + string(rune('a'+i))
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: srv.URL + path, Events: []string{"order.created"}})
		wh, err := standardwebhooks.NewWebhook(w.Secret)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		verifiers[path] = wh
		mu.Unlock()
	}
	batch := make([]sparrow.PushEventParams, 100)
	for range events / len(batch) {
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
		}
		if _, err := b.eng.PushEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	b.start(t)
	select {
	case <-done:
	case <-time.After(90 * time.Second):
	}
	elapsed := time.Since(start)
	// Let every success be recorded: a duplicate would be sent before that.
	for deadline := time.Now().Add(30 * time.Second); countStatus(t, b, "succeeded") < webhooks*events && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) != webhooks*events {
		t.Fatalf("%d distinct deliveries received, want %d", len(received), webhooks*events)
	}
	for id, n := range received {
		if n != 1 {
			t.Errorf("delivery %s received %d times", id, n)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d signatures refused, first: %s", len(bad), strings.Join(bad[:1], ""))
	}
	t.Logf("%d deliveries in %s", webhooks*events, elapsed.Round(time.Millisecond))
}

// TestFanoutChunkFails: a batch is fanned out in chunks, a transaction
// each. When a later chunk fails, the deliveries of those before it go out
// meanwhile; once the cause is gone, River's retry of the job fans out the
// rest, and every event is delivered exactly once.
func TestFanoutChunkFails(t *testing.T) {
	t.Parallel()

	const events = 250 // a first chunk of 101 events, then the other 149
	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
	}
	pushed, err := b.eng.PushEvents(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	heal := failDeliveriesOf(t, b, pushed[200].ID)
	b.start(t)

	first := rcv.waitRequests(t, 101)
	jobs := pgx.Identifier{b.schema, "river_job"}.Sanitize()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var failed bool
		if err := b.pool.QueryRow(ctx, "SELECT coalesce(bool_or(errors IS NOT NULL), false) FROM "+jobs+
			" WHERE kind = 'sparrow_fanout'").Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fan-out job never failed")
		}
	}
	if n := b.count(t, "sparrow_delivery"); n != 101 {
		t.Fatalf("%d deliveries while the second chunk fails, want the first chunk's 101", n)
	}
	inFirstChunk := map[string]bool{}
	for _, ev := range pushed[:101] {
		inFirstChunk[ev.ID] = true
	}
	for _, r := range first {
		if !inFirstChunk[r.EventID] {
			t.Fatalf("event %s delivered, but the chunk that holds it failed", r.EventID)
		}
	}

	heal()
	// River retries the job after its backoff (a second or so).
	rcv.waitRequests(t, events)
	ids := make([]string, len(pushed))
	for i, ev := range pushed {
		ids[i] = ev.ID
	}
	b.waitFannedOut(t, ids...)
	b.waitJobsIdle(t, "sparrow_deliver")
	perEvent := map[string]int{}
	for _, r := range rcv.received() {
		perEvent[r.EventID]++
	}
	for _, id := range ids {
		if perEvent[id] != 1 {
			t.Errorf("event %s received %d times, want once", id, perEvent[id])
		}
	}
	if n := b.count(t, "sparrow_delivery"); n != events {
		t.Fatalf("%d deliveries, want %d", n, events)
	}
}
