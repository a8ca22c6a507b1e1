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
