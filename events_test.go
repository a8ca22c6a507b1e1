package sparrow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
)

func TestPushEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Stored", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		payload := []byte(`{"total": 49.99,  "order_id": "ord_123"}`) // odd spacing and key order are kept
		got, err := b.eng.PushEvent(ctx, sparrow.Event{
			Name:    "order.created",
			Payload: payload,
			Labels:  map[string]string{"plan": "premium", "region": "us-east-1"},
			TTL:     time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got.ID, "evt_") || got.Namespace != "default" {
			t.Fatalf("pushed %+v", got)
		}
		if want := got.CreatedAt.Add(time.Hour); !got.ExpiresAt.Equal(want) {
			t.Fatalf("ExpiresAt %v, want %v", got.ExpiresAt, want)
		}
		stored, err := b.eng.GetEvent(ctx, "default", got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Fatalf("stored (-pushed +stored):\n%s", diff)
		}
		if string(stored.Payload) != string(payload) {
			t.Fatalf("payload stored as %s, want it byte for byte", stored.Payload)
		}
		if n := b.countJobs(t, "sparrow_fanout"); n != 1 {
			t.Fatalf("%d fan-out jobs, want 1", n)
		}
	})

	t.Run("InvalidInput", func(t *testing.T) {
		t.Parallel()

		b := setup(t, sparrow.WithMaxPayloadBytes(64))
		b.registerEvent(t, "order.created")
		manyLabels := map[string]string{}
		for i := range 33 {
			manyLabels[fmt.Sprintf("k%d", i)] = "v"
		}
		valid := sparrow.Event{Name: "order.created", Payload: []byte(`{"a":1}`)}
		with := func(change func(ev *sparrow.Event)) sparrow.Event {
			ev := valid
			change(&ev)
			return ev
		}
		tests := []struct {
			name  string
			ev    sparrow.Event
			field string
		}{
			{"NoEvent", with(func(ev *sparrow.Event) { ev.Name = "" }), "event"},
			{"Unregistered", with(func(ev *sparrow.Event) { ev.Name = "order.deleted" }), "event"},
			{"NoPayload", with(func(ev *sparrow.Event) { ev.Payload = nil }), "payload"},
			{"ArrayPayload", with(func(ev *sparrow.Event) { ev.Payload = []byte(`[1,2]`) }), "payload"},
			{"StringPayload", with(func(ev *sparrow.Event) { ev.Payload = []byte(`"x"`) }), "payload"},
			{"BrokenJSON", with(func(ev *sparrow.Event) { ev.Payload = []byte(`{"a":`) }), "payload"},
			{"TrailingJunk", with(func(ev *sparrow.Event) { ev.Payload = []byte(`{"a":1} x`) }), "payload"},
			{"InvalidUTF8", with(func(ev *sparrow.Event) { ev.Payload = []byte("{\"a\":\"\xff\"}") }), "payload"},
			{"TooLarge", with(func(ev *sparrow.Event) { ev.Payload = []byte(`{"a":"` + strings.Repeat("x", 64) + `"}`) }), "payload"},
			{"TooManyLabels", with(func(ev *sparrow.Event) { ev.Labels = manyLabels }), "labels"},
			{"BadLabelKey", with(func(ev *sparrow.Event) { ev.Labels = map[string]string{"": "x"} }), "labels[]"},
			{"LabelValueTooLong", with(func(ev *sparrow.Event) { ev.Labels = map[string]string{"k": strings.Repeat("v", 257)} }), "labels[k]"},
			{"LabelValueNUL", with(func(ev *sparrow.Event) { ev.Labels = map[string]string{"k": "\x00"} }), "labels[k]"},
			{"NegativeTTL", with(func(ev *sparrow.Event) { ev.TTL = -time.Second }), "ttl_seconds"},
			{"HugeTTL", with(func(ev *sparrow.Event) { ev.TTL = 400 * 24 * time.Hour }), "ttl_seconds"},
			{"LongIdempotencyKey", with(func(ev *sparrow.Event) { ev.IdempotencyKey = strings.Repeat("k", 256) }), "idempotency_key"},
			{"BadNamespace", with(func(ev *sparrow.Event) { ev.Namespace = "a b" }), "namespace"},
		}
		for _, tt := range tests {
			_, err := b.eng.PushEvent(ctx, tt.ev)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
		if _, err := b.eng.UpdateEvent(ctx, sparrow.UpdateEventParams{Name: "order.created", Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err := b.eng.PushEvent(ctx, valid)
		wantErr(t, err, sparrow.ErrFailedPrecondition)
		if n := b.count(t, "sparrow_event"); n != 0 {
			t.Fatalf("refused pushes stored %d events", n)
		}
		if n := b.countJobs(t, ""); n != 0 {
			t.Fatalf("refused pushes inserted %d jobs", n)
		}
	})

	t.Run("IdempotencyKey", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		ev := sparrow.Event{Name: "order.created", Payload: []byte(`{"n":1}`), IdempotencyKey: "order-1"}
		first, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ev.Payload = []byte(`{"n":2}`)
		second, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("repeat returned another event (-first +repeat):\n%s", diff)
		}
		ev.Namespace = "other" // keys are per namespace
		third, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if third.ID == first.ID {
			t.Fatal("an idempotency key crossed namespaces")
		}
		if n := b.count(t, "sparrow_event"); n != 2 {
			t.Fatalf("%d events stored, want 2", n)
		}
		if n := b.countJobs(t, "sparrow_fanout"); n != 2 {
			t.Fatalf("%d fan-out jobs, want 2", n)
		}
	})
}

