package sparrow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// orderedReceiver answers deliveries of payloads {"key": k, "n": n},
// failing or holding some as told, and checks that no two deliveries of
// one key are ever in flight at once.
type orderedReceiver struct {
	*receiver
	mu        sync.Mutex
	inFlight  map[string]int
	overlaps  []string
	succeeded map[string][]int // per key, n in the order they succeeded
}

type orderedPayload struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

func newOrderedReceiver(t *testing.T, answer func(p orderedPayload, attempt string, w http.ResponseWriter) bool) *orderedReceiver {
	t.Helper()
	o := &orderedReceiver{inFlight: map[string]int{}, succeeded: map[string][]int{}}
	o.receiver = newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		var p orderedPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		o.mu.Lock()
		if o.inFlight[p.Key]++; p.Key != "" && o.inFlight[p.Key] > 1 {
			o.overlaps = append(o.overlaps, fmt.Sprintf("%s/%d", p.Key, p.N))
		}
		o.mu.Unlock()
		ok := answer(p, r.Header.Get(delivery.HeaderAttempt), w)
		o.mu.Lock()
		o.inFlight[p.Key]--
		if ok {
			o.succeeded[p.Key] = append(o.succeeded[p.Key], p.N)
		}
		o.mu.Unlock()
	})
	return o
}

// pushOrdered pushes n events of each key, interleaved, one by one.
func pushOrdered(t *testing.T, eng *sparrow.Engine, keys []string, n int) {
	t.Helper()
	for i := range n {
		for _, k := range keys {
			if _, err := eng.PushEvent(context.Background(), sparrow.PushEventParams{
				Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: k, N: i}), OrderingKey: k,
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// check fails unless each key's deliveries succeeded in push order, one at a
// time.
func (o *orderedReceiver) check(t *testing.T, keys []string, n int) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.overlaps) > 0 {
		t.Errorf("deliveries of one key in flight together: %v", o.overlaps)
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	for _, k := range keys {
		if got := o.succeeded[k]; !slices.Equal(got, want) {
			t.Errorf("key %s succeeded in the order %v, want %v", k, got, want)
		}
	}
}

// TestOrderingPerKey: the deliveries of one ordering key to a webhook go one
// at a time, in push order, whatever fails and is retried; other keys and
// events without a key are not held back by a key that is stuck.
func TestOrderingPerKey(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	stuck := make(chan struct{})
	rcv := newOrderedReceiver(t, func(p orderedPayload, attempt string, w http.ResponseWriter) bool {
		switch {
		case p.Key == "stuck" && p.N == 0:
			<-stuck // held until the others are delivered
		case p.N%3 == 1 && attempt == "1":
			w.WriteHeader(http.StatusServiceUnavailable) // retried
			return false
		}
		return true
	})
	release := sync.OnceFunc(func() { close(stuck) })
	t.Cleanup(release) // before the receiver closes, which waits for its handlers
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Timeout: 30 * time.Second})
	b.start(t)
	keys := []string{"a", "b", "c"}
	pushOrdered(t, b.eng, append(keys, "stuck"), 8)
	for i := range 5 {
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{N: i})}); err != nil {
			t.Fatal(err)
		}
	}
	// Everything but the stuck key arrives while its first delivery hangs.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rcv.mu.Lock()
		done := len(rcv.succeeded["a"]) == 8 && len(rcv.succeeded["b"]) == 8 && len(rcv.succeeded["c"]) == 8 && len(rcv.succeeded[""]) == 5
		rcv.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("other keys were held back: %v", rcv.succeeded)
		}
	}
	// The stuck key's others wait, each for the one before it.
	page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]string{} // waited for -> waiting
	head := ""
	for _, d := range page.Items {
		switch {
		case d.OrderingKey != "stuck":
		case d.WaitsFor == "":
			head = d.ID
		default:
			next[d.WaitsFor] = d.ID
		}
	}
	chain := 0
	for id := head; id != ""; id = next[id] {
		chain++
	}
	if head == "" || len(next) != 7 || chain != 8 {
		t.Fatalf("the stuck key's deliveries: head %q, %d waiting, a chain of %d; want one in flight and 7 in a chain behind it", head, len(next), chain)
	}
	release()
	for deadline := time.Now().Add(30 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < 37; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 37 deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded))
		}
	}
	rcv.check(t, append(keys, "stuck"), 8)
}

