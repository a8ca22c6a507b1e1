package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// TestEventInsertGroup inserts a group whose events meet every case: new,
// an idempotency key taken before and one repeated inside the group, a
// type gone inactive and a stale type version. Each gets its own result,
// and the others are stored once, each queued for fan-out.
func TestEventInsertGroup(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	f := newOrderingFixture(t)
	db := f.db()
	version := f.typeVersion("order.created")
	if err := EventTypeInsert(ctx, db, &event.Type{Name: "order.cancelled", Active: false, CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	older := &event.Event{ID: "evt_older", Name: "order.created", Payload: json.RawMessage(`{}`), IdempotencyKey: "taken", CreatedAt: f.now}
	if _, _, err := EventInsertMany(ctx, db, []*event.Event{older}); err != nil {
		t.Fatal(err)
	}
	newEvent := func(id, name, key string) *event.Event {
		return &event.Event{ID: id, Name: name, Payload: json.RawMessage(`{"n":1}`), IdempotencyKey: key, CreatedAt: f.now}
	}
	group := []*GroupedEvent{
		{Event: newEvent("evt_a", "order.created", ""), TypeVersion: version},
		{Event: newEvent("evt_b", "order.created", "taken"), TypeVersion: version},
		{Event: newEvent("evt_c", "order.created", "twice"), TypeVersion: version},
		{Event: newEvent("evt_d", "order.created", "twice"), TypeVersion: version},
		{Event: newEvent("evt_e", "order.cancelled", ""), TypeVersion: version},
		{Event: newEvent("evt_f", "order.created", ""), TypeVersion: version.Add(-time.Second)},
		{Event: newEvent("evt_g", "order.created", ""), TypeVersion: version, TraceContext: []byte(`{"traceparent":"00-1-2-01"}`)},
	}
	if err := f.inTx(func(tx pgx.Tx) error { return EventInsertGroup(ctx, f.schema.On(tx), group, false) }); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		stored  string
		created bool
		err     error
	}{
		{"evt_a", true, nil},
		{"evt_older", false, nil},
		{"evt_c", true, nil},
		{"evt_c", false, nil},
		{"", false, errs.ErrFailedPrecondition},
		{"", false, ErrStaleEventType},
		{"evt_g", true, nil},
	}
	for i, w := range want {
		g := group[i]
		stored := ""
		if g.Stored != nil {
			stored = g.Stored.ID
		}
		if stored != w.stored || g.Created != w.created || !errors.Is(g.Err, w.err) || (w.err == nil) != (g.Err == nil) {
			t.Errorf("%s: stored %q, created %v, error %v; want %q, %v, %v", g.Event.ID, stored, g.Created, g.Err, w.stored, w.created, w.err)
		}
	}
	f.wantRows("sparrow_event", 4)        // older, a, c, g
	f.wantRows("sparrow_fanout_queue", 3) // older, pushed in a batch, has a job instead
	var trace string
	if err := db.QueryRow(ctx, `SELECT trace_context::text FROM /*schema*/sparrow_fanout_queue WHERE event_id = 'evt_g'`).Scan(&trace); err != nil || trace != `{"traceparent": "00-1-2-01"}` {
		t.Errorf("evt_g's trace context %q (%v)", trace, err)
	}
}

// TestEventInsertGroupRetried retries a group whose commit looked failed
// but was not: the events it stored count as created and are not stored
// twice; one it did not store is stored now.
func TestEventInsertGroupRetried(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	f := newOrderingFixture(t)
	version := f.typeVersion("order.created")
	newGroup := func(ids ...string) []*GroupedEvent {
		var group []*GroupedEvent
		for _, id := range ids {
			group = append(group, &GroupedEvent{Event: &event.Event{ID: id, Name: "order.created", Payload: json.RawMessage(`{}`),
				CreatedAt: f.now, OrderingKey: "k"}, TypeVersion: version})
		}
		return group
	}
	if err := f.inTx(func(tx pgx.Tx) error {
		return EventInsertGroup(ctx, f.schema.On(tx), newGroup("evt_1", "evt_2"), false)
	}); err != nil {
		t.Fatal(err)
	}
	retry := newGroup("evt_1", "evt_2", "evt_3")
	if err := f.inTx(func(tx pgx.Tx) error { return EventInsertGroup(ctx, f.schema.On(tx), retry, true) }); err != nil {
		t.Fatal(err)
	}
	for _, g := range retry {
		if !g.Created || g.Err != nil || g.Stored != g.Event {
			t.Errorf("%s: created %v, error %v", g.Event.ID, g.Created, g.Err)
		}
	}
	f.wantRows("sparrow_event", 3)
	f.wantRows("sparrow_fanout_queue", 3)
	// Numbered once each: 1, 2, then 3 for the event stored by the retry.
	var seqs []int64
	rows, err := f.db().Query(ctx, `SELECT ordering_seq FROM /*schema*/sparrow_event ORDER BY id`)
	if err == nil {
		seqs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil || len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 3 {
		t.Errorf("ordering numbers %v (%v), want [1 2 3]", seqs, err)
	}
}

func (f *orderingFixture) typeVersion(name string) time.Time {
	f.t.Helper()
	typ, err := EventTypeGet(context.Background(), f.db(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return typ.UpdatedAt
}

func (f *orderingFixture) inTx(fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(context.Background(), pgtest.Pool(f.t), fn)
}

func (f *orderingFixture) wantRows(table string, n int) {
	f.t.Helper()
	var got int
	if err := f.db().QueryRow(context.Background(), `SELECT count(*) FROM /*schema*/`+table).Scan(&got); err != nil {
		f.t.Fatal(err)
	}
	if got != n {
		f.t.Errorf("%d rows in %s, want %d", got, table, n)
	}
}
