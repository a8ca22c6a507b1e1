package sparrow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparrowhq/sparrow"
)

func TestListNamespaces(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	for _, name := range []string{"order.created", "order.shipped"} {
		if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	register := func(ns string, events ...string) string {
		t.Helper()
		w, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: ns, URL: "https://example.com/hook", Events: events})
		if err != nil {
			t.Fatal(err)
		}
		return w.ID
	}
	// acme: three webhooks, one paused, one deleted; three subscriptions
	// left. zeta: events and nothing else. gone: a deleted webhook only.
	register("acme", "order.created", "order.shipped")
	paused := register("acme", "order.created")
	deleted := register("acme", "order.shipped")
	if _, err := b.eng.PauseWebhook(ctx, "acme", paused); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.DeleteWebhook(ctx, "acme", deleted); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.DeleteWebhook(ctx, "gone", register("gone")); err != nil {
		t.Fatal(err)
	}
	register("") // the default namespace
	var latest time.Time
	for range 3 {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "zeta", Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		latest = ev.CreatedAt
	}

	got, err := b.eng.ListNamespaces(ctx, sparrow.ListNamespacesParams{})
	if err != nil {
		t.Fatal(err)
	}
	want := []sparrow.NamespaceSummary{
		{Namespace: "acme", Webhooks: 2, PausedWebhooks: 1, Subscriptions: 3},
		{Namespace: "default", Webhooks: 1},
		{Namespace: "zeta", LastEventAt: latest},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Fatalf("every namespace (-want +got):\n%s", diff)
	}

	// Named ones are listed, in use or not, once each.
	got, err = b.eng.ListNamespaces(ctx, sparrow.ListNamespacesParams{Namespaces: []string{"zeta", "new", "", "zeta"}})
	if err != nil {
		t.Fatal(err)
	}
	want = []sparrow.NamespaceSummary{
		{Namespace: "default", Webhooks: 1},
		{Namespace: "new"},
		{Namespace: "zeta", LastEventAt: latest},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Fatalf("named namespaces (-want +got):\n%s", diff)
	}

	_, err = b.eng.ListNamespaces(ctx, sparrow.ListNamespacesParams{Namespaces: []string{"ok", "not ok"}})
	var invalid *sparrow.InvalidArgumentError
	if !errors.As(err, &invalid) || invalid.Field != "namespaces[1]" {
		t.Fatalf("an invalid name: %v, want InvalidArgument on namespaces[1]", err)
	}
}
