package sparrowtest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/webhook"
)

// TestEd25519Verifier: the receiver's v1a check accepts a signature by the
// webhook's key, from its signing key or its public key, and refuses
// another key's, a changed body and a stale timestamp.
func TestEd25519Verifier(t *testing.T) {
	t.Parallel()

	key, other := webhook.NewSigningKey(), webhook.NewSigningKey()
	signer, err := delivery.NewSecretSigner([]string{key})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"n": 1}`)
	signed := func(at time.Time) http.Header {
		h := http.Header{}
		h.Set(delivery.HeaderWebhookID, "dlv_1")
		h.Set(delivery.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(delivery.HeaderWebhookSignature, signer.Sign("dlv_1", at, body))
		return h
	}
	for _, secret := range []string{key, webhook.PublicKey(key)} {
		v, err := newVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(body, signed(time.Now())); err != nil {
			t.Errorf("%.8s…: a valid signature refused: %v", secret, err)
		}
		if v.Verify([]byte(`{"n": 2}`), signed(time.Now())) == nil {
			t.Errorf("%.8s…: a changed body verified", secret)
		}
		if v.Verify(body, signed(time.Now().Add(-time.Hour))) == nil {
			t.Errorf("%.8s…: an hour-old timestamp verified", secret)
		}
	}
	v, err := newVerifier(webhook.PublicKey(other))
	if err != nil {
		t.Fatal(err)
	}
	if v.Verify(body, signed(time.Now())) == nil {
		t.Error("another key's public key verified")
	}
	if _, err := newVerifier(webhook.PublicKeyPrefix + "AAAA"); err == nil {
		t.Error("a malformed public key accepted")
	}
}
