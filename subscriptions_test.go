package sparrow_test

import (
	"context"
	"strings"
	"testing"

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
