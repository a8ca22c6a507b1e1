// Package secretbox encrypts webhook secrets at rest with AES-256-GCM under
// a keyring: the current key seals, every key in the ring opens what it
// sealed, and each sealed value names its key so keys can be rotated by
// re-sealing in the background.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
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

// Reveal returns the secret in s, opening it with ring when sealed.
func Reveal(ring *Keyring, webhookID string, s Stored) (string, error) {
	if s.Sealed == nil {
		return s.Plain, nil
	}
	if ring == nil {
		return "", errors.New("secretbox: secret is encrypted but the engine has no keys (sparrow.WithSecretKeys)")
	}
	plain, err := ring.Open(s.KeyID, s.Sealed, AAD(webhookID, s.ID))
	return string(plain), err
}
