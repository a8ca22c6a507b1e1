package sparrow_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

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
