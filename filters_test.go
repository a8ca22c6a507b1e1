package sparrow_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/subscription"
)

// filterFailures returns the ids of the events whose payload filter failed,
// as the engine logged them to buf, in order.
func filterFailures(t *testing.T, buf *syncBuffer) []string {
	t.Helper()
	var ids []string
	for line := range strings.Lines(buf.String()) {
		var rec struct {
			Msg            string `json:"msg"`
			EventID        string `json:"event_id"`
			SubscriptionID string `json:"subscription_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.Contains(rec.Msg, "payload filter failed") {
			ids = append(ids, rec.EventID)
		}
	}
	return ids
}

// TestFilterDelivery: a subscription with a payload filter gets the events
// the filter passes and no other, by single pushes and batches alike; its
// label filter still applies; a missing field is quietly no match, a
// filter failing over an event is logged.
func TestFilterDelivery(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	logs := &syncBuffer{}
	b := setup(t, sparrow.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	b.start(t)
	filtered, everyone := newReceiver(t, nil), newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	wf := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: filtered.URL})
	sub, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: wf.ID, EventName: "order.created", LabelFilter: map[string]string{"plan": "premium"},
		Filter: `payload.total > 100 && payload.currency == "EUR" && labels.region == "eu"`,
	})
	if err != nil {
		t.Fatal(err)
	}
	we := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: everyone.URL, Events: []string{"order.created"}})

	eu := map[string]string{"plan": "premium", "region": "eu"}
	events := []sparrow.PushEventParams{
		{Payload: []byte(`{"id":"match","total":150,"currency":"EUR"}`), Labels: eu},
		{Payload: []byte(`{"id":"small","total":100,"currency":"EUR"}`), Labels: eu},
		{Payload: []byte(`{"id":"usd","total":150,"currency":"USD"}`), Labels: eu},
		{Payload: []byte(`{"id":"us","total":150,"currency":"EUR"}`), Labels: map[string]string{"plan": "premium", "region": "us"}},
		{Payload: []byte(`{"id":"basic","total":150,"currency":"EUR"}`), Labels: map[string]string{"plan": "basic", "region": "eu"}},
		{Payload: []byte(`{"id":"nolabel","total":150,"currency":"EUR"}`), Labels: map[string]string{"plan": "premium"}},
		{Payload: []byte(`{"id":"nototal","currency":"EUR"}`), Labels: eu},
		{Payload: []byte(`{"id":"badtype","total":"lots","currency":"EUR"}`), Labels: eu},
		{Payload: []byte(`{"id":"double","total":100.5,"currency":"EUR"}`), Labels: eu},
	}
	var ids, batchIDs []string
	for _, ev := range events {
		ev.Name = "order.created"
		pushed, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pushed.ID)
	}
	// A batch goes through a fan-out job rather than the fan-out queue.
	batch := slices.Clone(events)
	for i := range batch {
		batch[i].Name = "order.created"
	}
	pushed, err := b.eng.PushEvents(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range pushed {
		batchIDs = append(batchIDs, ev.ID)
	}
	b.waitFannedOut(t, append(slices.Clone(ids), batchIDs...)...)

	deliveriesTo := func(webhookID string) []string {
		t.Helper()
		page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: webhookID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range page.Items {
			got = append(got, d.EventID)
		}
		slices.Sort(got)
		return got
	}
	want := []string{ids[0], ids[8], batchIDs[0], batchIDs[8]}
	slices.Sort(want)
	if diff := cmp.Diff(want, deliveriesTo(wf.ID)); diff != "" {
		t.Fatalf("events delivered to the filtered webhook (-want +got):\n%s", diff)
	}
	if n := len(deliveriesTo(we.ID)); n != 2*len(events) {
		t.Fatalf("the unfiltered webhook has %d deliveries, want %d", n, 2*len(events))
	}
	var bodies []string
	for _, r := range filtered.waitRequests(t, 4) {
		bodies = append(bodies, string(r.Body))
	}
	slices.Sort(bodies)
	wantBodies := []string{
		`{"id":"double","total":100.5,"currency":"EUR"}`, `{"id":"double","total":100.5,"currency":"EUR"}`,
		`{"id":"match","total":150,"currency":"EUR"}`, `{"id":"match","total":150,"currency":"EUR"}`,
	}
	if diff := cmp.Diff(wantBodies, bodies); diff != "" {
		t.Fatalf("bodies the filtered webhook got (-want +got):\n%s", diff)
	}
	// Only the event whose total is a string makes the filter fail; the
	// one without a total just does not match.
	failed := filterFailures(t, logs)
	slices.Sort(failed)
	wantFailed := []string{ids[7], batchIDs[7]}
	slices.Sort(wantFailed)
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Fatalf("events logged as failing subscription %s's filter (-want +got):\n%s", sub.ID, diff)
	}
}

// TestFilterUpdate changes and removes a subscription's filter: fan-out
// applies the filter stored when it runs.
func TestFilterUpdate(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL})
	sub, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created", Filter: `payload.kind == "a"`,
	})
	if err != nil {
		t.Fatal(err)
	}
	deliveredKinds := func(kinds ...string) []string {
		t.Helper()
		var ids []string
		for _, kind := range kinds {
			ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"kind":"` + kind + `"}`)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		b.waitFannedOut(t, ids...)
		var got []string
		for i, id := range ids {
			page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{EventID: id})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > 0 {
				got = append(got, kinds[i])
			}
		}
		return got
	}
	if diff := cmp.Diff([]string{"a"}, deliveredKinds("a", "b")); diff != "" {
		t.Fatalf("delivered with the first filter (-want +got):\n%s", diff)
	}

	updated, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Filter: ptr(`payload.kind == "b"`)})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Filter != `payload.kind == "b"` {
		t.Fatalf("updated filter = %q", updated.Filter)
	}
	if diff := cmp.Diff([]string{"b"}, deliveredKinds("a", "b")); diff != "" {
		t.Fatalf("delivered with the new filter (-want +got):\n%s", diff)
	}

	// Leaving Filter nil keeps it.
	kept, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Template: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if kept.Filter != `payload.kind == "b"` {
		t.Fatalf("an update without a filter left %q", kept.Filter)
	}

	cleared, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Filter: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if cleared.Filter != "" {
		t.Fatalf("cleared filter = %q", cleared.Filter)
	}
	if diff := cmp.Diff([]string{"a", "b"}, deliveredKinds("a", "b")); diff != "" {
		t.Fatalf("delivered without a filter (-want +got):\n%s", diff)
	}
	rcv.waitRequests(t, 4)
}