func TestPushEventTx(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})

	// Rolled back: no event, no job, so nothing can ever be delivered.
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack, err := b.eng.PushEventTx(ctx, tx, sparrow.Event{Name: "order.created", Payload: []byte(`{"n":"rolled back"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = b.eng.GetEvent(ctx, "default", rolledBack.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	if n := b.countJobs(t, "sparrow_fanout"); n != 0 {
		t.Fatalf("a rolled back push left %d fan-out jobs", n)
	}

	// Committed: delivered.
	tx, err = b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := b.eng.PushEventTx(ctx, tx, sparrow.Event{Name: "order.created", Payload: []byte(`{"n":"committed"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.waitRequests(t, 1)
	if got := reqs[0].Header.Get("Sparrow-Event-Id"); got != committed.ID {
		t.Fatalf("received event %s, want %s", got, committed.ID)
	}
	if len(rcv.received()) != 1 {
		t.Fatalf("received %d requests, want only the committed event's", len(rcv.received()))
	}

	_, err = b.eng.PushEventTx(ctx, nil, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err == nil {
		t.Fatal("a nil tx was accepted")
	}
}

func TestPushEvents(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Batch", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created", "order.paid")
		evs := make([]sparrow.Event, 250)
		for i := range evs {
			evs[i] = sparrow.Event{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
		}
		evs[10].Name, evs[11].IdempotencyKey, evs[12].IdempotencyKey = "order.paid", "same", "same"
		got, err := b.eng.PushEvents(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) {
			t.Fatalf("%d results for %d events", len(got), len(evs))
		}
		for i, ev := range got {
			if i != 12 && string(ev.Payload) != string(evs[i].Payload) {
				t.Fatalf("result %d holds payload %s, want %s", i, ev.Payload, evs[i].Payload)
			}
		}
		if got[12].ID != got[11].ID {
			t.Fatal("a key repeated within the batch made a second event")
		}
		if n := b.count(t, "sparrow_event"); n != 249 {
			t.Fatalf("%d events stored, want 249", n)
		}
		if n := b.countJobs(t, "sparrow_fanout"); n != 1 {
			t.Fatalf("%d fan-out jobs for 249 events, want 1", n)
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		evs := []sparrow.Event{
			{Name: "order.created", Payload: []byte(`{}`)},
			{Name: "order.created", Payload: []byte(`[]`)},
		}
		_, err := b.eng.PushEvents(ctx, evs)
		wantInvalid(t, err, "events[1].payload")
		evs[1] = sparrow.Event{Name: "order.nope", Payload: []byte(`{}`)}
		_, err = b.eng.PushEvents(ctx, evs)
		wantInvalid(t, err, "events[1].event")
		_, err = b.eng.PushEvents(ctx, nil)
		wantInvalid(t, err, "events")
		_, err = b.eng.PushEvents(ctx, make([]sparrow.Event, sparrow.MaxPushBatch+1))
		wantErr(t, err, sparrow.ErrResourceExhausted)
		if n := b.count(t, "sparrow_event"); n != 0 {
			t.Fatalf("refused batches stored %d events", n)
		}
	})
}

func TestListEvents(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	b := setup(t, sparrow.WithClock(func() time.Time { return clock }))
	b.registerEvent(t, "a.created", "b.created")
	var all []string
	for i := range 6 {
		clock = now.Add(time.Duration(i) * time.Minute)
		name := "a.created"
		if i%2 == 1 {
			name = "b.created"
		}
		ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: name, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		all = append([]string{ev.ID}, all...)
	}
	if _, err := b.eng.PushEvent(ctx, sparrow.Event{Namespace: "other", Name: "a.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	list := func(p sparrow.ListEventsParams) []string {
		t.Helper()
		var out []string
		for range 10 {
			page, err := b.eng.ListEvents(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Items {
				if ev.Payload != nil {
					t.Fatal("a listing carried a payload")
				}
				out = append(out, ev.ID)
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				return out
			}
		}
		t.Fatal("pagination did not end")
		return nil
	}
	if diff := cmp.Diff(all, list(sparrow.ListEventsParams{Limit: 4})); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{all[1], all[3], all[5]}, list(sparrow.ListEventsParams{Name: "a.created"})); diff != "" {
		t.Errorf("by name (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[2:4], list(sparrow.ListEventsParams{Since: now.Add(2 * time.Minute), Until: now.Add(4 * time.Minute)})); diff != "" {
		t.Errorf("by time (-want +got):\n%s", diff)
	}
}

func TestRepushEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 1)
	// A webhook subscribed after the push gets the repush too.
	late := newReceiver(t, nil)
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: late.URL, Events: []string{"order.created"}})

	if _, err := b.eng.RepushEvent(ctx, "default", ev.ID); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 2)
	late.waitRequests(t, 1)
	ds := b.waitDeliveries(t, "default", ev.ID, 3)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries after a repush, want 3", len(ds))
	}
	first, second := rcv.received()[0].Header.Get("Webhook-Id"), rcv.received()[1].Header.Get("Webhook-Id")
	if first == second {
		t.Fatal("a repush reused the delivery id: receivers would drop it as a duplicate")
	}

	_, err = b.eng.RepushEvent(ctx, "other", ev.ID)
	wantErr(t, err, sparrow.ErrNotFound)
}

