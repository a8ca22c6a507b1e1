package sparrow_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/webhook"
)

// headersRow is a webhook's custom headers as stored.
type headersRow struct {
	headers map[string]string
	keyID   string
	sealed  []byte
}

// storedHeaders reads a webhook's headers columns as stored.
func storedHeaders(t *testing.T, b *testBundle, webhookID string) headersRow {
	t.Helper()
	var r headersRow
	if err := b.pool.QueryRow(context.Background(), "SELECT headers, coalesce(headers_key_id, ''), headers_sealed FROM "+
		pgx.Identifier{b.schema, "sparrow_webhook"}.Sanitize()+" WHERE id = $1", webhookID).Scan(&r.headers, &r.keyID, &r.sealed); err != nil {
		t.Fatal(err)
	}
	return r
}

// tablesHolding returns the tables of b's schema, Sparrow's and River's,
// with a row whose text form contains value.
func tablesHolding(t *testing.T, b *testBundle, value string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := b.pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", b.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var holding []string
	for _, table := range tables {
		var found bool
		if err := b.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{b.schema, table}.Sanitize()+
			" x WHERE strpos(x::text, $1) > 0)", value).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if found {
			holding = append(holding, table)
		}
	}
	return holding
}

// wantHeadersStored checks how webhookID's headers, want, are stored:
// sealed with keyID (no table holding a value), or in the clear when keyID
// is empty.
func wantHeadersStored(t *testing.T, b *testBundle, webhookID, keyID string, want map[string]string) {
	t.Helper()
	row := storedHeaders(t, b, webhookID)
	if keyID == "" {
		if diff := cmp.Diff(want, row.headers); diff != "" || row.keyID != "" || row.sealed != nil {
			t.Fatalf("headers in the clear (-want +got):\n%s\nkey %q, sealed %x", diff, row.keyID, row.sealed)
		}
		return
	}
	if diff := cmp.Diff(webhook.MaskHeaders(want), row.headers); diff != "" {
		t.Fatalf("the headers column of sealed headers (-want +got):\n%s", diff)
	}
	if row.keyID != keyID || len(row.sealed) == 0 {
		t.Fatalf("headers sealed under %q (%d bytes), want %q", row.keyID, len(row.sealed), keyID)
	}
	for _, value := range want {
		if tables := tablesHolding(t, b, value); len(tables) != 0 {
			t.Fatalf("header value %q stored in the clear in %v", value, tables)
		}
	}
}

func TestHeadersEncryptedAtRest(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name  string
		keyID string
		opts  []sparrow.Option
	}{
		{name: "WithKeys", keyID: "k1", opts: []sparrow.Option{sparrow.WithSecretKeys(secretKey("k1", 1))}},
		// Without keys, as before: in the clear.
		{name: "WithoutKeys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			b := setup(t, append(tt.opts, sparrow.WithLogger(logger))...)
			b.start(t)
			rcv := newReceiver(t, nil)
			b.registerEvent(t, "order.created")
			registered := map[string]string{"Authorization": "Bearer tok-registered", "X-Tenant": "tenant-registered"}
			w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Headers: registered})
			wantHeadersStored(t, b, w.ID, tt.keyID, registered)

			// One value kept through its mask, one changed, one added.
			updated := map[string]string{"Authorization": "Bearer tok-registered", "X-Tenant": "tenant-updated", "X-Extra": "extra-added"}
			got, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID,
				Headers: ptr(map[string]string{"Authorization": webhook.MaskedHeaderValue, "X-Tenant": "tenant-updated", "X-Extra": "extra-added"})})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(webhook.MaskHeaders(updated), got.Headers); diff != "" {
				t.Fatalf("headers shown (-want +got):\n%s", diff)
			}
			wantHeadersStored(t, b, w.ID, tt.keyID, updated)
			// An update leaving the headers out leaves them as they are.
			if _, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Description: ptr("edited")}); err != nil {
				t.Fatal(err)
			}
			wantHeadersStored(t, b, w.ID, tt.keyID, updated)

			ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
			b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
			header := rcv.received()[0].Header
			for name, value := range updated {
				if header.Get(name) != value {
					t.Errorf("delivered %s: %q, want %q", name, header.Get(name), value)
				}
			}
			if tt.keyID == "" {
				return
			}
			// Nothing recorded since (the attempt, its request headers)
			// holds a value, nor do the logs.
			for _, value := range []string{"Bearer tok-registered", "tenant-registered", "tenant-updated", "extra-added"} {
				if tables := tablesHolding(t, b, value); len(tables) != 0 {
					t.Errorf("header value %q stored in the clear in %v", value, tables)
				}
				if strings.Contains(logs.String(), value) {
					t.Errorf("header value %q reached the logs", value)
				}
			}
		})
	}
}