// TestFilterInvalid: a filter that does not compile is refused on create
// and update with an error naming "filter" and its place, and changes
// nothing.
func TestFilterInvalid(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created", "order.paid")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com"})
	sub, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created", Filter: `payload.total > 100`,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, filter, reason string
	}{
		{"Syntax", `payload.total >`, "1:16: Syntax error"},
		{"Undeclared", `total > 100`, "1:1: undeclared reference to 'total'"},
		{"NotBool", `payload.total + 1`, "of type int, not bool"},
		{"Blank", "  ", "empty expression"},
		{"TooLong", strings.Repeat("true && ", subscription.MaxFilterLen/8) + "true", "longer than"},
		{"NotUTF8", "payload.name == \"\xff\"", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", Filter: tt.filter})
			wantInvalid(t, err, "filter")
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("create: %v, want %q", err, tt.reason)
			}
			_, err = b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Active: ptr(false), Filter: ptr(tt.filter)})
			wantInvalid(t, err, "filter")
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("update: %v, want %q", err, tt.reason)
			}
		})
	}
	if n := b.count(t, "sparrow_subscription"); n != 1 {
		t.Fatalf("refused creations left %d subscriptions, want 1", n)
	}
	after, err := b.eng.GetSubscription(ctx, "", sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sub, after); diff != "" {
		t.Fatalf("refused updates changed the subscription (-before +after):\n%s", diff)
	}

	// Asking again for the subscription with its filter returns it; with
	// another filter, it is refused.
	same, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created", Filter: `payload.total > 100`,
	})
	if err != nil || same.ID != sub.ID {
		t.Fatalf("asking again: %v, %v", same, err)
	}
	_, err = b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created", Filter: `payload.total > 200`,
	})
	wantErr(t, err, sparrow.ErrAlreadyExists)
}

func TestTestFilter(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithMaxPayloadBytes(1<<10))
	payload := []byte(`{"total":150,"currency":"EUR","items":[{"sku":"a"}]}`)
	eu := map[string]string{"region": "eu"}

	t.Run("Matches", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			filter string
			labels map[string]string
			want   bool
		}{
			{`payload.total > 100 && payload.currency == "EUR"`, nil, true},
			{`payload.total > 200`, nil, false},
			{`labels.region == "eu"`, eu, true},
			{`"region" in labels`, nil, false},
			{`payload.discount > 0`, nil, false},
			{`!has(payload.discount)`, nil, true},
			{`payload.items.exists(i, i.sku == "a")`, eu, true},
		}
		for _, tt := range tests {
			got, err := b.eng.TestFilter(ctx, tt.filter, payload, tt.labels)
			if err != nil || got != tt.want {
				t.Errorf("TestFilter(%s, %v) = %v, %v; want %v", tt.filter, tt.labels, got, err, tt.want)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name, filter string
			payload      []byte
			labels       map[string]string
			field        string
			reason       string
		}{
			{"Empty", "", payload, nil, "filter", "empty expression"},
			{"Syntax", "payload.total >\n 1 1", payload, nil, "filter", "2:4: Syntax error"},
			{"NotBool", `payload.total`, payload, nil, "filter", "not known to be bool"},
			{"FailsOverEvent", `payload.currency > 1`, payload, nil, "filter", "no such overload"},
			{"CostLimit", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b,
				[1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`, payload, nil, "filter", "cost limit exceeded"},
			{"NoPayload", `true`, nil, nil, "payload", "required"},
			{"PayloadNotObject", `true`, []byte(`[1]`), nil, "payload", "JSON object"},
			{"PayloadTooLarge", `true`, []byte(`{"a":"` + strings.Repeat("x", 1<<10) + `"}`), nil, "payload", "limit"},
			{"BadLabel", `true`, payload, map[string]string{"bad key": "x"}, "labels[bad key]", "key must be"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := b.eng.TestFilter(ctx, tt.filter, tt.payload, tt.labels)
				wantInvalid(t, err, tt.field)
				if got || !strings.Contains(err.Error(), tt.reason) {
					t.Fatalf("TestFilter = %v, %v; want false and %q", got, err, tt.reason)
				}
			})
		}
	})
}