// TestFanoutIdempotent runs one fan-out job twice, as River may after a
// crash: the second run must create nothing.
func TestFanoutIdempotent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Duplicate the fan-out job before any worker runs.
	if _, err := b.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s.river_job (args, kind, max_attempts, priority, queue, state, scheduled_at)
SELECT args, kind, max_attempts, priority, queue, state, scheduled_at FROM %[1]s.river_job WHERE kind = 'sparrow_fanout'`, b.schema)); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	rcv.waitRequests(t, 1)
	b.waitJobsDone(t, "sparrow_fanout", 2)
	ds := b.waitDeliveries(t, "default", ev.ID, 1)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries from a fan-out run twice, want 1", len(ds))
	}
	b.waitDelivery(t, "default", ds[0].ID, func(d *delivery.Delivery) bool { return d.Status == delivery.StatusSucceeded })
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("received %d requests, want 1", n)
	}
}

func TestGetEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Namespace: "a", Name: "order.created", Payload: json.RawMessage(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.eng.GetEvent(ctx, "b", ev.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.GetEvent(ctx, "a", "evt_nope")
	wantInvalid(t, err, "event_id")
	got, err := b.eng.GetEvent(ctx, "a", ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Fatalf("(-pushed +got):\n%s", diff)
	}
	var _ *event.Event = got
}

func TestEventSchemas(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const schema = `{"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}, "total": {"type": "number", "minimum": 0}}}`

	t.Run("RegisterRefusesBadSchema", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		for _, bad := range []string{`[]`, `{"type": "banana"}`, `{"$ref": "https://example.com/s.json"}`} {
			_, err := b.eng.RegisterEvent(ctx, sparrow.RegisterEventParams{Name: "order.created", Schema: json.RawMessage(bad)})
			wantInvalid(t, err, "schema")
		}
		if n := b.countUserEventTypes(t); n != 0 {
			t.Fatalf("refused schemas stored %d types", n)
		}
	})

	t.Run("PushChecked", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		registered, err := b.eng.RegisterEvent(ctx, sparrow.RegisterEventParams{Name: "order.created", Schema: json.RawMessage(schema)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.eng.GetEventType(ctx, "order.created")
		if err != nil || string(got.Schema) == "" || string(registered.Schema) != schema {
			t.Fatalf("schema not kept: %s / %v", got.Schema, err)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{"order_id": "ord_1", "total": 5}`)}); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{"order_id": "ord_1", "total": -5}`)})
		wantInvalid(t, err, "payload")
		if !strings.Contains(err.Error(), "/total") {
			t.Fatalf("the refusal does not name the failing location: %v", err)
		}
		_, err = b.eng.PushEvents(ctx, []sparrow.Event{
			{Name: "order.created", Payload: []byte(`{"order_id": "ord_2"}`)},
			{Name: "order.created", Payload: []byte(`{"total": 1}`)},
		})
		wantInvalid(t, err, "events[1].payload")
		if n := b.count(t, "sparrow_event"); n != 1 {
			t.Fatalf("%d events stored, want only the valid single push", n)
		}
	})

	t.Run("ChangedByAnotherProcess", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		// This engine learns the type has no schema...
		if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		// ...then another process adds one.
		other, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.UpdateEvent(ctx, sparrow.UpdateEventParams{Name: "order.created", Schema: ptr(json.RawMessage(schema))}); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
		wantInvalid(t, err, "payload")
		// Removing it lets anything through again.
		if _, err := other.UpdateEvent(ctx, sparrow.UpdateEventParams{Name: "order.created", Schema: ptr(json.RawMessage{})}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("after the schema was removed: %v", err)
		}
	})
}

