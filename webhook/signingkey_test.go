package webhook

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/internal/errs"
)

func TestSigningKeyFormats(t *testing.T) {
	t.Parallel()

	secret := NewSigningKey()
	key, err := Ed25519Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	public := PublicKey(secret)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(public, PublicKeyPrefix))
	if !strings.HasPrefix(public, PublicKeyPrefix) || err != nil || !ed25519.PublicKey(raw).Equal(key.Public()) {
		t.Fatalf("public key %q does not match the signing key", public)
	}
	// The 32-byte seed is the same key.
	fromSeed, err := Ed25519Key(SigningKeyPrefix + base64.StdEncoding.EncodeToString(key.Seed()))
	if err != nil || !fromSeed.Equal(key) {
		t.Fatalf("seed form: %v, equal %v", err, fromSeed.Equal(key))
	}
	if err := ValidateSecret("webhook_secret", secret); err != nil {
		t.Errorf("a generated signing key refused: %v", err)
	}
	if PublicKey(NewSecret()) != "" || PublicKey("your-secret") != "" {
		t.Error("an HMAC secret has a public key")
	}
}

func TestSigningKeyRefused(t *testing.T) {
	t.Parallel()

	_, other, _ := ed25519.GenerateKey(nil)
	_, key, _ := ed25519.GenerateKey(nil)
	mismatched := append(append([]byte{}, key.Seed()...), other.Public().(ed25519.PublicKey)...)
	for name, tc := range map[string]struct{ secret, reason string }{
		"not base64":      {SigningKeyPrefix + "not*base64", "not base64"},
		"wrong length":    {SigningKeyPrefix + base64.StdEncoding.EncodeToString(make([]byte, 48)), "32 or 64 bytes, not 48"},
		"halves mismatch": {SigningKeyPrefix + base64.StdEncoding.EncodeToString(mismatched), "public half does not match"},
		"empty key":       {SigningKeyPrefix, "32 or 64 bytes, not 0"},
	} {
		err := ValidateSecret("webhook_secret", tc.secret)
		var invalid *errs.InvalidArgumentError
		if !errors.As(err, &invalid) || invalid.Field != "webhook_secret" || !strings.Contains(invalid.Reason, tc.reason) {
			t.Errorf("%s: %v, want InvalidArgument on webhook_secret saying %q", name, err, tc.reason)
		}
		if PublicKey(tc.secret) != "" {
			t.Errorf("%s: a public key for a key that does not parse", name)
		}
	}
}
