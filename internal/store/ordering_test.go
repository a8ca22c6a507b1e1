package store

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type orderingFixture struct {
	t      *testing.T
	schema dbutil.Schema
	now    time.Time
}

func newOrderingFixture(t *testing.T) *orderingFixture {
	f := &orderingFixture{t: t, schema: dbutil.Schema(pgtest.Schema(t)), now: time.Now()}
	if err := EventTypeInsert(context.Background(), f.db(), &event.Type{Name: "order.created", Active: true, CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *orderingFixture) db() dbutil.DB { return f.schema.On(pgtest.Pool(f.t)) }

// push stores events with the given ids and ordering keys, one batch.
func (f *orderingFixture) push(idsAndKeys ...string) {
	f.t.Helper()
	var evs []*event.Event
	for i := 0; i < len(idsAndKeys); i += 2 {
		evs = append(evs, &event.Event{ID: idsAndKeys[i], Name: "order.created", Payload: json.RawMessage(`{}`),
			CreatedAt: f.now, OrderingKey: idsAndKeys[i+1]})
	}
	if _, _, err := EventInsertMany(context.Background(), f.db(), evs); err != nil {
		f.t.Fatal(err)
	}
}

// claim claims ids' first fan-out in a new transaction, which it returns open.
func (f *orderingFixture) claim(ids ...string) (pgx.Tx, []*event.Event) {
	f.t.Helper()
	tx, err := pgtest.Pool(f.t).Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { tx.Rollback(context.Background()) })
	events, err := EventClaimFanout(context.Background(), f.schema.On(tx), ids, 0, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	return tx, events
}

// admit runs OrderingAdmit on claimed in tx, commits, and returns the ids
// admitted, in order.
func (f *orderingFixture) admit(tx pgx.Tx, claimed []*event.Event) []string {
	f.t.Helper()
	admitted, err := OrderingAdmit(context.Background(), f.schema.On(tx), claimed)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	ids := []string{}
	for _, ev := range admitted {
		ids = append(ids, ev.ID)
	}
	return ids
}

func (f *orderingFixture) wantAdmitted(got []string, want ...string) {
	f.t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		f.t.Fatalf("admitted %v, want %v", got, want)
	}
}

// TestOrderingAdmit: a key's events fan out in push order whatever order
// their fan-outs run in; one whose turn has not come waits for the fan-out
// of the one before it, which takes it along.
func TestOrderingAdmit(t *testing.T) {
	t.Parallel()

	f := newOrderingFixture(t)
	for _, id := range []string{"k0", "k1", "k2", "k3"} {
		f.push(id, "k") // one push each: numbered 1 to 4
	}
	f.push("j0", "j", "u0", "")

	f.wantAdmitted(f.admit(f.claim("k2", "u0")), "u0") // k0 and k1 not fanned out: k2 waits
	f.wantAdmitted(f.admit(f.claim("k1")))
	f.wantAdmitted(f.admit(f.claim("k3", "j0")), "j0") // another key does not wait
	f.wantAdmitted(f.admit(f.claim("k0")), "k0", "k1", "k2", "k3")

	// A fan-out claimed but not yet committed holds back the events after
	// it, unseen; its own admission takes them along.
	f.push("k4", "k")
	f.push("k5", "k")
	early, claimed := f.claim("k4")
	f.wantAdmitted(f.admit(f.claim("k5")))
	f.wantAdmitted(f.admit(early, claimed), "k4", "k5")

	f.push("k6", "k")
	f.wantAdmitted(f.admit(f.claim("k6")), "k6")

	// Keys whose orders differ between Go and the database's collation:
	// each keeps its own mark.
	f.push("B1", "B", "B2", "B", "a1", "a", "a2", "a", "B3", "B")
	f.wantAdmitted(f.admit(f.claim("B1", "B2")), "B1", "B2")
	f.wantAdmitted(f.admit(f.claim("a2", "B3")), "B3")
	f.wantAdmitted(f.admit(f.claim("a1")), "a1", "a2")
	var deferred int
	if err := f.db().QueryRow(context.Background(), `SELECT count(*) FROM /*schema*/sparrow_ordering_deferred`).Scan(&deferred); err != nil {
		t.Fatal(err)
	}
	if deferred != 0 {
		t.Fatalf("%d events still deferred", deferred)
	}
}

// TestOrderingNumbers: pushes number each key's events in order, in a
// batch as across batches, and a key forgotten past retention starts
// again once its events are all fanned out.
func TestOrderingNumbers(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	f := newOrderingFixture(t)
	f.push("a1", "a", "b1", "b", "a2", "a", "n1", "")
	f.push("a3", "a")
	numbers := func() map[string]*int64 {
		rows, err := f.db().Query(ctx, `SELECT id, ordering_seq FROM /*schema*/sparrow_event`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*int64{}
		var id string
		var seq *int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error { got[id] = seq; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := numbers()
	for id, want := range map[string]int64{"a1": 1, "a2": 2, "a3": 3, "b1": 1} {
		if got[id] == nil || *got[id] != want {
			t.Errorf("event %s numbered %v, want %d", id, got[id], want)
		}
	}
	if got["n1"] != nil {
		t.Errorf("event without a key numbered %d", *got["n1"])
	}

	// b's event is deferred (as if b0 came first), a's are all fanned out.
	f.wantAdmitted(f.admit(f.claim("a1", "a2", "a3")), "a1", "a2", "a3")
	if _, err := f.db().Exec(ctx, `INSERT INTO /*schema*/sparrow_ordering_deferred VALUES ('b1', '', 'b', 1)`); err != nil {
		t.Fatal(err)
	}
	n, err := OrderingPrune(ctx, f.db(), dbutil.Namespaces{}, f.now.Add(time.Second), 100)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("pruned %d ordering rows, want a's push row (its fan-out row goes with it)", n)
	}
	f.push("a4", "a")
	if got := numbers()["a4"]; got == nil || *got != 1 {
		t.Fatalf("a key pushed again after it was forgotten numbered %v, want 1", got)
	}
	f.wantAdmitted(f.admit(f.claim("a4")), "a4")
}
