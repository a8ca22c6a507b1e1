package sparrow_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// subscribedBundle is an engine with one webhook subscribed to
// order.created, delivering to rcv.
func subscribedBundle(t *testing.T, opts ...sparrow.Option) (*testBundle, *receiver) {
	t.Helper()
	b := setup(t, opts...)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	return b, rcv
}

// failDeliveriesOf makes every insert of a delivery of event id fail, until
// the returned function is called.
func failDeliveriesOf(t *testing.T, b *testBundle, id string) (heal func()) {
	t.Helper()
	ctx := context.Background()
	fn, table := pgx.Identifier{b.schema, "fail_event"}.Sanitize(), pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()
	if _, err := b.pool.Exec(ctx, fmt.Sprintf(`
CREATE FUNCTION %[1]s() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id = %[3]s THEN RAISE EXCEPTION 'refused by the test'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fail_event BEFORE INSERT ON %[2]s FOR EACH ROW EXECUTE FUNCTION %[1]s();`,
		fn, table, "'"+id+"'")); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := b.pool.Exec(ctx, "DROP TRIGGER fail_event ON "+table); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFanoutQueueFailingEvent: an event whose fan-out fails holds up no
// other event; it is handed to a River job, which delivers it once the
// cause is gone.
func TestFanoutQueueFailingEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	push := func() string {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	// Queued together: the first fan-out takes them in one transaction,
	// which the bad one fails.
	first, bad, last := push(), push(), push()
	heal := failDeliveriesOf(t, b, bad)
	b.start(t)
	b.waitFannedOut(t, first, last)
	rcv.waitRequests(t, 2)
	if n := b.count(t, "sparrow_fanout_queue"); n != 0 {
		t.Fatalf("%d events still queued", n)
	}
	var handedOff int
	if err := b.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
		" WHERE kind = 'sparrow_fanout' AND args->'event_ids' ? $1", bad).Scan(&handedOff); err != nil {
		t.Fatal(err)
	}
	if handedOff != 1 {
		t.Fatalf("%d fan-out jobs for the failing event, want 1", handedOff)
	}
	if ds := b.waitDeliveries(t, "default", bad, 0); len(ds) != 0 {
		t.Fatalf("the failing event has %d deliveries", len(ds))
	}

	heal()
	// River retries the job after its backoff (a second or so, plus its
	// scheduler's interval).
	ds := b.waitDeliveries(t, "default", bad, 1)
	b.waitDelivery(t, "default", ds[0].ID, statusIs(delivery.StatusSucceeded))
	for _, id := range []string{first, last} {
		if ds := b.waitDeliveries(t, "default", id, 1); len(ds) != 1 {
			t.Fatalf("event %s has %d deliveries, want 1", id, len(ds))
		}
	}
	if n := len(rcv.received()); n != 3 {
		t.Fatalf("the receiver got %d requests, want 3", n)
	}
}