// TestOrderingAfterEnds: a delivery that fails for good, or expires, lets
// the next of its key go.
func TestOrderingAfterEnds(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newOrderedReceiver(t, func(p orderedPayload, _ string, w http.ResponseWriter) bool {
		if p.N == 0 {
			w.WriteHeader(http.StatusBadRequest) // not retried: fails for good
			return false
		}
		return true
	})
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	// Pushed with no worker running: the first of "k" expires before it is
	// attempted, and must not hold the others back.
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: "k", N: 1}),
		OrderingKey: "k", TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	pushOrdered(t, b.eng, []string{"f"}, 3) // its first fails for good
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: "k", N: 2}),
		OrderingKey: "k"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	b.start(t)
	for deadline := time.Now().Add(30 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 deliveries succeeded after the ones before them ended", countStatus(t, b, delivery.StatusSucceeded))
		}
	}
	if n := countStatus(t, b, delivery.StatusExpired); n != 1 {
		t.Fatalf("%d deliveries expired, want 1", n)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if !slices.Equal(rcv.succeeded["f"], []int{1, 2}) || !slices.Equal(rcv.succeeded["k"], []int{2}) {
		t.Fatalf("succeeded %v", rcv.succeeded)
	}
}

// TestOrderingCommitOrder: a push of an ordering key in an open
// transaction holds back the key's next push until it commits, so the
// key's events are delivered in commit order; other keys are not held.
func TestOrderingCommitOrder(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newOrderedReceiver(t, func(orderedPayload, string, http.ResponseWriter) bool { return true })
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	b.start(t)
	first, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	if _, err := b.eng.PushEventTx(ctx, first, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: "k", N: 0}), OrderingKey: "k"}); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Bool
	secondDone := make(chan error, 1)
	go func() {
		_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: "k", N: 1}), OrderingKey: "k"})
		if err == nil && !committed.Load() {
			err = errors.New("the second push of the key returned before the first one's transaction committed")
		}
		secondDone <- err
	}()
	// Another key goes meanwhile.
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: "other", N: 0}), OrderingKey: "other"}); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 1)
	committed.Store(true)
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 3)
	rcv.check(t, []string{"k"}, 2)
}

// TestOrderingSharedByEngines: three engines on one database deliver ten
// keys to a receiver that fails some requests and holds others past the
// webhook's timeout: each key's deliveries still go one at a time, in
// order.
func TestOrderingSharedByEngines(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newOrderedReceiver(t, func(p orderedPayload, attempt string, w http.ResponseWriter) bool {
		switch {
		case attempt == "1" && p.N%4 == 1:
			w.WriteHeader(http.StatusInternalServerError)
			return false
		case attempt == "1" && p.N%5 == 2:
			time.Sleep(1500 * time.Millisecond) // past the 1s timeout: a retry follows
			return false
		}
		return true
	})
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Timeout: time.Second})
	b.start(t)
	for range 2 {
		eng := newEngine(t, b.schema, sparrow.WithAllowPrivateNetworks(), sparrow.WithBackoff(fastBackoff))
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Stop(context.Background()) })
	}
	var keys []string
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("key%d", i))
	}
	// Pushed by each engine in turn, in one batch each.
	engines := []*sparrow.Engine{b.eng, newEngine(t, b.schema), newEngine(t, b.schema)}
	const n = 6
	for i := range n {
		var batch []sparrow.PushEventParams
		for _, k := range keys {
			batch = append(batch, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{Key: k, N: i}), OrderingKey: k})
		}
		if _, err := engines[i%3].PushEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(time.Minute); countStatus(t, b, delivery.StatusSucceeded) < n*len(keys); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), n*len(keys))
		}
	}
	rcv.check(t, keys, n)
}

func TestOrderingKeyValidation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), OrderingKey: strings.Repeat("k", 257)})
	wantInvalid(t, err, "ordering_key")
	_, err = b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`), OrderingKey: "a\x00b"}})
	wantInvalid(t, err, "events[0].ordering_key")
	if n := b.count(t, "sparrow_event"); n != 0 {
		t.Fatalf("%d events stored by refused pushes", n)
	}
	// An idempotency key pushed again with another ordering key is another
	// event.
	first := sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`), IdempotencyKey: "once", OrderingKey: "a"}
	if _, err := b.eng.PushEvent(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.OrderingKey = "b"
	_, err = b.eng.PushEvent(ctx, again)
	wantInvalid(t, err, "idempotency_key")
	if !strings.Contains(err.Error(), "ordering key") {
		t.Fatalf("refused with %q, want it to name the ordering key", err)
	}
}
