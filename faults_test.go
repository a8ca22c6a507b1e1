package sparrow_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/webhook"
)

// proxiedBundle is a bundle whose engine reaches the database through a
// proxy the test can cut.
func proxiedBundle(t *testing.T, maxConns int32, opts ...sparrow.Option) (*testBundle, *pgtest.Proxy) {
	t.Helper()
	proxy := pgtest.NewProxy(t)
	cfg := proxy.PoolConfig(t)
	cfg.MaxConns = maxConns
	// Named so a test can end exactly these backends.
	cfg.ConnConfig.RuntimeParams["application_name"] = t.Name()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, opts...)
	eng, err := sparrow.New(pool, append([]sparrow.Option{
		sparrow.WithSchema(b.schema), sparrow.WithAllowPrivateNetworks(), sparrow.WithLogger(testLogger(t)), sparrow.WithBackoff(fastBackoff),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	t.Cleanup(pool.Close) // after the engine stops: cleanups run last-in first-out
	return b, proxy
}

// TestDatabaseOutage ends every backend of the engine's pool in the middle
// of a run, then cuts the database off (every connection dropped, new ones
// refused, as during a restart) while some attempts are waiting on the
// receiver, and brings it back: the engine recovers by itself, reports not
// ready meanwhile, and every delivery arrives exactly once, with each
// attempt recorded, those answered during the outage included. No goroutine
// is left behind once it stops.
func TestDatabaseOutage(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	ctx := context.Background()
	const events, heldMin = 200, 5
	before := runtime.NumGoroutine()
	// Registered first so it runs last, after the proxy and pool are closed.
	t.Cleanup(func() { checkGoroutinesReturn(t, before) })
	// While holding, requests wait for release: they are answered only once
	// the database is gone.
	var (
		mu        sync.Mutex
		holding   bool
		heldCount int
	)
	release := make(chan struct{})
	var releaseOnce sync.Once
	heldNow, answered := make(chan struct{}, events), make(chan struct{}, events)
	rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		held := holding
		if held {
			heldCount++
		}
		mu.Unlock()
		if held {
			heldNow <- struct{}{}
			<-release
			defer func() { answered <- struct{}{} }()
		}
		time.Sleep(5 * time.Millisecond)
	})
	// Before the receiver closes (cleanups run last-in first-out), whatever
	// ends the test.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	b, proxy := proxiedBundle(t, 10)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 30)
	// First every backend is ended under the engine, as a failover does.
	var ended int
	if err := pgtest.Pool(t).QueryRow(ctx,
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", t.Name()).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended == 0 {
		t.Fatal("no backend of the engine's pool to end")
	}
	rcv.waitRequests(t, 80)
	// Then attempts are kept waiting at the receiver, and the database goes
	// away under them, as during a restart.
	mu.Lock()
	holding = true
	mu.Unlock()
	for range heldMin {
		select {
		case <-heldNow:
		case <-time.After(20 * time.Second):
			t.Fatalf("fewer than %d attempts reached the receiver to be held", heldMin)
		}
	}
	proxy.Stop()
	if err := b.eng.Ready(ctx); err == nil {
		t.Fatal("Ready reports ready with the database cut off")
	}
	mu.Lock()
	holding = false
	answeredInOutage := heldCount
	mu.Unlock()
	releaseOnce.Do(func() { close(release) })
	// These attempts are answered with no database to record them in.
	for range answeredInOutage {
		<-answered
	}
	time.Sleep(2 * time.Second) // an outage, not a blip
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for countStatus(t, b, delivery.StatusSucceeded) < events {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded after the outage", countStatus(t, b, delivery.StatusSucceeded), events)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := b.eng.Ready(ctx); err != nil {
		t.Fatalf("not ready after the outage: %v", err)
	}
	t.Logf("%d attempts were answered while the database was away", answeredInOutage)

	// Exactly one request per delivery, and each one recorded: an attempt
	// whose record was lost would be sent again, and one sent twice would
	// show here too.
	requests := map[string]int{}
	for _, req := range rcv.received() {
		requests[req.Header.Get("Webhook-Id")]++
	}
	if n := len(rcv.received()); n != events {
		t.Errorf("the receiver got %d requests for %d deliveries", n, events)
	}
	recorded := map[string]int{}
	for cursor := ""; ; {
		list, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: w.ID, Limit: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list.Items {
			full, err := b.eng.GetDelivery(ctx, d.Namespace, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if full.AttemptCount != len(full.Attempts) {
				t.Errorf("delivery %s: attempt count %d with %d attempts recorded", d.ID, full.AttemptCount, len(full.Attempts))
			}
			recorded[d.ID] = len(full.Attempts)
		}
		if cursor = list.NextCursor; cursor == "" {
			break
		}
	}
	if len(recorded) != events {
		t.Errorf("%d deliveries listed, want %d", len(recorded), events)
	}
	var wrong []string
	for id, n := range requests {
		if n != 1 || recorded[id] != n {
			wrong = append(wrong, fmt.Sprintf("%s: %d requests, %d attempts recorded", id, n, recorded[id]))
		}
	}
	for id, n := range recorded {
		if requests[id] == 0 {
			wrong = append(wrong, fmt.Sprintf("%s: no request, %d attempts recorded", id, n))
		}
	}
	if len(wrong) > 0 {
		slices.Sort(wrong)
		if len(wrong) > 20 {
			wrong = append(wrong[:20], "...")
		}
		t.Errorf("deliveries not sent exactly once, or not recorded as sent:\n%s", strings.Join(wrong, "\n"))
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.eng.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
}

// checkGoroutinesReturn fails t if the process does not get back to about
// before goroutines: they wind down asynchronously after Stop (idle HTTP
// connections, pool health checks), and a few belong to shared test fixtures
// started lazily.
func checkGoroutinesReturn(t *testing.T, before int) {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+5 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines after stopping, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSmallPool proves that no attempt holds a database connection (or a
// transaction, which needs one) across its HTTP request: with a pool of
// four, more attempts than that are kept waiting at their receivers, and
// pushes and reads still get connections meanwhile. Were a connection held
// per attempt in flight, the waiting attempts could not outnumber the pool
// and no push could get through until they were released.
func TestSmallPool(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const poolSize, webhooks, heldEvents, morePushes = 4, 3, 4, 20
	const held = webhooks * heldEvents // three times the pool
	b, _ := proxiedBundle(t, poolSize)
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Counted on arrival: the receiver counts a request once it is answered.
	waiting := make(chan struct{}, 1000) // room for every request, repeats included
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		waiting <- struct{}{}
		<-release
	})
	// Before the receiver closes (cleanups run last-in first-out), whatever
	// ends the test.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	b.registerEvent(t, "order.created")
	for range webhooks {
		// The longest timeout: the waiting attempts must not time out.
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Timeout: webhook.TimeoutMax})
	}
	b.start(t)
	push := func() error {
		// Generous: a push needs milliseconds, but the machine is shared.
		pushCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		_, err := b.eng.PushEvent(pushCtx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		return err
	}
	for range heldEvents {
		if err := push(); err != nil {
			t.Fatal(err)
		}
	}
	// Every one of these attempts is now in flight, waiting at the receiver.
	for range held {
		select {
		case <-waiting:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d attempts in flight at most, want %d on a pool of %d", len(rcv.received()), held, poolSize)
		}
	}

	const pushers = 4
	var wg sync.WaitGroup
	errs := make(chan error, morePushes)
	for range pushers {
		wg.Go(func() {
			for range morePushes / pushers {
				if err := push(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a push failed with %d attempts in flight on a pool of %d: %v", held, poolSize, err)
	}
	listCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	page, err := b.eng.ListDeliveries(listCtx, sparrow.ListDeliveriesParams{Limit: 100})
	if err != nil {
		t.Fatalf("listing deliveries with %d attempts in flight on a pool of %d: %v", held, poolSize, err)
	}
	// None can have finished: all were still waiting through the pushes.
	if n := countStatus(t, b, delivery.StatusSucceeded); n != 0 {
		t.Fatalf("%d deliveries succeeded before the receivers were released", n)
	}
	t.Logf("%d attempts waiting at the receiver, %d pushes and a listing of %d deliveries done meanwhile", held, morePushes, len(page.Items))
	if t.Failed() {
		return
	}

	releaseOnce.Do(func() { close(release) })
	total := webhooks * (heldEvents + morePushes)
	rcv.waitRequests(t, total)
	deadline := time.Now().Add(20 * time.Second)
	for countStatus(t, b, delivery.StatusSucceeded) < total {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