// TestHeadersReseal checks ResealSecrets seals headers stored in the clear
// once the engine has keys, and moves them to a new current key.
func TestHeadersReseal(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	headers := map[string]string{"Authorization": "Bearer tok-clear-then-sealed"}
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Headers: headers})
	bare := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/bare"})
	wantHeadersStored(t, b, w.ID, "", headers)

	// Two secrets and one webhook's headers: the bare webhook has none to
	// hide.
	withK1 := newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k1", 1)))
	if n, err := withK1.ResealSecrets(ctx); err != nil || n != 3 {
		t.Fatalf("ResealSecrets = %d, %v; want 3", n, err)
	}
	wantHeadersStored(t, b, w.ID, "k1", headers)
	wantHeadersStored(t, b, bare.ID, "", map[string]string{})
	if n, err := withK1.ResealSecrets(ctx); err != nil || n != 0 {
		t.Fatalf("a second re-sealing = %d, %v", n, err)
	}

	withBoth := newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k2", 2), secretKey("k1", 1)))
	if n, err := withBoth.ResealSecrets(ctx); err != nil || n != 3 {
		t.Fatalf("re-sealing under k2 = %d, %v; want 3", n, err)
	}
	wantHeadersStored(t, b, w.ID, "k2", headers)

	b.eng = newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k2", 2)))
	b.start(t)
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := rcv.waitRequests(t, 1)[0].Header.Get("Authorization"); got != headers["Authorization"] {
		t.Fatalf("delivered with Authorization %q after k1 was dropped", got)
	}
}

// TestHeadersUnderRetiredKey checks that headers sealed with a key the
// engine no longer has are never left out of a delivery: the delivery
// waits, and an update can keep none of their values but can replace them.
func TestHeadersUnderRetiredKey(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	// The signing secret stays in the clear, the headers are sealed with
	// k1: only the headers fail to open once k1 is gone.
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	withK1 := newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k1", 1)))
	if _, err := withK1.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID,
		Headers: ptr(map[string]string{"Authorization": "Bearer tok-k1"})}); err != nil {
		t.Fatal(err)
	}

	b.eng = newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k2", 2)))
	_, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID,
		Headers: ptr(map[string]string{"Authorization": webhook.MaskedHeaderValue})})
	wantErr(t, err, sparrow.ErrFailedPrecondition)
	wantHeadersStored(t, b, w.ID, "k1", map[string]string{"Authorization": "Bearer tok-k1"})

	// Start refuses an engine without k1 (ErrMissingSecretKey); a host's
	// own client shows what happens should the key go while workers run.
	b.startHost(t)
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.waitJobError(t, riverworkers.DeliverArgs{}.Kind(), "open custom headers")
	if n := len(rcv.received()); n != 0 {
		t.Fatalf("%d requests sent without the headers", n)
	}
	d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
	if got, err := b.eng.GetDelivery(ctx, "default", d.ID); err != nil || got.Status != delivery.StatusPending || got.AttemptCount != 0 {
		t.Fatalf("delivery after its headers failed to open: %+v, %v; want pending, unattempted", got, err)
	}

	// New values need no old key; the delivery's job, retried, sends them.
	if _, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID,
		Headers: ptr(map[string]string{"Authorization": "Bearer tok-k2"})}); err != nil {
		t.Fatal(err)
	}
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	if got := rcv.received()[0].Header.Get("Authorization"); got != "Bearer tok-k2" {
		t.Fatalf("delivered with Authorization %q", got)
	}
}

// waitJobError waits until a River job of kind has recorded an error
// containing text.
func (b *testBundle) waitJobError(t *testing.T, kind, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := b.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
			" WHERE kind = $1 AND strpos(errors::text, $2) > 0", kind, text).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s job recorded an error containing %q", kind, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
