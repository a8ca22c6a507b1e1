package sparrow_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/event"
)

// installFaults adds triggers to the test's event table that act on an
// event by its payload's keys: "slow" holds its transaction half a second
// (the pushes made meanwhile queue up and are committed together next),
// "refuse" fails its insert, "refuse_commit" fails its transaction's
// commit, and "kill" ends the database connection inserting it.
func installFaults(t *testing.T, b *testBundle) {
	t.Helper()
	table := pgx.Identifier{b.schema, "sparrow_event"}.Sanitize()
	fn := func(name string) string { return pgx.Identifier{b.schema, name}.Sanitize() }
	if _, err := b.pool.Exec(context.Background(), `
CREATE FUNCTION `+fn("test_fault")+`() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.payload::jsonb ? 'slow' THEN PERFORM pg_sleep(0.5); END IF;
    IF NEW.payload::jsonb ? 'refuse' THEN RAISE EXCEPTION 'refused by the test'; END IF;
    IF NEW.payload::jsonb ? 'kill' THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(1); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_fault BEFORE INSERT ON `+table+` FOR EACH ROW EXECUTE FUNCTION `+fn("test_fault")+`();
CREATE FUNCTION `+fn("test_fault_at_commit")+`() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.payload::jsonb ? 'refuse_commit' THEN RAISE EXCEPTION 'commit refused by the test'; END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_fault_at_commit AFTER INSERT ON `+table+` DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION `+fn("test_fault_at_commit")+`();`); err != nil {
		t.Fatal(err)
	}
}

// pushResult is what one PushEvent call returned.
type pushResult struct {
	event *event.Event
	err   error
}

