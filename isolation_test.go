package sparrow_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
)

// TestNamespaceIsolation addresses every namespaced resource of namespace
// "a" from namespace "b": each call must fail with ErrNotFound (or list
// nothing) and change nothing. Every exported Engine method must appear
// here or in notNamespaced, so a new method can't skip the check.
func TestNamespaceIsolation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "a", URL: rcv.URL, Events: []string{"order.created"}})
	subs, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{Namespace: "a"})
	if err != nil {
		t.Fatal(err)
	}
	sub := subs.Items[0]
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "a", Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, "a", ev.ID, 1)[0]
	b.waitDelivery(t, "a", d.ID, statusIs(delivery.StatusSucceeded))
	rec, err := b.eng.RecoverWebhook(ctx, sparrow.RecoverWebhookParams{Namespace: "a", WebhookID: w.ID, Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	notFound := map[string]func() error{
		"GetWebhook": func() error { _, err := b.eng.GetWebhook(ctx, "b", w.ID); return err },
		"UpdateWebhook": func() error {
			_, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{Namespace: "b", ID: w.ID, URL: ptr("http://127.0.0.1:1/evil")})
			return err
		},
		"PauseWebhook":  func() error { _, err := b.eng.PauseWebhook(ctx, "b", w.ID); return err },
		"ResumeWebhook": func() error { _, err := b.eng.ResumeWebhook(ctx, "b", w.ID); return err },
		"DeleteWebhook": func() error { return b.eng.DeleteWebhook(ctx, "b", w.ID) },
		"RotateWebhookSecret": func() error {
			_, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{Namespace: "b", ID: w.ID})
			return err
		},
		"CreateSubscription": func() error {
			_, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{Namespace: "b", WebhookID: w.ID, EventName: "order.created"})
			return err
		},
		"GetSubscription": func() error { _, err := b.eng.GetSubscription(ctx, "b", sub.ID); return err },
		"UpdateSubscription": func() error {
			_, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{Namespace: "b", ID: sub.ID, Active: ptr(false)})
			return err
		},
		"DeleteSubscription":  func() error { return b.eng.DeleteSubscription(ctx, "b", sub.ID) },
		"GetEvent":            func() error { _, err := b.eng.GetEvent(ctx, "b", ev.ID); return err },
		"RevealWebhookSecret": func() error { _, err := b.eng.RevealWebhookSecret(ctx, "b", w.ID); return err },
		"SendTestEvent": func() error {
			_, err := b.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{Namespace: "b", WebhookID: w.ID, Name: "order.created"})
			return err
		},
		"GetWebhookHealth": func() error { _, err := b.eng.GetWebhookHealth(ctx, "b", w.ID); return err },
		"GetWebhookHealthOver": func() error {
			_, err := b.eng.GetWebhookHealthOver(ctx, "b", w.ID, health.WindowDay)
			return err
		},
		"RepushEvent":   func() error { _, err := b.eng.RepushEvent(ctx, "b", ev.ID); return err },
		"GetDelivery":   func() error { _, err := b.eng.GetDelivery(ctx, "b", d.ID); return err },
		"RetryDelivery": func() error { _, err := b.eng.RetryDelivery(ctx, "b", d.ID); return err },
		"RecoverWebhook": func() error {
			_, err := b.eng.RecoverWebhook(ctx, sparrow.RecoverWebhookParams{Namespace: "b", WebhookID: w.ID, Since: time.Now().Add(-time.Hour)})
			return err
		},
		"GetRecovery":    func() error { _, err := b.eng.GetRecovery(ctx, "b", rec.ID); return err },
		"CancelRecovery": func() error { _, err := b.eng.CancelRecovery(ctx, "b", rec.ID); return err },
		"RetryFailedDeliveries": func() error {
			_, err := b.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{Namespace: "b", WebhookID: w.ID, Since: time.Unix(0, 0)})
			return err
		},
	}
	listsNothing := map[string]func() (int, error){
		"ListWebhooks": func() (int, error) {
			p, err := b.eng.ListWebhooks(ctx, sparrow.ListWebhooksParams{Namespace: "b"})
			return len(p.Items), err
		},
		"ListSubscriptions": func() (int, error) {
			p, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{Namespace: "b", WebhookID: w.ID})
			return len(p.Items), err
		},
		"ListEvents": func() (int, error) {
			p, err := b.eng.ListEvents(ctx, sparrow.ListEventsParams{Namespace: "b"})
			return len(p.Items), err
		},
		"GetHealthSummary": func() (int, error) {
			s, err := b.eng.GetHealthSummary(ctx, "b")
			return len(s.Worst) + s.Attempts + s.Webhooks["unknown"] + s.Webhooks["healthy"], err
		},
		"ListRecoveries": func() (int, error) {
			p, err := b.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{Namespace: "b", WebhookID: w.ID})
			return len(p.Items), err
		},
		"ListNamespaces": func() (int, error) {
			ns, err := b.eng.ListNamespaces(ctx, sparrow.ListNamespacesParams{Namespaces: []string{"b"}})
			n := 0
			for _, s := range ns {
				n += s.Webhooks + s.Subscriptions
				if !s.LastEventAt.IsZero() {
					n++
				}
			}
			return n, err
		},
		"ListDeliveries": func() (int, error) {
			p, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{Namespace: "b", WebhookID: w.ID, EventID: ev.ID})
			return len(p.Items), err
		},
	}
	// Methods that address no namespaced resource, with the reason.
	notNamespaced := map[string]string{
		"Install":           "engine wiring",
		"Ready":             "engine wiring",
		"ResealSecrets":     "engine maintenance, every namespace",
		"Backlog":           "engine wiring, every namespace",
		"RiverClient":       "engine wiring",
		"Start":             "engine wiring",
		"Stop":              "engine wiring",
		"RegisterEventType": "event types are global",
		"GetEventType":      "event types are global",
		"ListEventTypes":    "event types are global",
		"UpdateEventType":   "event types are global",
		"PushEvent":         "creates in the namespace it names",
		"PushEvents":        "creates in the namespaces it names",
		"RegisterWebhook":   "creates in the namespace it names",
		"RenderTemplate":    "reads and writes nothing stored",
		"TestFilter":        "reads and writes nothing stored",
	}

	engineType := reflect.TypeOf(b.eng)
	for i := range engineType.NumMethod() {
		name := strings.TrimSuffix(engineType.Method(i).Name, "Tx") // a Tx twin shares its method's code
		_, nf := notFound[name]
		_, ln := listsNothing[name]
		_, exempt := notNamespaced[name]
		if !nf && !ln && !exempt {
			t.Errorf("Engine.%s has no row in TestNamespaceIsolation", engineType.Method(i).Name)
		}
	}

	for name, call := range notFound {
		t.Run(name, func(t *testing.T) { wantErr(t, call(), sparrow.ErrNotFound) })
	}
	for name, call := range listsNothing {
		t.Run(name, func(t *testing.T) {
			n, err := call()
			if err != nil || n != 0 {
				t.Fatalf("listed %d items of namespace a from b (err %v)", n, err)
			}
		})
	}

	after, err := b.eng.GetWebhook(ctx, "a", w.ID)
	if err != nil {
		t.Fatalf("namespace a's webhook is gone: %v", err)
	}
	if after.URL != rcv.URL || after.State != w.State || !after.UpdatedAt.Equal(w.UpdatedAt) {
		t.Fatalf("namespace b changed namespace a's webhook: %+v", after)
	}
	if s, err := b.eng.GetSubscription(ctx, "a", sub.ID); err != nil || !s.Active {
		t.Fatalf("namespace b changed namespace a's subscription: %+v %v", s, err)
	}
	if dd, err := b.eng.GetDelivery(ctx, "a", d.ID); err != nil || dd.AttemptCount != 1 {
		t.Fatalf("namespace b changed namespace a's delivery: %+v %v", dd, err)
	}
}
