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
