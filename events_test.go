package sparrow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/subscription"
	"github.com/sparrowhq/sparrow/webhook"
)

func TestPushEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Stored", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		payload := []byte(`{"total": 49.99,  "order_id": "ord_123"}`) // odd spacing and key order are kept
		got, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{
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
		if n := b.count(t, "sparrow_fanout_queue"); n != 1 {
			t.Fatalf("%d events queued for fan-out, want 1", n)
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
		valid := sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"a":1}`)}
		with := func(change func(ev *sparrow.PushEventParams)) sparrow.PushEventParams {
			ev := valid
			change(&ev)
			return ev
		}
		tests := []struct {
			name  string
			ev    sparrow.PushEventParams
			field string
		}{
			{"NoEvent", with(func(ev *sparrow.PushEventParams) { ev.Name = "" }), "event"},
			{"Unregistered", with(func(ev *sparrow.PushEventParams) { ev.Name = "order.deleted" }), "event"},
			{"NoPayload", with(func(ev *sparrow.PushEventParams) { ev.Payload = nil }), "payload"},
			{"ArrayPayload", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`[1,2]`) }), "payload"},
			{"StringPayload", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`"x"`) }), "payload"},
			{"BrokenJSON", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`{"a":`) }), "payload"},
			{"TrailingJunk", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`{"a":1} x`) }), "payload"},
			{"InvalidUTF8", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte("{\"a\":\"\xff\"}") }), "payload"},
			{"TooLarge", with(func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`{"a":"` + strings.Repeat("x", 64) + `"}`) }), "payload"},
			{"TooManyLabels", with(func(ev *sparrow.PushEventParams) { ev.Labels = manyLabels }), "labels"},
			{"BadLabelKey", with(func(ev *sparrow.PushEventParams) { ev.Labels = map[string]string{"": "x"} }), "labels[]"},
			{"LabelValueTooLong", with(func(ev *sparrow.PushEventParams) { ev.Labels = map[string]string{"k": strings.Repeat("v", 257)} }), "labels[k]"},
			{"LabelValueNUL", with(func(ev *sparrow.PushEventParams) { ev.Labels = map[string]string{"k": "\x00"} }), "labels[k]"},
			{"NegativeTTL", with(func(ev *sparrow.PushEventParams) { ev.TTL = -time.Second }), "ttl_seconds"},
			{"HugeTTL", with(func(ev *sparrow.PushEventParams) { ev.TTL = 400 * 24 * time.Hour }), "ttl_seconds"},
			{"LongIdempotencyKey", with(func(ev *sparrow.PushEventParams) { ev.IdempotencyKey = strings.Repeat("k", 256) }), "idempotency_key"},
			{"BadNamespace", with(func(ev *sparrow.PushEventParams) { ev.Namespace = "a b" }), "namespace"},
		}
		for _, tt := range tests {
			_, err := b.eng.PushEvent(ctx, tt.ev)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
		if _, err := b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Active: ptr(false)}); err != nil {
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
		ev := sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n":1}`), IdempotencyKey: "order-1"}
		first, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ev.Payload = []byte(`{ "n" : 1.0 }`) // the same value, written otherwise
		second, err := b.eng.PushEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("repeat returned another event (-first +repeat):\n%s", diff)
		}
		// The key reused for another event is a mistake, reported as one.
		for name, edit := range map[string]func(*sparrow.PushEventParams){
			"Payload": func(ev *sparrow.PushEventParams) { ev.Payload = []byte(`{"n":2}`) },
			"Labels":  func(ev *sparrow.PushEventParams) { ev.Labels = map[string]string{"plan": "pro"} },
		} {
			other := ev
			edit(&other)
			_, err := b.eng.PushEvent(ctx, other)
			wantInvalid(t, err, "idempotency_key")
			if !strings.Contains(err.Error(), `"order-1"`) || !strings.Contains(err.Error(), first.ID) {
				t.Fatalf("%s: %v, want the key and the first event named", name, err)
			}
		}
		ev.Payload = []byte(`{"n":1}`)
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
		if n := b.count(t, "sparrow_fanout_queue"); n != 2 {
			t.Fatalf("%d events queued for fan-out, want 2", n)
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

	// Rolled back: no event, nothing queued, so nothing can ever be
	// delivered.
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack, err := b.eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n":"rolled back"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = b.eng.GetEvent(ctx, "default", rolledBack.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	if n, jobs := b.count(t, "sparrow_fanout_queue"), b.countJobs(t, "sparrow_fanout"); n != 0 || jobs != 0 {
		t.Fatalf("a rolled back push left %d events queued and %d fan-out jobs", n, jobs)
	}

	// Committed: delivered.
	tx, err = b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := b.eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n":"committed"}`)})
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

	_, err = b.eng.PushEventTx(ctx, nil, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err == nil {
		t.Fatal("a nil tx was accepted")
	}
}

