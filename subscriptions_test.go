package sparrow_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/subscription"
)

func TestCreateSubscription(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "shop", URL: "https://example.com"})
		got, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
			Namespace:   "shop",
			WebhookID:   w.ID,
			EventName:   "order.created",
			LabelFilter: map[string]string{"plan": "premium"},
			Template:    `{"text": {{json .order_id}}}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &subscription.Subscription{
			ID: got.ID, Namespace: "shop", WebhookID: w.ID, EventName: "order.created", Active: true,
			LabelFilter: map[string]string{"plan": "premium"}, Template: `{"text": {{json .order_id}}}`,
		}
		if diff := cmp.Diff(want, got, ignoreSubscriptionTimes); diff != "" {
			t.Fatalf("created (-want +got):\n%s", diff)
		}
		stored, err := b.eng.GetSubscription(ctx, "shop", got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Fatalf("stored (-created +stored):\n%s", diff)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com", Events: []string{"order.created"}})
		b.registerEvent(t, "order.paid")
		tests := []struct {
			name  string
			p     sparrow.CreateSubscriptionParams
			field string
		}{
			{"NoWebhook", sparrow.CreateSubscriptionParams{EventName: "order.paid"}, "webhook_id"},
			{"NoEvent", sparrow.CreateSubscriptionParams{WebhookID: w.ID}, "event_name"},
			{"UnregisteredEvent", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "nope"}, "event_name"},
			{"BadLabelKey", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", LabelFilter: map[string]string{"bad key": "x"}}, "label_filter[bad key]"},
			{"LabelValueTooLong", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", LabelFilter: map[string]string{"k": strings.Repeat("v", 257)}}, "label_filter[k]"},
			{"TemplateSyntax", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", Template: `{{.x`}, "template"},
			{"TemplateUnknownFunc", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", Template: `{{exec "rm"}}`}, "template"},
			{"TemplateDeepRange", sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.paid", Template: `{{range .a}}{{range .b}}{{range .c}}{{range .d}}{{end}}{{end}}{{end}}{{end}}`}, "template"},
		}
		for _, tt := range tests {
			_, err := b.eng.CreateSubscription(ctx, tt.p)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
		_, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
			WebhookID: w.ID, EventName: "order.created", LabelFilter: map[string]string{"plan": "premium"},
		})
		wantErr(t, err, sparrow.ErrAlreadyExists)
		// Asking again for the subscription registration made returns it.
		same, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.created"})
		if err != nil {
			t.Fatalf("asking for the existing subscription: %v", err)
		}
		if same.WebhookID != w.ID || len(same.LabelFilter) != 0 {
			t.Fatalf("got %+v", same)
		}
		_, err = b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{Namespace: "other", WebhookID: w.ID, EventName: "order.paid"})
		wantErr(t, err, sparrow.ErrNotFound)
		if n := b.count(t, "sparrow_subscription"); n != 1 {
			t.Fatalf("refused creations left %d subscriptions, want the 1 registered", n)
		}
	})
}

func TestUpdateDeleteSubscription(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com", Events: []string{"order.created"}})
	subs, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{WebhookID: w.ID})
	if err != nil {
		t.Fatal(err)
	}
	sub := subs.Items[0]

	got, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{
		ID: sub.ID, Active: ptr(false), LabelFilter: ptr(map[string]string{"region": "eu"}), Template: ptr(`{"id": {{json .id}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Active || got.LabelFilter["region"] != "eu" || got.Template == "" {
		t.Fatalf("not updated: %+v", got)
	}
	got, err = b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Template: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Template != "" || got.LabelFilter["region"] != "eu" {
		t.Fatalf("removing the template: %+v", got)
	}
	_, err = b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: sub.ID, Template: ptr("{{")})
	wantInvalid(t, err, "template")
	_, err = b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{Namespace: "other", ID: sub.ID, Active: ptr(true)})
	wantErr(t, err, sparrow.ErrNotFound)

	wantErr(t, b.eng.DeleteSubscription(ctx, "other", sub.ID), sparrow.ErrNotFound)
	if err := b.eng.DeleteSubscription(ctx, "default", sub.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.eng.GetSubscription(ctx, "default", sub.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	wantErr(t, b.eng.DeleteSubscription(ctx, "default", sub.ID), sparrow.ErrNotFound)
	wantInvalid(t, b.eng.DeleteSubscription(ctx, "default", "wh_01aaaaaaaaaaaaaaaaaaaaaaaa"), "subscription_id")
}

func TestListSubscriptions(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "a.created", "b.created", "c.created")
	w1 := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/1"})
	w2 := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/2"})
	other := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "other", URL: "https://example.com/3"})
	subscribe := func(webhookID, namespace, event string) string {
		t.Helper()
		s, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{Namespace: namespace, WebhookID: webhookID, EventName: event})
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	// Made c, b, a, then w2's: listed newest first, w2's leads.
	w1c, w1b, w1a := subscribe(w1.ID, "", "c.created"), subscribe(w1.ID, "", "b.created"), subscribe(w1.ID, "", "a.created")
	w2a := subscribe(w2.ID, "", "a.created")
	otherA := subscribe(other.ID, "other", "a.created")

	list := func(p sparrow.ListSubscriptionsParams) []string {
		t.Helper()
		var ids []string
		for range 10 {
			page, err := b.eng.ListSubscriptions(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if p.Limit > 0 && len(page.Items) > p.Limit {
				t.Fatalf("a page of %d for a limit of %d", len(page.Items), p.Limit)
			}
			for _, s := range page.Items {
				ids = append(ids, s.ID)
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				return ids
			}
		}
		t.Fatal("pagination did not end")
		return nil
	}
	tests := []struct {
		name string
		p    sparrow.ListSubscriptionsParams
		want []string
	}{
		{"AllOnePage", sparrow.ListSubscriptionsParams{}, []string{w2a, w1a, w1b, w1c}},
		{"AllTwoPerPage", sparrow.ListSubscriptionsParams{Limit: 2}, []string{w2a, w1a, w1b, w1c}},
		{"AllOnePerPage", sparrow.ListSubscriptionsParams{Limit: 1}, []string{w2a, w1a, w1b, w1c}},
		{"ByWebhook", sparrow.ListSubscriptionsParams{WebhookID: w1.ID, Limit: 2}, []string{w1a, w1b, w1c}},
		{"ByEvent", sparrow.ListSubscriptionsParams{EventName: "a.created"}, []string{w2a, w1a}},
		{"ByWebhookAndEvent", sparrow.ListSubscriptionsParams{WebhookID: w1.ID, EventName: "b.created"}, []string{w1b}},
		{"OtherNamespace", sparrow.ListSubscriptionsParams{Namespace: "other"}, []string{otherA}},
		{"WebhookOfAnotherNamespace", sparrow.ListSubscriptionsParams{WebhookID: other.ID}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	t.Run("Invalid", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			p     sparrow.ListSubscriptionsParams
			field string
		}{
			{"LimitNegative", sparrow.ListSubscriptionsParams{Limit: -1}, "limit"},
			{"LimitOverMax", sparrow.ListSubscriptionsParams{Limit: 101}, "limit"},
			{"CursorNotBase64", sparrow.ListSubscriptionsParams{Cursor: "!!not a cursor!!"}, "cursor"},
			{"WebhookIDOfASubscription", sparrow.ListSubscriptionsParams{WebhookID: w1a}, "webhook_id"},
			{"WebhookIDTruncated", sparrow.ListSubscriptionsParams{WebhookID: w1.ID[:10]}, "webhook_id"},
			{"EventName", sparrow.ListSubscriptionsParams{EventName: "not an event"}, "event_name"},
			{"Namespace", sparrow.ListSubscriptionsParams{Namespace: "no spaces"}, "namespace"},
		} {
			_, err := b.eng.ListSubscriptions(ctx, tt.p)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
	})
}

func TestUpdateSubscriptionInvalid(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com"})
	sub, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		WebhookID: w.ID, EventName: "order.created", LabelFilter: map[string]string{"plan": "premium"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tooMany := map[string]string{}
	for i := range 100 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name  string
		p     sparrow.UpdateSubscriptionParams
		field string
	}{
		{"LabelKeyWithSpace", sparrow.UpdateSubscriptionParams{LabelFilter: ptr(map[string]string{"bad key": "x"})}, "label_filter[bad key]"},
		{"LabelKeyEmpty", sparrow.UpdateSubscriptionParams{LabelFilter: ptr(map[string]string{"": "x"})}, "label_filter[]"},
		{"LabelValueTooLong", sparrow.UpdateSubscriptionParams{LabelFilter: ptr(map[string]string{"k": strings.Repeat("v", 257)})}, "label_filter[k]"},
		{"LabelValueNUL", sparrow.UpdateSubscriptionParams{LabelFilter: ptr(map[string]string{"k": "a\x00b"})}, "label_filter[k]"},
		{"TooManyLabels", sparrow.UpdateSubscriptionParams{LabelFilter: &tooMany}, "label_filter"},
		// A valid change beside the bad one is not applied either.
		{"WithAValidChange", sparrow.UpdateSubscriptionParams{Active: ptr(false), LabelFilter: ptr(map[string]string{"bad key": "x"})}, "label_filter[bad key]"},
		{"BadID", sparrow.UpdateSubscriptionParams{ID: w.ID, Active: ptr(false)}, "subscription_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			if p.ID == "" {
				p.ID = sub.ID
			}
			_, err := b.eng.UpdateSubscription(ctx, p)
			wantInvalid(t, err, tt.field)
			got, err := b.eng.GetSubscription(ctx, "default", sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sub, got); diff != "" {
				t.Fatalf("a refused update changed the subscription (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	got, err := b.eng.RenderTemplate(ctx, `{"text": {{json .order_id}}}`, []byte(`{"order_id": "ord_1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"text": "ord_1"}` {
		t.Fatalf("rendered %s", got)
	}
	_, err = b.eng.RenderTemplate(ctx, `{{.x`, []byte(`{}`))
	wantInvalid(t, err, "template")
	_, err = b.eng.RenderTemplate(ctx, `{"text": {{.order_id}}}`, []byte(`{"order_id": "ord_1"}`)) // unquoted: not JSON
	wantInvalid(t, err, "template")
	_, err = b.eng.RenderTemplate(ctx, `{}`, []byte(`[]`))
	wantInvalid(t, err, "payload")
}

// TestRenderTemplateAttack renders the reported attack (14 KB of nested
// wide printf in a range) 16 times at once, as 16 API requests would: each
// fails on the template's byte budget or, on a busy machine, its deadline,
// and returns within a small multiple of its timeout: 8×, as the 16 share
// the machine's cores (unbounded, each took 10 to 12 s).
func TestRenderTemplateAttack(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	template := "{{range .a}}{{range $.a}}{{range $.a}}" +
		strings.Repeat(`{{$x := printf "%s" (printf "%0250000d" 0)}}`, 300) + "{{end}}{{end}}{{end}}{}"
	payload := []byte(`{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}`)
	errs := make([]error, 16)
	took := make([]time.Duration, 16)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			start := time.Now()
			_, errs[i] = b.eng.RenderTemplate(ctx, template, payload)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, err := range errs {
		wantInvalid(t, err, "template")
		if !strings.Contains(err.Error(), "built more than 1 MiB") && !strings.Contains(err.Error(), "ran past its 250ms limit") {
			t.Errorf("render %d: err = %v, want the byte budget spent or the deadline passed", i, err)
		}
		if limit := 8 * subscription.TemplateTimeoutDefault; took[i] > limit {
			t.Errorf("render %d returned after %s, over %s", i, took[i], limit)
		}
	}
}

// TestSubscriptionsApplyFromCreation: an event goes to the subscriptions
// that existed when it was pushed, however late fan-out runs (here held
// back until after a second webhook subscribed); a repush goes to those of
// now.
func TestSubscriptionsApplyFromCreation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, early := subscribedBundle(t)
	single, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inTx, err := b.eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	late := newReceiver(t, nil)
	lateHook := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: late.URL, Events: []string{"order.created"}})
	if err := tx.Commit(ctx); err != nil { // committed after the subscription: pushed before it
		t.Fatal(err)
	}

	b.start(t)
	early.waitRequests(t, 3)
	b.waitFannedOut(t, single.ID, batch[0].ID, inTx.ID)
	for _, id := range []string{single.ID, batch[0].ID, inTx.ID} {
		page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{EventID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].WebhookID == lateHook.ID {
			t.Fatalf("event %s has %d deliveries (%+v), want one, to the webhook subscribed before its push", id, len(page.Items), page.Items)
		}
	}
	if _, err := b.eng.RepushEvent(ctx, "default", single.ID); err != nil {
		t.Fatal(err)
	}
	late.waitRequests(t, 1)
	if n := len(late.received()); n != 1 {
		t.Fatalf("the late webhook got %d requests, want the repush only", n)
	}
}
