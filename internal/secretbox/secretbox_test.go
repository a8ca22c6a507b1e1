package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func key(id string, b byte) Key { return Key{ID: id, Bytes: bytes.Repeat([]byte{b}, KeySize)} }

func TestKeyring(t *testing.T) {
	t.Parallel()

	old, err := NewKeyring(key("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	aad := AAD("wh_1", "sec_1")
	id, sealed := old.Seal([]byte("whsec_abc"), aad)
	if id != "k1" || bytes.Contains(sealed, []byte("whsec_abc")) {
		t.Fatalf("sealed %q under %q", sealed, id)
	}
	_, again := old.Seal([]byte("whsec_abc"), aad)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}

	rotated, err := NewKeyring(key("k2", 2), key("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := rotated.Open(id, sealed, aad)
	if err != nil || string(plain) != "whsec_abc" {
		t.Fatalf("opened %q, %v", plain, err)
	}
	if rotated.Current() != "k2" {
		t.Fatal("the first key is not current")
	}
	if _, err := rotated.Open(id, sealed, AAD("wh_2", "sec_1")); err == nil {
		t.Fatal("a sealed secret opened for another row")
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := rotated.Open(id, tampered, aad); err == nil {
		t.Fatal("an altered secret opened")
	}
	newOnly, _ := NewKeyring(key("k2", 2))
	if _, err := newOnly.Open(id, sealed, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("opening with a retired key: %v", err)
	}
	for _, bad := range [][]Key{{{ID: "", Bytes: make([]byte, 32)}}, {{ID: "k", Bytes: make([]byte, 16)}}, {key("k", 1), key("k", 2)}} {
		if _, err := NewKeyring(bad[0], bad[1:]...); err == nil {
			t.Errorf("NewKeyring(%v) accepted", bad)
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()

	ring, err := NewKeyring(key("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"Authorization": "Bearer s3cret", "X-Tenant": "acme"}
	sealed := SealHeaders(ring, "wh_1", headers)
	if sealed.KeyID != "k1" || bytes.Contains(sealed.Sealed, []byte("s3cret")) {
		t.Fatalf("sealed %q under %q", sealed.Sealed, sealed.KeyID)
	}
	if sealed.Plain["Authorization"] != "********" || sealed.Plain["X-Tenant"] != "********" || len(sealed.Plain) != 2 {
		t.Fatalf("names kept as %v, want each with the masked value", sealed.Plain)
	}
	if got, err := RevealHeaders(ring, "wh_1", sealed); err != nil || got["Authorization"] != "Bearer s3cret" || got["X-Tenant"] != "acme" {
		t.Fatalf("revealed %v, %v", got, err)
	}
	if _, err := RevealHeaders(ring, "wh_2", sealed); err == nil {
		t.Fatal("sealed headers opened for another webhook")
	}
	if _, err := ring.Open(sealed.KeyID, sealed.Sealed, AAD("wh_1", "")); err == nil {
		t.Fatal("sealed headers opened as a secret")
	}
	if _, err := RevealHeaders(nil, "wh_1", sealed); err == nil {
		t.Fatal("sealed headers revealed without keys")
	}
	newOnly, _ := NewKeyring(key("k2", 2))
	if _, err := RevealHeaders(newOnly, "wh_1", sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("opening with a retired key: %v", err)
	}
	for _, clear := range []Headers{SealHeaders(nil, "wh_1", headers), SealHeaders(ring, "wh_1", map[string]string{})} {
		if clear.Sealed != nil || clear.KeyID != "" {
			t.Fatalf("sealed without keys or with no headers: %+v", clear)
		}
		if got, err := RevealHeaders(nil, "wh_1", clear); err != nil || len(got) != len(clear.Plain) {
			t.Fatalf("revealed %v, %v", got, err)
		}
	}
}
