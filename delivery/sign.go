package delivery

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
	"time"

	"github.com/sparrowhq/sparrow/webhook"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// Sign returns the webhook-signature header value for a message: one
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per key, space separated, so
// receivers holding either secret during a rotation can verify it.
func Sign(msgID string, timestamp time.Time, body []byte, keys [][]byte) string {
	var out []byte
	for i, key := range keys {
		out = appendSignature(out, i, hmac.New(sha256.New, key), msgID, timestamp, body)
	}
	return string(out)
}

// Signer signs messages as Sign does, with keys fixed once, and with
// ed25519 keys too ("v1a" signatures). Safe for concurrent use: the
// attempts of a delivery job share one, and reuse its keyed HMACs rather
// than set one up per message (most of a signature's cost for a small
// body).
type Signer struct {
	keys []signingKey
}

// signingKey is one key of a Signer: an HMAC's pool or an ed25519 key.
type signingKey struct {
	macs *sync.Pool // of hash.Hash
	ed   ed25519.PrivateKey
}

// NewSigner returns a Signer for HMAC keys; with none, it signs nothing.
func NewSigner(keys [][]byte) *Signer {
	s := &Signer{keys: make([]signingKey, len(keys))}
	for i, key := range keys {
		s.keys[i] = hmacKey(key)
	}
	return s
}

// NewSecretSigner returns a Signer for a webhook's secrets, newest first:
// "whsk_" keys sign with ed25519, the others with HMAC-SHA256, so a
// rotation from one kind to the other sends both during its grace period.
func NewSecretSigner(secrets []string) (*Signer, error) {
	s := &Signer{keys: make([]signingKey, 0, len(secrets))}
	for _, secret := range secrets {
		if webhook.IsSigningKey(secret) {
			key, err := webhook.Ed25519Key(secret)
			if err != nil {
				return nil, err
			}
			s.keys = append(s.keys, signingKey{ed: key})
			continue
		}
		key, err := webhook.SigningKey(secret)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, hmacKey(key))
	}
	return s, nil
}

func hmacKey(key []byte) signingKey {
	return signingKey{macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// Sign returns the webhook-signature header value for a message, or "" when
// the Signer has no keys.
func (s *Signer) Sign(msgID string, timestamp time.Time, body []byte) string {
	if len(s.keys) == 0 {
		return ""
	}
	out := make([]byte, 0, len(s.keys)*(edSignatureLen+1))
	for i, key := range s.keys {
		if key.ed != nil {
			out = appendEd25519Signature(out, i, key.ed, msgID, timestamp, body)
			continue
		}
		mac := key.macs.Get().(hash.Hash)
		mac.Reset()
		out = appendSignature(out, i, mac, msgID, timestamp, body)
		key.macs.Put(mac)
	}
	return string(out)
}

// edSignatureLen is the length of one "v1a,<base64 of 64 bytes>".
const edSignatureLen = len("v1a,") + 88

// appendEd25519Signature appends the i-th signature of a message, made
// with an ed25519 key.
func appendEd25519Signature(out []byte, i int, key ed25519.PrivateKey, msgID string, timestamp time.Time, body []byte) []byte {
	msg := make([]byte, 0, len(msgID)+22+len(body))
	msg = append(append(msg, msgID...), '.')
	msg = append(strconv.AppendInt(msg, timestamp.Unix(), 10), '.')
	msg = append(msg, body...)
	if i > 0 {
		out = append(out, ' ')
	}
	out = append(out, "v1a,"...)
	return base64.StdEncoding.AppendEncode(out, ed25519.Sign(key, msg))
}

// appendSignature appends the i-th signature of a message, made with mac.
func appendSignature(out []byte, i int, mac hash.Hash, msgID string, timestamp time.Time, body []byte) []byte {
	prefix := make([]byte, 0, len(msgID)+22)
	prefix = append(append(prefix, msgID...), '.')
	prefix = append(strconv.AppendInt(prefix, timestamp.Unix(), 10), '.')
	mac.Write(prefix)
	mac.Write(body)
	if i > 0 {
		out = append(out, ' ')
	}
	out = append(out, "v1,"...)
	var sum [sha256.Size]byte
	return base64.StdEncoding.AppendEncode(out, mac.Sum(sum[:0]))
}