// TestFanoutQueueConnectionLost ends the fan-out's backend in the middle of
// its transaction, as a crash of either side would: the event stays
// queued, and is delivered once.
func TestFanoutQueueConnectionLost(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	// The first delivery insert sleeps (a sequence is not rolled back, so
	// only the first).
	seq, fn, table := pgx.Identifier{b.schema, "stall_once"}.Sanitize(), pgx.Identifier{b.schema, "stall_once"}.Sanitize(),
		pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()
	if _, err := b.pool.Exec(ctx, fmt.Sprintf(`
CREATE SEQUENCE %[1]s;
CREATE FUNCTION %[2]s() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('%[1]s') = 1 THEN PERFORM pg_sleep(60); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stall_once BEFORE INSERT ON %[3]s FOR EACH ROW EXECUTE FUNCTION %[2]s();`, seq, fn, table)); err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.start(t)
	admin := pgtest.Pool(t)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var ended int
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE wait_event = 'PgSleep' AND query LIKE '%' || $1 || '%'`, b.schema).Scan(&ended); err != nil {
			t.Fatal(err)
		}
		if ended == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no fan-out stalled in its transaction")
		}
	}
	ds := b.waitDeliveries(t, "default", ev.ID, 1)
	b.waitDelivery(t, "default", ds[0].ID, statusIs(delivery.StatusSucceeded))
	if ds := b.waitDeliveries(t, "default", ev.ID, 1); len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("the receiver got %d requests, want 1", n)
	}
}

// TestFanoutQueueHostClient: a host running Sparrow's workers in its own
// River client, with Sparrow's periodic jobs, gets single pushes delivered
// without Engine.Start.
func TestFanoutQueueHostClient(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	b.startHost(t)
	for i := range 3 {
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}); err != nil {
			t.Fatal(err)
		}
		// Later pushes go to a poller already running.
		rcv.waitRequests(t, i+1)
	}
}

// TestFanoutQueueTraces: events queued from different traces and fanned
// out together get one fan-out span, a root linked to every push; its
// deliveries' spans are its children.
func TestFanoutQueueTraces(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	b, rcv := subscribedBundle(t, sparrow.WithTracerProvider(tp))
	pushes := map[trace.TraceID]bool{}
	for range 3 {
		ctx, span := tp.Tracer("test").Start(ctx, "handle order")
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		span.End()
		pushes[span.SpanContext().TraceID()] = true
	}
	b.start(t) // all three are queued when the poller first looks
	rcv.waitRequests(t, 3)

	var fanouts []sdktrace.ReadOnlySpan
	var delivers []sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fanouts, delivers = fanouts[:0], delivers[:0]
		for _, s := range recorder.Ended() {
			switch s.Name() {
			case "sparrow.fanout":
				// Not the fan-outs of alerts (health changes) raised meanwhile.
				if len(s.Links()) > 0 || pushes[s.SpanContext().TraceID()] {
					fanouts = append(fanouts, s)
				}
			case "sparrow.deliver":
				delivers = append(delivers, s)
			}
		}
		if len(delivers) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(fanouts) != 1 || len(delivers) != 3 {
		t.Fatalf("%d fan-out and %d attempt spans, want 1 and 3", len(fanouts), len(delivers))
	}
	fanout := fanouts[0]
	if pushes[fanout.SpanContext().TraceID()] || fanout.Parent().IsValid() {
		t.Fatal("the fan-out of three traces' events joined one of them")
	}
	linked := map[trace.TraceID]bool{}
	for _, l := range fanout.Links() {
		linked[l.SpanContext.TraceID()] = true
	}
	if len(linked) != 3 || !linked[keys(pushes)[0]] || !linked[keys(pushes)[1]] || !linked[keys(pushes)[2]] {
		t.Fatalf("the fan-out span links %d traces, want the 3 pushes'", len(linked))
	}
	for _, d := range delivers {
		if d.Parent().SpanID() != fanout.SpanContext().SpanID() {
			t.Fatal("an attempt span is not a child of the fan-out span")
		}
	}
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFanoutQueueConcurrentPushes pushes from many goroutines at once, in
// transactions some of which roll back, while two engines poll the queue:
// every committed event is delivered exactly once, no rolled back one ever.
func TestFanoutQueueConcurrentPushes(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	other, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(b.schema), sparrow.WithAllowPrivateNetworks(),
		sparrow.WithLogger(testLogger(t)), sparrow.WithBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	b.start(t)
	if err := other.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Stop(context.Background()) })

	const goroutines, each = 8, 40
	var mu sync.Mutex
	committed := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		eng := []*sparrow.Engine{b.eng, other}[g%2]
		wg.Go(func() {
			for i := range each {
				tx, err := b.pool.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				ev, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
				if err != nil {
					tx.Rollback(ctx)
					errs <- err
					return
				}
				if i%4 == 3 {
					err = tx.Rollback(ctx)
				} else if err = tx.Commit(ctx); err == nil {
					mu.Lock()
					committed[ev.ID] = true
					mu.Unlock()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := goroutines * each * 3 / 4
	rcv.waitRequests(t, want)
	for deadline := time.Now().Add(20 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), want)
		}
	}
	time.Sleep(100 * time.Millisecond) // a duplicate would arrive by now
	perEvent := map[string]int{}
	for _, req := range rcv.received() {
		perEvent[req.Header.Get("Webhook-Id")]++
	}
	if len(rcv.received()) != want || len(perEvent) != want {
		t.Fatalf("%d requests for %d deliveries, want %d of each", len(rcv.received()), len(perEvent), want)
	}
	var events int
	if err := b.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()+
		" WHERE event_id = ANY($1)", keys(committed)).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != want || b.count(t, "sparrow_delivery") != want {
		t.Fatalf("%d deliveries of committed events, %d in all, want %d", events, b.count(t, "sparrow_delivery"), want)
	}
	if n := b.count(t, "sparrow_fanout_queue"); n != 0 {
		t.Fatalf("%d events left queued", n)
	}
}
