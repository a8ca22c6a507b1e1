package sparrow_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
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
// refused, as during a restart) and brings it back: the engine recovers by
// itself, reports not ready meanwhile, and every delivery arrives. No
// goroutine is left behind once it stops.
func TestDatabaseOutage(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	ctx := context.Background()
	const events = 200
	before := runtime.NumGoroutine()
	// Registered first so it runs last, after the proxy and pool are closed.
	t.Cleanup(func() { checkGoroutinesReturn(t, before) })
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		time.Sleep(5 * time.Millisecond)
	})
	b, proxy := proxiedBundle(t, 10)
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	batch := make([]sparrow.Event, events)
	for i := range batch {
		batch[i] = sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}
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
	// Then the database goes away for a while, as during a restart.
	proxy.Stop()
	if err := b.eng.Ready(ctx); err == nil {
		t.Fatal("Ready reports ready with the database cut off")
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
	seen := map[string]bool{}
	for _, req := range rcv.received() {
		seen[req.Header.Get("Webhook-Id")] = true
	}
	if len(seen) != events {
		t.Fatalf("the receiver saw %d distinct deliveries, want %d", len(seen), events)
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

// TestSmallPool delivers with a pool of four connections while pushes keep
// coming: nothing may hold a connection across an HTTP call, so pushes go
// through and nothing deadlocks.
func TestSmallPool(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, _ := proxiedBundle(t, 4)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		time.Sleep(20 * time.Millisecond) // slow enough that attempts overlap
	})
	b.registerEvent(t, "order.created")
	for range 3 {
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	}
	b.start(t)
	const pushers, perPusher = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, pushers*perPusher)
	for range pushers {
		wg.Go(func() {
			for range perPusher {
				pushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := b.eng.PushEvent(pushCtx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
				cancel()
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a push failed while delivering on a small pool: %v", err)
	}
	rcv.waitRequests(t, 3*pushers*perPusher)
}
