// Package secretbox encrypts webhook secrets and custom headers at rest with
// AES-256-GCM under a keyring: the current key seals, every key in the ring
// opens what it sealed, and each sealed value names its key so keys can be
// rotated by re-sealing in the background.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sparrowhq/sparrow/webhook"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// Key is a named encryption key.
type Key struct {
	ID    string
	Bytes []byte
}

// Keyring seals with its current key and opens with any of its keys.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring returns a keyring sealing with current and opening with it and
// previous.
func NewKeyring(current Key, previous ...Key) (*Keyring, error) {
	k := &Keyring{current: current.ID, aeads: map[string]cipher.AEAD{}}
	for _, key := range append([]Key{current}, previous...) {
		if key.ID == "" || len(key.ID) > 64 {
			return nil, errors.New("secretbox: a key needs an id of 1 to 64 characters")
		}
		if len(key.Bytes) != KeySize {
			return nil, fmt.Errorf("secretbox: key %q is %d bytes, want %d", key.ID, len(key.Bytes), KeySize)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("secretbox: key id %q given twice", key.ID)
		}
		block, err := aes.NewCipher(key.Bytes)
		if err != nil {
			return nil, err
		}
		if k.aeads[key.ID], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Has reports whether k holds the key id (a nil Keyring holds none).
func (k *Keyring) Has(id string) bool {
	if k == nil {
		return false
	}
	_, ok := k.aeads[id]
	return ok
}

// Current returns the id of the key Seal uses.
func (k *Keyring) Current() string { return k.current }

// Seal encrypts plaintext with the current key. aad binds the result to its
// place (the row it is stored in), so it can't be moved to another.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return k.current, aead.Seal(nonce, nonce, plaintext, aad)
}

// ErrUnknownKey is returned by Open for a value sealed with a key the ring
// does not hold.
var ErrUnknownKey = errors.New("secretbox: sealed with a key not in the keyring")

// Open decrypts what Seal returned.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("secretbox: sealed value too short")
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, aad)
	if err != nil {
		return nil, errors.New("secretbox: sealed value does not open (wrong key, or altered)")
	}
	return plaintext, nil
}

// Stored is a secret as stored: in the clear, or sealed.
type Stored struct {
	ID     string
	Plain  string
	KeyID  string
	Sealed []byte
}

// AAD is the associated data binding a webhook's secret to its row.
func AAD(webhookID, secretID string) []byte {
	return []byte("sparrow/webhook-secret/" + webhookID + "/" + secretID)
}

// errNoKeys is returned for a sealed value when the engine has no keys.
var errNoKeys = errors.New("secretbox: value is encrypted but the engine has no keys (sparrow.WithSecretKeys)")

// Reveal returns the secret in s, opening it with ring when sealed.
func Reveal(ring *Keyring, webhookID string, s Stored) (string, error) {
	if s.Sealed == nil {
		return s.Plain, nil
	}
	if ring == nil {
		return "", errNoKeys
	}
	plain, err := ring.Open(s.KeyID, s.Sealed, AAD(webhookID, s.ID))
	return string(plain), err
}

// Headers are a webhook's custom headers as stored. In the clear, Plain
// holds them. Sealed, they are one JSON object in Sealed, and Plain holds
// only their names, each with webhook.MaskedHeaderValue: enough to show
// them and to check an update's masked values without opening anything.
type Headers struct {
	Plain  map[string]string
	KeyID  string
	Sealed []byte
}

// HeadersAAD is the associated data binding a webhook's sealed headers to
// its row; its prefix keeps them from passing for a secret, or a secret for
// them.
func HeadersAAD(webhookID string) []byte {
	return []byte("sparrow/webhook-headers/" + webhookID)
}

// SealHeaders returns headers as stored: sealed with ring's current key, or
// in the clear when ring is nil or there are none (nothing to hide).
func SealHeaders(ring *Keyring, webhookID string, headers map[string]string) Headers {
	if ring == nil || len(headers) == 0 {
		return Headers{Plain: headers}
	}
	plain, _ := json.Marshal(headers) // a map of strings always encodes
	keyID, sealed := ring.Seal(plain, HeadersAAD(webhookID))
	return Headers{Plain: webhook.MaskHeaders(headers), KeyID: keyID, Sealed: sealed}
}

// RevealHeaders returns the headers in h, opening them with ring when
// sealed.
func RevealHeaders(ring *Keyring, webhookID string, h Headers) (map[string]string, error) {
	if h.Sealed == nil {
		return h.Plain, nil
	}
	if ring == nil {
		return nil, errNoKeys
	}
	plain, err := ring.Open(h.KeyID, h.Sealed, HeadersAAD(webhookID))
	if err != nil {
		return nil, err
	}
	var headers map[string]string
	if err := json.Unmarshal(plain, &headers); err != nil {
		return nil, fmt.Errorf("secretbox: sealed headers are not a JSON object: %w", err)
	}
	return headers, nil
}