// txFixture is what every case of TestTxTwins starts from: event types
// order.created and order.paid, a webhook subscribed to order.created, and
// an event of that type (no worker has run: no delivery yet).
type txFixture struct {
	webhook  *webhook.Webhook
	sub      *subscription.Subscription
	event    *event.Event
	delivery *delivery.Delivery // set by the cases that make one
	recovery *webhook.Recovery  // likewise
}

func newTxFixture(t *testing.T, b *testBundle) *txFixture {
	t.Helper()
	ctx := context.Background()
	b.registerEvent(t, "order.created", "order.paid")
	// The harness's resolver knows no names: a delivery here fails at once.
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://hooks.example.com/", Events: []string{"order.created"}})
	subs, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{WebhookID: w.ID})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n":0}`)})
	if err != nil {
		t.Fatal(err)
	}
	return &txFixture{webhook: w, sub: &subs.Items[0], event: ev}
}

// failFixtureDelivery runs the workers until the fixture's event has a
// failed delivery, then stops them, so that nothing moves while the test
// takes snapshots.
func failFixtureDelivery(t *testing.T, b *testBundle, f *txFixture) {
	t.Helper()
	ctx := context.Background()
	b.start(t)
	d := b.waitDeliveries(t, "default", f.event.ID, 1)[0]
	f.delivery = b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	if err := b.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTxTwins calls every Engine method whose name ends in Tx, found by
// reflection so that a new one without a case fails here: in a transaction
// rolled back, every table of the schema is left as it was; in one
// committed, the change is there. A nil tx is refused as invalid input.
func TestTxTwins(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	tests := map[string]struct {
		// prepare, when set, readies what the call acts on.
		prepare func(t *testing.T, b *testBundle, f *txFixture)
		call    func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error
		// check looks for the change once the call is committed.
		check func(t *testing.T, b *testBundle, f *txFixture)
	}{
		"RegisterEventTypeTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RegisterEventTypeTx(ctx, tx, sparrow.RegisterEventTypeParams{Name: "order.shipped"})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if _, err := b.eng.GetEventType(ctx, "order.shipped"); err != nil {
					t.Fatal(err)
				}
			},
		},
		"UpdateEventTypeTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.UpdateEventTypeTx(ctx, tx, sparrow.UpdateEventTypeParams{Name: "order.created", Description: ptr("changed")})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetEventType(ctx, "order.created"); err != nil || got.Description != "changed" {
					t.Fatalf("event type %+v (%v), want the description changed", got, err)
				}
			},
		},
		"RegisterWebhookTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RegisterWebhookTx(ctx, tx, sparrow.RegisterWebhookParams{URL: "https://hooks.example.com/2", Events: []string{"order.paid"}})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if page, err := b.eng.ListWebhooks(ctx, sparrow.ListWebhooksParams{Event: "order.paid"}); err != nil || len(page.Items) != 1 {
					t.Fatalf("webhooks subscribed to order.paid: %+v (%v), want the one registered", page, err)
				}
			},
		},
		"UpdateWebhookTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.UpdateWebhookTx(ctx, tx, sparrow.UpdateWebhookParams{ID: f.webhook.ID, Description: ptr("changed")})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetWebhook(ctx, "default", f.webhook.ID); err != nil || got.Description != "changed" {
					t.Fatalf("webhook %+v (%v), want the description changed", got, err)
				}
			},
		},
		"PauseWebhookTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.PauseWebhookTx(ctx, tx, "default", f.webhook.ID)
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetWebhook(ctx, "default", f.webhook.ID); err != nil || got.State != webhook.StatePaused {
					t.Fatalf("webhook %+v (%v), want it paused", got, err)
				}
			},
		},
		"ResumeWebhookTx": {
			prepare: func(t *testing.T, b *testBundle, f *txFixture) {
				if _, err := b.eng.PauseWebhook(ctx, "default", f.webhook.ID); err != nil {
					t.Fatal(err)
				}
			},
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.ResumeWebhookTx(ctx, tx, "default", f.webhook.ID)
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetWebhook(ctx, "default", f.webhook.ID); err != nil || got.State != webhook.StateActive {
					t.Fatalf("webhook %+v (%v), want it active", got, err)
				}
				if n := b.countJobs(t, "sparrow_unpark"); n != 1 {
					t.Fatalf("%d unpark jobs, want 1 to release the waiting deliveries", n)
				}
			},
		},
		"DeleteWebhookTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				return eng.DeleteWebhookTx(ctx, tx, "default", f.webhook.ID)
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				_, err := b.eng.GetWebhook(ctx, "default", f.webhook.ID)
				wantErr(t, err, sparrow.ErrNotFound)
			},
		},
		"RotateWebhookSecretTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RotateWebhookSecretTx(ctx, tx, sparrow.RotateWebhookSecretParams{ID: f.webhook.ID, Secret: "the rotated secret"})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.RevealWebhookSecret(ctx, "default", f.webhook.ID); err != nil || got != "the rotated secret" {
					t.Fatalf("secret %q (%v), want the rotated one", got, err)
				}
			},
		},
		"CreateSubscriptionTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.CreateSubscriptionTx(ctx, tx, sparrow.CreateSubscriptionParams{WebhookID: f.webhook.ID, EventName: "order.paid"})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				page, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{WebhookID: f.webhook.ID, EventName: "order.paid"})
				if err != nil || len(page.Items) != 1 {
					t.Fatalf("subscriptions to order.paid: %+v (%v), want the one created", page, err)
				}
			},
		},
		"UpdateSubscriptionTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.UpdateSubscriptionTx(ctx, tx, sparrow.UpdateSubscriptionParams{ID: f.sub.ID, Active: ptr(false)})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetSubscription(ctx, "default", f.sub.ID); err != nil || got.Active {
					t.Fatalf("subscription %+v (%v), want it inactive", got, err)
				}
			},
		},
		"DeleteSubscriptionTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				return eng.DeleteSubscriptionTx(ctx, tx, "default", f.sub.ID)
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				_, err := b.eng.GetSubscription(ctx, "default", f.sub.ID)
				wantErr(t, err, sparrow.ErrNotFound)
			},
		},
		"PushEventTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n":1}`)})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if n, queued := b.count(t, "sparrow_event"), b.count(t, "sparrow_fanout_queue"); n != 2 || queued != 2 {
					t.Fatalf("%d events and %d queued for fan-out, want 2 of each", n, queued)
				}
			},
		},
		"PushEventsTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.PushEventsTx(ctx, tx, []sparrow.PushEventParams{
					{Name: "order.created", Payload: []byte(`{"n":1}`)}, {Name: "order.paid", Payload: []byte(`{"n":2}`)},
				})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if n := b.count(t, "sparrow_event"); n != 3 {
					t.Fatalf("%d events, want 3", n)
				}
			},
		},
		"RepushEventTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RepushEventTx(ctx, tx, "default", f.event.ID)
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if n, queued := b.countJobs(t, "sparrow_fanout"), b.count(t, "sparrow_fanout_queue"); n != 1 || queued != 1 {
					t.Fatalf("%d fan-out jobs and %d events queued, want the repush's job and the push queued", n, queued)
				}
			},
		},
		"RetryDeliveryTx": {
			prepare: failFixtureDelivery,
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RetryDeliveryTx(ctx, tx, "default", f.delivery.ID)
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				// No workers run here: the manual attempt stays asked for.
				if got, err := b.eng.GetDelivery(ctx, "default", f.delivery.ID); err != nil || !got.RetryRequested || got.Status != delivery.StatusFailed {
					t.Fatalf("delivery %+v (%v), want it failed with a manual attempt asked for", got, err)
				}
			},
		},
		"SendTestEventTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.SendTestEventTx(ctx, tx, sparrow.SendTestEventParams{WebhookID: f.webhook.ID, Name: "order.paid", Payload: []byte(`{}`)})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if page, err := b.eng.ListEvents(ctx, sparrow.ListEventsParams{Name: "order.paid"}); err != nil || len(page.Items) != 1 {
					t.Fatalf("events of the test type: %v (%v), want the test event", page, err)
				}
			},
		},
		"RecoverWebhookTx": {
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.RecoverWebhookTx(ctx, tx, sparrow.RecoverWebhookParams{WebhookID: f.webhook.ID, Since: time.Now().Add(-time.Hour)})
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if page, err := b.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{WebhookID: f.webhook.ID}); err != nil || len(page.Items) != 1 {
					t.Fatalf("recoveries %v (%v), want the one started", page, err)
				}
			},
		},
		"CancelRecoveryTx": {
			// No workers run here: the recovery stays running until cancelled.
			prepare: func(t *testing.T, b *testBundle, f *txFixture) {
				var err error
				if f.recovery, err = b.eng.RecoverWebhook(ctx, sparrow.RecoverWebhookParams{WebhookID: f.webhook.ID, Since: time.Now().Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
			},
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				_, err := eng.CancelRecoveryTx(ctx, tx, "default", f.recovery.ID)
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				if got, err := b.eng.GetRecovery(ctx, "default", f.recovery.ID); err != nil || got.Status != webhook.RecoveryCancelled {
					t.Fatalf("recovery %+v (%v), want it cancelled", got, err)
				}
			},
		},
		"RetryFailedDeliveriesTx": {
			prepare: failFixtureDelivery,
			call: func(eng *sparrow.Engine, tx pgx.Tx, f *txFixture) error {
				n, err := eng.RetryFailedDeliveriesTx(ctx, tx, sparrow.RetryFailedDeliveriesParams{WebhookID: f.webhook.ID, Since: f.delivery.CompletedAt})
				if err == nil && n != 1 {
					err = fmt.Errorf("retried %d deliveries, want 1", n)
				}
				return err
			},
			check: func(t *testing.T, b *testBundle, f *txFixture) {
				// No workers run here: the manual attempt stays asked for.
				if got, err := b.eng.GetDelivery(ctx, "default", f.delivery.ID); err != nil || !got.RetryRequested || got.Status != delivery.StatusFailed {
					t.Fatalf("delivery %+v (%v), want it failed with a manual attempt asked for", got, err)
				}
			},
		},
	}

	engine := reflect.TypeFor[*sparrow.Engine]()
	var twins []reflect.Method
	for i := range engine.NumMethod() {
		if m := engine.Method(i); strings.HasSuffix(m.Name, "Tx") {
			twins = append(twins, m)
			if _, ok := tests[m.Name]; !ok {
				t.Errorf("Engine.%s has no case in TestTxTwins", m.Name)
			}
		}
	}
	for name := range tests {
		if _, ok := engine.MethodByName(name); !ok {
			t.Errorf("TestTxTwins has a case for %s, which Engine lacks", name)
		}
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			f := newTxFixture(t, b)
			if tt.prepare != nil {
				tt.prepare(t, b, f)
			}
			inTx := func(finish func(pgx.Tx, context.Context) error) {
				t.Helper()
				tx, err := b.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback(ctx)
				if err := tt.call(b.eng, tx, f); err != nil {
					t.Fatal(err)
				}
				if err := finish(tx, ctx); err != nil {
					t.Fatal(err)
				}
			}

			before := b.snapshot(t)
			inTx(pgx.Tx.Rollback)
			if diff := cmp.Diff(before, b.snapshot(t)); diff != "" {
				t.Fatalf("rolled back, yet the tables changed (-before +after):\n%s", diff)
			}
			inTx(pgx.Tx.Commit)
			if cmp.Equal(before, b.snapshot(t)) {
				t.Fatal("committed, yet no table changed")
			}
			tt.check(t, b, f)
		})
	}

	t.Run("NilTx", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		newTxFixture(t, b)
		before := b.snapshot(t)
		for _, m := range twins {
			// Zero arguments after the nil tx: it must be refused first.
			args := []reflect.Value{reflect.ValueOf(b.eng), reflect.ValueOf(ctx)}
			for i := len(args); i < m.Type.NumIn(); i++ {
				args = append(args, reflect.Zero(m.Type.In(i)))
			}
			out := m.Func.Call(args)
			err, _ := out[len(out)-1].Interface().(error)
			if !errors.Is(err, sparrow.ErrInvalidArgument) {
				t.Errorf("%s(ctx, nil, ...) = %v, want an error matching ErrInvalidArgument", m.Name, err)
			}
		}
		if diff := cmp.Diff(before, b.snapshot(t)); diff != "" {
			t.Fatalf("nil tx calls changed the tables (-before +after):\n%s", diff)
		}
	})
}

// snapshot returns every row of every table in the bundle's schema, River's
// included, as JSON text: two snapshots are equal only if nothing changed.
func (b *testBundle) snapshot(t *testing.T) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := b.pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, b.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	snap := make(map[string][]string, len(tables))
	for _, table := range tables {
		var contents []string
		if err := b.pool.QueryRow(ctx, "SELECT coalesce(array_agg(row_to_json(t)::text ORDER BY row_to_json(t)::text), '{}') FROM "+
			pgx.Identifier{b.schema, table}.Sanitize()+" t").Scan(&contents); err != nil {
			t.Fatal(err)
		}
		snap[table] = contents
	}
	return snap
}

func TestPushEvents(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Batch", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created", "order.paid")
		evs := make([]sparrow.PushEventParams, 250)
		for i := range evs {
			evs[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
		}
		evs[10].Name, evs[11].IdempotencyKey, evs[12].IdempotencyKey = "order.paid", "same", "same"
		evs[12].Payload = evs[11].Payload
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
		evs := []sparrow.PushEventParams{
			{Name: "order.created", Payload: []byte(`{}`)},
			{Name: "order.created", Payload: []byte(`[]`)},
		}
		_, err := b.eng.PushEvents(ctx, evs)
		wantInvalid(t, err, "events[1].payload")
		evs[1] = sparrow.PushEventParams{Name: "order.nope", Payload: []byte(`{}`)}
		_, err = b.eng.PushEvents(ctx, evs)
		wantInvalid(t, err, "events[1].event")
		evs[1] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n": 2}`), IdempotencyKey: "k"}
		evs[0].IdempotencyKey = "k"
		_, err = b.eng.PushEvents(ctx, evs)
		wantInvalid(t, err, "events[1].idempotency_key") // one key, two events
		_, err = b.eng.PushEvents(ctx, nil)
		wantInvalid(t, err, "events")
		_, err = b.eng.PushEvents(ctx, make([]sparrow.PushEventParams, sparrow.MaxPushBatch+1))
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
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: name, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		all = append([]string{ev.ID}, all...)
	}
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "other", Name: "a.created", Payload: []byte(`{}`)}); err != nil {
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
	for _, tt := range []struct {
		name  string
		p     sparrow.ListEventsParams
		field string
	}{
		{"LimitNegative", sparrow.ListEventsParams{Limit: -1}, "limit"},
		{"LimitOverMax", sparrow.ListEventsParams{Limit: 101}, "limit"},
		{"CursorNotBase64", sparrow.ListEventsParams{Cursor: "!!not a cursor!!"}, "cursor"},
		{"CursorTooLong", sparrow.ListEventsParams{Cursor: strings.Repeat("A", 400)}, "cursor"},
		{"Name", sparrow.ListEventsParams{Name: "bad name"}, "event"},
		{"Namespace", sparrow.ListEventsParams{Namespace: "no spaces"}, "namespace"},
		{"UntilBeforeSince", sparrow.ListEventsParams{Since: now, Until: now.Add(-time.Minute)}, "until"},
		{"UntilIsSince", sparrow.ListEventsParams{Since: now, Until: now}, "until"},
	} {
		_, err := b.eng.ListEvents(ctx, tt.p)
		t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
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
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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

// TestFanoutIdempotent fans one event out twice, as River may run a job
// twice after a crash: the second fan-out must create nothing.
func TestFanoutIdempotent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	for name, push := range map[string]func(t *testing.T, b *testBundle) *event.Event{
		// A batch's fan-out job, duplicated before any worker runs.
		"JobRunTwice": func(t *testing.T, b *testBundle) *event.Event {
			evs, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s.river_job (args, kind, max_attempts, priority, queue, state, scheduled_at)
SELECT args, kind, max_attempts, priority, queue, state, scheduled_at FROM %[1]s.river_job WHERE kind = 'sparrow_fanout'`, b.schema)); err != nil {
				t.Fatal(err)
			}
			return evs[0]
		},
		// A queued event that a fan-out job also names.
		"QueuedAndJob": func(t *testing.T, b *testBundle) *event.Event {
			ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			inserter, err := river.NewClient(riverpgxv5.New(b.pool), &river.Config{Schema: b.schema})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inserter.Insert(ctx, riverworkers.FanoutArgs{EventIDs: []string{ev.ID}}, &river.InsertOpts{Queue: sparrow.QueueDefault}); err != nil {
				t.Fatal(err)
			}
			return ev
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			b := setup(t)
			rcv := newReceiver(t, nil)
			b.registerEvent(t, "order.created")
			b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
			ev := push(t, b)
			b.start(t)
			rcv.waitRequests(t, 1)
			b.waitJobsDone(t, "sparrow_fanout", 1)
			if n := b.count(t, "sparrow_fanout_queue"); n != 0 {
				t.Fatalf("%d events left queued", n)
			}
			ds := b.waitDeliveries(t, "default", ev.ID, 1)
			if len(ds) != 1 {
				t.Fatalf("%d deliveries from an event fanned out twice, want 1", len(ds))
			}
			b.waitDelivery(t, "default", ds[0].ID, func(d *delivery.Delivery) bool { return d.Status == delivery.StatusSucceeded })
			if n := len(rcv.received()); n != 1 {
				t.Fatalf("received %d requests, want 1", n)
			}
		})
	}
}

func TestGetEvent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "a", Name: "order.created", Payload: json.RawMessage(`{"x":1}`)})
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
			_, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(bad)})
			wantInvalid(t, err, "schema")
		}
		if n := b.countUserEventTypes(t); n != 0 {
			t.Fatalf("refused schemas stored %d types", n)
		}
	})

	t.Run("PushChecked", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		registered, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(schema)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.eng.GetEventType(ctx, "order.created")
		if err != nil || string(got.Schema) == "" || string(registered.Schema) != schema {
			t.Fatalf("schema not kept: %s / %v", got.Schema, err)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id": "ord_1", "total": 5}`)}); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id": "ord_1", "total": -5}`)})
		wantInvalid(t, err, "payload")
		if !strings.Contains(err.Error(), "/total") {
			t.Fatalf("the refusal does not name the failing location: %v", err)
		}
		_, err = b.eng.PushEvents(ctx, []sparrow.PushEventParams{
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
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		// ...then another process adds one.
		other, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Schema: ptr(json.RawMessage(schema))}); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		wantInvalid(t, err, "payload")
		// Removing it lets anything through again.
		if _, err := other.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Schema: ptr(json.RawMessage{})}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("after the schema was removed: %v", err)
		}
	})
}

