package sparrow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

func secretKey(id string, b byte) sparrow.SecretKey {
	return sparrow.SecretKey{ID: id, Key: bytes.Repeat([]byte{b}, 32)}
}

// storedSecrets reads a webhook's secret rows as stored.
func storedSecrets(t *testing.T, b *testBundle, webhookID string) (plain []string, keyIDs []string, sealed [][]byte) {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), "SELECT coalesce(secret, ''), coalesce(key_id, ''), sealed FROM "+
		pgx.Identifier{b.schema, "sparrow_webhook_secret"}.Sanitize()+" WHERE webhook_id = $1 ORDER BY created_at", webhookID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, k string
		var s []byte
		if err := rows.Scan(&p, &k, &s); err != nil {
			t.Fatal(err)
		}
		plain, keyIDs, sealed = append(plain, p), append(keyIDs, k), append(sealed, s)
	}
	return plain, keyIDs, sealed
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := setup(t, sparrow.WithSecretKeys(secretKey("k1", 1)), sparrow.WithLogger(logger))
	b.start(t)
	rcv := newReceiver(t, nil)
	const secret = "whsec_c2VjcmV0LWF0LXJlc3QtMTIzNDU2Nzg5MA=="
	w, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.Secret = secret })
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))

	plain, keyIDs, sealed := storedSecrets(t, b, w.ID)
	if len(plain) != 1 || plain[0] != "" || keyIDs[0] != "k1" || len(sealed[0]) == 0 || bytes.Contains(sealed[0], []byte(secret)) {
		t.Fatalf("stored: plain %q key %q sealed %x", plain, keyIDs, sealed)
	}
	req := rcv.received()[0]
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Fatalf("a delivery signed with the sealed secret does not verify: %v", err)
	}
	revealed, err := b.eng.RevealWebhookSecret(ctx, "default", w.ID)
	if err != nil || revealed != secret {
		t.Fatalf("RevealWebhookSecret = %q, %v", revealed, err)
	}
	got, err := b.eng.GetWebhook(ctx, "default", w.ID)
	if err != nil || got.Secret != "" {
		t.Fatalf("GetWebhook shows the secret: %q (%v)", got.Secret, err)
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), strings.TrimPrefix(secret, "whsec_")) {
		t.Fatal("a secret reached the logs")
	}
}

func TestSecretKeyRotation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	// Secrets stored in the clear by an engine without keys...
	b := setup(t)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/a", Secret: "plain-stored-secret"})
	// ...then an engine gets key k1: re-sealing covers them.
	withK1, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithSecretKeys(secretKey("k1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := withK1.ResealSecrets(ctx); err != nil || n != 1 {
		t.Fatalf("ResealSecrets = %d, %v; want 1", n, err)
	}
	if plain, keyIDs, _ := storedSecrets(t, b, w.ID); plain[0] != "" || keyIDs[0] != "k1" {
		t.Fatalf("after sealing: plain %q key %q", plain, keyIDs)
	}
	// Rotate to k2, keeping k1 to read what it sealed until re-sealed.
	withBoth, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithSecretKeys(secretKey("k2", 2), secretKey("k1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := withBoth.RevealWebhookSecret(ctx, "default", w.ID); err != nil || s != "plain-stored-secret" {
		t.Fatalf("reveal under k1 with k2 current: %q, %v", s, err)
	}
	if n, err := withBoth.ResealSecrets(ctx); err != nil || n != 1 {
		t.Fatalf("re-sealing under k2 = %d, %v", n, err)
	}
	if n, _ := withBoth.ResealSecrets(ctx); n != 0 {
		t.Fatalf("a second re-sealing did %d", n)
	}
	onlyK2, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithSecretKeys(secretKey("k2", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := onlyK2.RevealWebhookSecret(ctx, "default", w.ID); err != nil || s != "plain-stored-secret" {
		t.Fatalf("reveal with k1 dropped: %q, %v", s, err)
	}
	if _, err := withK1.RevealWebhookSecret(ctx, "default", w.ID); err == nil {
		t.Fatal("a retired key still opens the secret")
	}
	if _, err := sparrow.New(b.pool, sparrow.WithSecretKeys(sparrow.SecretKey{ID: "short", Key: []byte("16-bytes-is-weak")})); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

// TestStartReseals checks the engine re-seals stored secrets and headers in
// the background when started with keys.
func TestStartReseals(t *testing.T) {
	t.Parallel()

	b := setup(t)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/a", Secret: "left-in-the-clear",
		Headers: map[string]string{"X-Api-Key": "header-left-in-the-clear"}})
	eng, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithSecretKeys(secretKey("k1", 1)),
		sparrow.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	b.start(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		plain, keyIDs, _ := storedSecrets(t, b, w.ID)
		if plain[0] == "" && keyIDs[0] == "k1" && storedHeaders(t, b, w.ID).keyID == "k1" {
			wantHeadersStored(t, b, w.ID, "k1", map[string]string{"X-Api-Key": "header-left-in-the-clear"})
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the started engine did not seal the secret and headers stored in the clear")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSecretLength: a signing secret given must be strong enough to sign
// with: a whsec_ key of 24 to 64 bytes, as Standard Webhooks has it, or a
// passphrase of 8 bytes or more; a refused one changes nothing.
func TestSecretLength(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	for secret, ok := range map[string]bool{
		"x": false, "1234567": false, key(8): false, key(23): false, key(65): false,
		"12345678": true, "your-secret": true, key(24): true, key(64): true,
	} {
		_, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: "https://example.com/hooks", Secret: secret})
		switch {
		case ok && err != nil:
			t.Errorf("secret %q refused: %v", secret, err)
		case !ok:
			wantInvalid(t, err, "webhook_secret")
		}
	}
	if n := b.count(t, "sparrow_webhook"); n != 4 {
		t.Fatalf("%d webhooks stored, want the 4 with acceptable secrets", n)
	}
}

// TestStartRefusesMissingSecretKey: an engine not given the key that
// stored secrets are sealed with refuses to start, naming the key, rather
// than start and fail every reveal and delivery of those webhooks.
func TestStartRefusesMissingSecretKey(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithSecretKeys(secretKey("k1", 1)))
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/hooks", Events: []string{"order.created"}})
	for name, opts := range map[string][]sparrow.Option{
		"NoKeys":     nil,
		"AnotherKey": {sparrow.WithSecretKeys(secretKey("k2", 2))},
	} {
		eng := newEngine(t, b.schema, opts...)
		err := eng.Start(ctx)
		if err == nil {
			eng.Stop(ctx)
		}
		if !errors.Is(err, sparrow.ErrMissingSecretKey) || !strings.Contains(err.Error(), `"k1"`) {
			t.Errorf("%s: Start = %v, want ErrMissingSecretKey naming k1", name, err)
		}
	}
	rotated := newEngine(t, b.schema, sparrow.WithSecretKeys(secretKey("k2", 2), secretKey("k1", 1)))
	if err := rotated.Start(ctx); err != nil {
		t.Fatalf("with k1 as a previous key: %v", err)
	}
	rotated.Stop(ctx)
}