// BenchmarkPushSchema measures what a typical schema adds to a push: the
// same push to a type without and with one.
func BenchmarkPushSchema(b *testing.B) {
	ctx := context.Background()
	const schema = `{"type": "object", "required": ["order_id", "total"], "properties": {"order_id": {"type": "string", "pattern": "^ord_"}, "total": {"type": "number", "minimum": 0}, "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}}}}`
	payload := []byte(`{"order_id": "ord_123", "total": 49.99, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`)
	for _, withSchema := range []bool{false, true} {
		name := "NoSchema"
		if withSchema {
			name = "Schema"
		}
		b.Run(name, func(b *testing.B) {
			bundle := setup(b)
			p := sparrow.RegisterEventParams{Name: "order.created"}
			if withSchema {
				p.Schema = json.RawMessage(schema)
			}
			if _, err := bundle.eng.RegisterEvent(ctx, p); err != nil {
				b.Fatal(err)
			}
			b.Run("PushEvent", func(b *testing.B) {
				for b.Loop() {
					if _, err := bundle.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: payload}); err != nil {
						b.Fatal(err)
					}
				}
			})
			// A batch checks every payload against the schema compiled once.
			b.Run("PushEvents100", func(b *testing.B) {
				batch := make([]sparrow.Event, 100)
				for i := range batch {
					batch[i] = sparrow.Event{Name: "order.created", Payload: payload}
				}
				for b.Loop() {
					if _, err := bundle.eng.PushEvents(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
			})
		})
	}
}