// doublingSchema is n nested $defs, each applying the next one twice: a
// value checked against it costs 2^n subschemas.
func doublingSchema(n int) string {
	defs := make([]string, n+1)
	for i := range n {
		defs[i] = fmt.Sprintf(`"d%d": {"allOf": [{"$ref": "#/$defs/d%d"}, {"$ref": "#/$defs/d%d"}]}`, i, i+1, i+1)
	}
	defs[n] = fmt.Sprintf(`"d%d": {"type": "string"}`, n)
	return `{"$ref": "#/$defs/d0", "$defs": {` + strings.Join(defs, ", ") + `}}`
}

func TestEventSchemaLimits(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	attack := doublingSchema(21)
	const schema = `{"type": "object", "required": ["order_id"]}`

	t.Run("RegisterRefuses", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		start := time.Now()
		_, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(attack)})
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("took %v to refuse", elapsed)
		}
		wantInvalid(t, err, "schema")
		if want := fmt.Sprintf("more than %d subschemas", event.MaxSchemaExpansion); !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
		if n := b.countUserEventTypes(t); n != 0 {
			t.Fatalf("a refused schema stored %d types", n)
		}
	})

	t.Run("UpdateKeepsTheSchema", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(schema)}); err != nil {
			t.Fatal(err)
		}
		_, err := b.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: "order.created", Schema: ptr(json.RawMessage(attack))})
		wantInvalid(t, err, "schema")
		got, err := b.eng.GetEventType(ctx, "order.created")
		if err != nil {
			t.Fatal(err)
		}
		var kept, want any
		if err := errors.Join(json.Unmarshal(got.Schema, &kept), json.Unmarshal([]byte(schema), &want)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, kept); diff != "" {
			t.Fatalf("schema changed (-want +got):\n%s", diff)
		}
		_, err = b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		wantInvalid(t, err, "payload")
	})

	// A schema stored before the limits (written here behind the engine's
	// back) refuses pushes at once rather than taking seconds for each.
	t.Run("StoredBeforeTheLimits", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		if _, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "sparrow_event_type"}.Sanitize()+
			" SET schema = $1, updated_at = now() WHERE name = 'order.created'", attack); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		wantErr(t, err, sparrow.ErrFailedPrecondition)
		if !strings.Contains(err.Error(), `event type "order.created" has an unusable schema`) || !strings.Contains(err.Error(), "subschemas") {
			t.Fatalf("err = %v, want it to name the type and the limit", err)
		}
		_, err = b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}})
		wantErr(t, err, sparrow.ErrFailedPrecondition)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("took %v to refuse two pushes", elapsed)
		}
		if n := b.count(t, "sparrow_event"); n != 0 {
			t.Fatalf("%d events stored", n)
		}
	})

	// A schema within the limits can still be slow on a large payload: 801
	// subschemas for each of 1000 members take about 0.4 s.
	t.Run("SlowPayload", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		slow := `{"$defs": {"n": {"type": "number", "minimum": 0}}, "additionalProperties": {"allOf": [` +
			strings.TrimSuffix(strings.Repeat(`{"$ref": "#/$defs/n"}, `, 400), ", ") + `]}}`
		if _, err := b.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(slow)}); err != nil {
			t.Fatal(err)
		}
		members := make([]string, 1000)
		for i := range members {
			members[i] = fmt.Sprintf(`"m%d": %d`, i, i)
		}
		start := time.Now()
		_, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte("{" + strings.Join(members, ", ") + "}")})
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("took %v to refuse", elapsed)
		}
		wantInvalid(t, err, "payload")
		if want := fmt.Sprintf("took longer than %v", event.MaxValidateTime); !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
		if n := b.count(t, "sparrow_event"); n != 0 {
			t.Fatalf("%d events stored", n)
		}
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"m": 1}`)}); err != nil {
			t.Fatalf("a small payload refused: %v", err)
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
			p := sparrow.RegisterEventTypeParams{Name: "order.created"}
			if withSchema {
				p.Schema = json.RawMessage(schema)
			}
			if _, err := bundle.eng.RegisterEventType(ctx, p); err != nil {
				b.Fatal(err)
			}
			b.Run("PushEvent", func(b *testing.B) {
				for b.Loop() {
					if _, err := bundle.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: payload}); err != nil {
						b.Fatal(err)
					}
				}
			})
			// A batch checks every payload against the schema compiled once.
			b.Run("PushEvents100", func(b *testing.B) {
				batch := make([]sparrow.PushEventParams, 100)
				for i := range batch {
					batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: payload}
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

// TestSystemEventsNotPushable: only the engine pushes Sparrow's own event
// types, which receivers trust as its alerts; a push of one is refused
// (ErrPermissionDenied) and stores nothing, alone, in a batch or in a
// transaction.
func TestSystemEventsNotPushable(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, _ := subscribedBundle(t)
	forged := sparrow.PushEventParams{Name: event.TypeWebhookDisabled, Payload: []byte(`{"webhook_id": "wh_x"}`)}
	_, err := b.eng.PushEvent(ctx, forged)
	wantErr(t, err, sparrow.ErrPermissionDenied)
	_, err = b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}, forged})
	wantErr(t, err, sparrow.ErrPermissionDenied)
	if !strings.Contains(err.Error(), "events[1]") {
		t.Fatalf("the batch's refusal %q does not name the event", err)
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = b.eng.PushEventTx(ctx, tx, forged)
	wantErr(t, err, sparrow.ErrPermissionDenied)
	if n := b.count(t, "sparrow_event"); n != 0 {
		t.Fatalf("%d events stored by refused pushes", n)
	}
}

// TestListEventsHideSystemEvents lists a namespace with one of Sparrow's own
// events (an exhausted delivery's alert) among its events, then without.
func TestListEventsHideSystemEvents(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 1 })
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
	names := func(p sparrow.ListEventsParams) []string {
		t.Helper()
		page, err := b.eng.ListEvents(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range page.Items {
			out = append(out, ev.Name)
		}
		return out
	}
	if all := names(sparrow.ListEventsParams{}); !slices.Contains(all, event.TypeDeliveryExhausted) || !slices.Contains(all, "order.created") {
		t.Errorf("every event: %v, want %s and order.created among them", all, event.TypeDeliveryExhausted)
	}
	if diff := cmp.Diff([]string{"order.created"}, names(sparrow.ListEventsParams{HideSystemEvents: true})); diff != "" {
		t.Errorf("without Sparrow's own (-want +got):\n%s", diff)
	}
	if got := names(sparrow.ListEventsParams{HideSystemEvents: true, Name: event.TypeDeliveryExhausted}); len(got) != 0 {
		t.Errorf("asked for a system event type and to hide them: %v", got)
	}
}