// pushBehindSlow pushes a slow event, then each of ps concurrently while it
// commits, so that they queue up behind it and are committed together.
func pushBehindSlow(t *testing.T, b *testBundle, ps []sparrow.PushEventParams) []pushResult {
	t.Helper()
	ctx := context.Background()
	slow := make(chan error, 1)
	go func() {
		_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{"slow":true}`)})
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond) // the slow event's transaction is open
	results := make([]pushResult, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			results[i].event, results[i].err = b.eng.PushEvent(ctx, p)
		})
	}
	wg.Wait()
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	return results
}

// TestPushEventGroupCommit pushes events concurrently: they are committed
// in shared transactions, and each call gets its own event.
func TestPushEventGroupCommit(t *testing.T) {
	t.Parallel()

	b := setup(t)
	installFaults(t, b)
	b.registerEvent(t, "order.created")
	var ps []sparrow.PushEventParams
	for i := range 30 {
		ps = append(ps, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})})
	}
	results := pushBehindSlow(t, b, ps)
	var pushed []string
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("push %d: %v", i, r.err)
		}
		var p struct{ N int }
		if err := json.Unmarshal(r.event.Payload, &p); err != nil || p.N != i {
			t.Fatalf("push %d returned the event of push %d (%v)", i, p.N, err)
		}
		pushed = append(pushed, r.event.ID)
	}
	var stored []string
	var transactions int
	if err := b.pool.QueryRow(context.Background(), `SELECT array_agg(id ORDER BY id), count(DISTINCT xmin::text) FROM `+
		pgx.Identifier{b.schema, "sparrow_event"}.Sanitize()+` WHERE NOT payload::jsonb ? 'slow'`).Scan(&stored, &transactions); err != nil {
		t.Fatal(err)
	}
	slices.Sort(pushed)
	if !slices.Equal(stored, pushed) {
		t.Fatalf("stored %v, pushed %v", stored, pushed)
	}
	if transactions >= len(pushed) {
		t.Fatalf("%d events committed in %d transactions: none shared", len(pushed), transactions)
	}
	if n := b.count(t, "sparrow_fanout_queue"); n != len(pushed)+1 {
		t.Fatalf("%d events queued for fan-out, want %d", n, len(pushed)+1)
	}
}

// TestPushEventGroupFaults fails one event of a group, in its insert, at
// the commit or by losing the connection: that push fails, and every other
// one of its group is stored, and delivered, exactly once.
func TestPushEventGroupFaults(t *testing.T) {
	t.Parallel()

	for _, fault := range []string{"refuse", "refuse_commit", "kill"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			installFaults(t, b)
			rcv := newReceiver(t, nil)
			b.registerEvent(t, "order.created")
			b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
			var ps []sparrow.PushEventParams
			for i := range 20 {
				payload := map[string]any{"n": i}
				if i == 7 || i == 13 {
					payload[fault] = true
				}
				ps = append(ps, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, payload)})
			}
			results := pushBehindSlow(t, b, ps)
			want := map[string]bool{}
			for i, r := range results {
				switch {
				case (i == 7 || i == 13) && r.err == nil:
					t.Fatalf("push %d, marked %s, succeeded", i, fault)
				case i != 7 && i != 13 && r.err != nil:
					t.Fatalf("push %d: %v", i, r.err)
				case r.err == nil:
					want[r.event.ID] = true
				}
			}
			if n := b.count(t, "sparrow_event"); n != len(want)+1 {
				t.Fatalf("%d events stored, want %d", n, len(want)+1)
			}
			b.start(t)
			got := map[string]int{}
			for _, r := range rcv.waitRequests(t, len(want)+1) {
				got[r.EventID]++
			}
			b.waitJobsIdle(t, "sparrow_deliver")
			for id := range want {
				if got[id] != 1 {
					t.Errorf("event %s delivered %d times", id, got[id])
				}
			}
			if n := len(rcv.received()); n != len(want)+1 {
				t.Errorf("%d requests, want %d", n, len(want)+1)
			}
		})
	}
}

// TestPushEventGroupIdempotency pushes one idempotency key many times in
// one group, and a key stored before: each key stores one event, and every
// push of it returns that event.
func TestPushEventGroupIdempotency(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	installFaults(t, b)
	b.registerEvent(t, "order.created")
	before, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{"n":0}`), IdempotencyKey: "old"})
	if err != nil {
		t.Fatal(err)
	}
	var ps []sparrow.PushEventParams
	for i := range 20 {
		p := sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{"n":1}`), IdempotencyKey: "new"}
		if i%4 == 0 {
			p.Payload, p.IdempotencyKey = json.RawMessage(`{"n":0}`), "old"
		}
		ps = append(ps, p)
	}
	results := pushBehindSlow(t, b, ps)
	ids := map[string]string{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("push %d: %v", i, r.err)
		}
		key := ps[i].IdempotencyKey
		if id, seen := ids[key]; seen && id != r.event.ID {
			t.Fatalf("key %q returned %s and %s", key, id, r.event.ID)
		}
		ids[key] = r.event.ID
	}
	if ids["old"] != before.ID {
		t.Fatalf("key old returned %s, stored before as %s", ids["old"], before.ID)
	}
	if n := b.count(t, "sparrow_event"); n != 3 { // the slow one, old, new
		t.Fatalf("%d events stored, want 3", n)
	}
	// Another event under a key in use is refused, and stores nothing.
	_, err = b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{"n":2}`), IdempotencyKey: "new"})
	wantInvalid(t, err, "idempotency_key")
	if n := b.count(t, "sparrow_event"); n != 3 {
		t.Fatalf("%d events stored after a refused push, want 3", n)
	}
}

// TestPushEventWaitsAlone pushes an idempotency key that a host's open
// transaction has just pushed: the push waits for that transaction, and
// the pushes made meanwhile do not wait with it.
func TestPushEventWaitsAlone(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	held, err := b.eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{}`), IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan pushResult, 1)
	go func() {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{}`), IdempotencyKey: "k"})
		waiting <- pushResult{ev, err}
	}()
	time.Sleep(50 * time.Millisecond) // the push above is waiting
	for i := range 10 {
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-waiting:
		t.Fatalf("the push of key k returned (%v, %v) before the transaction holding it ended", r.event, r.err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-waiting
	if r.err != nil || r.event.ID != held.ID {
		t.Fatalf("the push of key k returned (%v, %v), want the event %s committed first", r.event, r.err, held.ID)
	}
	if n := b.count(t, "sparrow_event"); n != 11 {
		t.Fatalf("%d events stored, want 11", n)
	}
}

// TestPushEventCancelled: a push whose context is done before it is queued
// returns the context's error and stores nothing.
func TestPushEventCancelled(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.registerEvent(t, "order.created")
	// The type's schema is cached by a push: the next one needs no query
	// that the cancelled context would fail.
	if _, err := b.eng.PushEvent(context.Background(), sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: json.RawMessage(`{}`)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PushEvent with a cancelled context: %v, want context.Canceled", err)
	}
	if n := b.count(t, "sparrow_event"); n != 1 {
		t.Fatalf("%d events stored, want the first push's alone", n)
	}
}
