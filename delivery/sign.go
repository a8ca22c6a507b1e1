package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
	"time"
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

// Signer signs messages as Sign does, with keys fixed once. Safe for
// concurrent use: the attempts of a delivery job share one, and reuse its
// keyed HMACs rather than set one up per message (most of a signature's
// cost for a small body).
type Signer struct {
	macs []*sync.Pool // of hash.Hash, one pool per key
}

// NewSigner returns a Signer for keys; with none, it signs nothing.
func NewSigner(keys [][]byte) *Signer {
	s := &Signer{macs: make([]*sync.Pool, len(keys))}
	for i, key := range keys {
		s.macs[i] = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return s
}

// Sign returns the webhook-signature header value for a message, or "" when
// the Signer has no keys.
func (s *Signer) Sign(msgID string, timestamp time.Time, body []byte) string {
	if len(s.macs) == 0 {
		return ""
	}
	out := make([]byte, 0, len(s.macs)*(signatureLen+1))
	for i, pool := range s.macs {
		mac := pool.Get().(hash.Hash)
		mac.Reset()
		out = appendSignature(out, i, mac, msgID, timestamp, body)
		pool.Put(mac)
	}
	return string(out)
}

// signatureLen is the length of one "v1,<base64 of 32 bytes>".
const signatureLen = len("v1,") + 44

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
