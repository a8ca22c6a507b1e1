package sparrow_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/webhook"
)

// TestEd25519Signing: a webhook given a "whsk_" signing key signs its
// deliveries with ed25519 ("v1a"), verified with the public key alone; the
// key is sealed at rest like an HMAC secret; a rotation to an HMAC secret
// sends both signatures during its grace period.
func TestEd25519Signing(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithSecretKeys(sparrow.SecretKey{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}))
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	signingKey := webhook.NewSigningKey()
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Secret: signingKey})
	var stored string
	if err := b.pool.QueryRow(ctx, "SELECT coalesce(secret, '') || encode(sealed, 'escape') FROM "+b.schema+".sparrow_webhook_secret WHERE webhook_id = $1",
		w.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, strings.TrimPrefix(signingKey, webhook.SigningKeyPrefix)) {
		t.Fatal("the signing key is stored in the clear")
	}
	// A receiver holding only the public key verifies.
	if err := rcv.SetSecrets(webhook.PublicKey(signingKey)); err != nil {
		t.Fatal(err)
	}
	b.start(t)

	public, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(webhook.PublicKey(signingKey), webhook.PublicKeyPrefix))
	if err != nil {
		t.Fatal(err)
	}
	verifyEd25519 := func(req receivedRequest) {
		t.Helper()
		signed := req.Header.Get("Webhook-Id") + "." + req.Header.Get("Webhook-Timestamp") + "." + string(req.Body)
		for _, sig := range strings.Fields(req.Header.Get("Webhook-Signature")) {
			if raw, ok := strings.CutPrefix(sig, "v1a,"); ok {
				decoded, err := base64.StdEncoding.DecodeString(raw)
				if err == nil && ed25519.Verify(public, []byte(signed), decoded) {
					return
				}
			}
		}
		t.Errorf("no v1a signature verifies with the public key: %q", req.Header.Get("Webhook-Signature"))
	}

	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n": 1}`)}); err != nil {
		t.Fatal(err)
	}
	first := rcv.waitRequests(t, 1)[0]
	if got := first.Header.Get("Webhook-Signature"); strings.Count(got, ",") != 1 || !strings.HasPrefix(got, "v1a,") {
		t.Errorf("signature header %q, want one v1a signature", got)
	}
	verifyEd25519(first)
	if first.SignatureErr != nil {
		t.Errorf("sparrowtest's receiver, given the public key: %v", first.SignatureErr)
	}

	hmacSecret := webhook.NewSecret()
	if _, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID, Secret: hmacSecret}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"n": 2}`)}); err != nil {
		t.Fatal(err)
	}
	second := rcv.waitRequests(t, 2)[1]
	verifyEd25519(second)
	wh, err := standardwebhooks.NewWebhook(hmacSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(second.Body, second.Header); err != nil {
		t.Errorf("during the grace period the new HMAC secret's signature does not verify: %v", err)
	}
	if second.SignatureErr != nil {
		t.Errorf("sparrowtest's receiver, given the old public key, during the grace period: %v", second.SignatureErr)
	}

	// Rotated without a secret given, an ed25519 webhook gets a new
	// signing key, not an HMAC secret.
	other := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Secret: webhook.NewSigningKey()})
	rotated, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.IsSigningKey(rotated.Secret) || rotated.Secret == other.Secret {
		t.Errorf("rotating an ed25519 webhook gave %.8s…, want a new %s key", rotated.Secret, webhook.SigningKeyPrefix)
	}
	_, err = b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: other.ID, Secret: webhook.SigningKeyPrefix + "AAAA"})
	wantInvalid(t, err, "webhook_secret")
}

// TestSignatureScheme: a webhook's scheme and public key are asked for at
// registration or rotation, and every read shows them, without opening the
// sealed secret; a test send to an ed25519 webhook verifies with the
// public key a read gave.
func TestSignatureScheme(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	keys := sparrow.WithSecretKeys(sparrow.SecretKey{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")})
	b := setup(t, keys)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")

	type scheme struct{ Scheme, PublicKey string }
	schemeOf := func(w *webhook.Webhook) scheme { return scheme{w.SignatureScheme, w.PublicKey} }
	// reads returns the scheme every read of webhook id shows, by an
	// engine without the key that sealed the secret.
	keyless := newEngine(t, b.schema)
	reads := func(id string) []scheme {
		t.Helper()
		got, err := keyless.GetWebhook(ctx, "default", id)
		if err != nil {
			t.Fatal(err)
		}
		page, err := keyless.ListWebhooks(ctx, sparrow.ListWebhooksParams{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out := []scheme{schemeOf(got)}
		for i := range page.Items {
			if page.Items[i].ID == id {
				out = append(out, schemeOf(&page.Items[i]))
			}
		}
		updated, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: id, Description: ptr("read back")})
		if err != nil {
			t.Fatal(err)
		}
		return append(out, schemeOf(updated))
	}
	wantReads := func(id string, want scheme) {
		t.Helper()
		if diff := cmp.Diff([]scheme{want, want, want}, reads(id)); diff != "" {
			t.Errorf("get, list and update of %s (-want +got):\n%s", id, diff)
		}
	}

	ed := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, SignatureScheme: webhook.SchemeEd25519})
	edScheme := scheme{webhook.SchemeEd25519, webhook.PublicKey(ed.Secret)}
	if !webhook.IsSigningKey(ed.Secret) || schemeOf(ed) != edScheme || !strings.HasPrefix(ed.PublicKey, webhook.PublicKeyPrefix) {
		t.Fatalf("registered for ed25519: secret %.8s…, %+v; want a %s key and its public key", ed.Secret, schemeOf(ed), webhook.SigningKeyPrefix)
	}
	wantReads(ed.ID, edScheme)
	given := webhook.NewSigningKey()
	byKey := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Secret: given})
	wantReads(byKey.ID, scheme{webhook.SchemeEd25519, webhook.PublicKey(given)})
	hmac := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL})
	if !strings.HasPrefix(hmac.Secret, webhook.SecretPrefix) || schemeOf(hmac) != (scheme{Scheme: webhook.SchemeHMAC}) {
		t.Fatalf("registered by default: secret %.8s…, %+v; want an HMAC secret", hmac.Secret, schemeOf(hmac))
	}
	wantReads(hmac.ID, scheme{Scheme: webhook.SchemeHMAC})

	// Rotations: to the scheme asked for, else the webhook's own.
	toEd, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: hmac.ID, SignatureScheme: webhook.SchemeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.IsSigningKey(toEd.Secret) || schemeOf(toEd) != (scheme{webhook.SchemeEd25519, webhook.PublicKey(toEd.Secret)}) {
		t.Errorf("rotated to ed25519: %.8s…, %+v", toEd.Secret, schemeOf(toEd))
	}
	wantReads(hmac.ID, schemeOf(toEd))
	again, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: hmac.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.IsSigningKey(again.Secret) || again.PublicKey == toEd.PublicKey {
		t.Errorf("rotated again: %.8s…, public key %s (was %s); want a new ed25519 key", again.Secret, again.PublicKey, toEd.PublicKey)
	}
	wantReads(hmac.ID, schemeOf(again))
	back, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: hmac.ID, SignatureScheme: webhook.SchemeHMAC, GracePeriod: ptr(time.Duration(0))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(back.Secret, webhook.SecretPrefix) || schemeOf(back) != (scheme{Scheme: webhook.SchemeHMAC}) {
		t.Errorf("rotated back to HMAC: %.8s…, %+v", back.Secret, schemeOf(back))
	}
	wantReads(hmac.ID, scheme{Scheme: webhook.SchemeHMAC})

	// A test send to the ed25519 webhook verifies with the public key a
	// read gave, and nothing else.
	read, err := keyless.GetWebhook(ctx, "default", ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.SetSecrets(read.PublicKey); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	sent, err := b.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{WebhookID: ed.ID, Name: "order.created"})
	if err != nil {
		t.Fatal(err)
	}
	got := rcv.waitRequests(t, 1)[0]
	if got.DeliveryID != sent.Delivery.ID || got.SignatureErr != nil || !strings.HasPrefix(got.Header.Get("Webhook-Signature"), "v1a,") {
		t.Errorf("test delivery %s: signature %q, verified with the public key: %v", got.DeliveryID, got.Header.Get("Webhook-Signature"), got.SignatureErr)
	}
}

// TestSignatureSchemeRefusals: an unknown scheme, a scheme and a secret
// of different kinds, and a bad key are refused, naming the field, and
// change nothing.
func TestSignatureSchemeRefusals(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/hook"})
	before := [2]int{b.count(t, "sparrow_webhook"), b.count(t, "sparrow_webhook_secret")}
	check := func(err error, field string) {
		t.Helper()
		wantInvalid(t, err, field)
		if after := [2]int{b.count(t, "sparrow_webhook"), b.count(t, "sparrow_webhook_secret")}; after != before {
			t.Errorf("refused, yet webhooks and secrets went from %v to %v", before, after)
		}
	}
	tests := []struct {
		name, scheme, secret, field string
	}{
		{"unknown scheme", "rsa", "", "signature_scheme"},
		{"scheme in capitals", "ED25519", "", "signature_scheme"},
		{"ed25519 with an HMAC secret", webhook.SchemeEd25519, webhook.NewSecret(), "signature_scheme"},
		{"hmac with a signing key", webhook.SchemeHMAC, webhook.NewSigningKey(), "signature_scheme"},
		{"a short key", webhook.SchemeEd25519, webhook.SigningKeyPrefix + "AAAA", "webhook_secret"},
		{"a key not base64", "", webhook.SigningKeyPrefix + "not base64!", "webhook_secret"},
	}
	for _, tt := range tests {
		_, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: "https://example.com/hook", SignatureScheme: tt.scheme, Secret: tt.secret})
		check(err, tt.field)
		_, err = b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID, SignatureScheme: tt.scheme, Secret: tt.secret})
		check(err, tt.field)
	}
	got, err := b.eng.GetWebhook(ctx, "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SignatureScheme != webhook.SchemeHMAC || got.PublicKey != "" {
		t.Errorf("after refused rotations the webhook reads %s %q, want HMAC", got.SignatureScheme, got.PublicKey)
	}
}
