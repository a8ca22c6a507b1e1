// Package webhook holds webhook endpoints: their type, validation, signing
// secrets and storage.
package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// State is a webhook's delivery state.
type State string

const (
	// StateActive webhooks receive deliveries.
	StateActive State = "active"
	// StatePaused webhooks were paused by a person or by a 410 Gone answer:
	// their deliveries wait, without spending attempts, until resumed.
	StatePaused State = "paused"
	// StateDisabled webhooks were disabled by Sparrow after sustained
	// failure; their deliveries wait as for a paused webhook.
	StateDisabled State = "disabled"
)

// Defaults and bounds of a webhook's settings.
const (
	TimeoutDefault     = 30 * time.Second
	TimeoutMin         = time.Second
	TimeoutMax         = 60 * time.Second
	MaxAttemptsDefault = 8
	MaxAttemptsMax     = 50
	MaxURLLen          = 2048
	MaxHeaders         = 20
	MaxHeaderNameLen   = 256
	MaxHeaderValueLen  = 4096
	// MaxEvents bounds the event types one webhook lists.
	MaxEvents    = 1000
	MaxSecretLen = 1024
	// MinSecretKeyBytes and MaxSecretKeyBytes bound the key of a "whsec_"
	// secret, as Standard Webhooks has them.
	MinSecretKeyBytes = 24
	MaxSecretKeyBytes = 64
	// MinSecretLen is the shortest secret of another form (a passphrase,
	// signed with as its bytes).
	MinSecretLen = 8
	// SecretPrefix marks secrets in the Standard Webhooks format: the prefix
	// and a base64 key.
	SecretPrefix = "whsec_"
)

// Webhook is an HTTP endpoint that receives events.
type Webhook struct {
	ID          string
	Namespace   string
	URL         string
	Description string
	// Events are the event types the webhook subscribes to.
	Events         []string
	State          State
	StateReason    string
	StateChangedAt time.Time
	// Headers are sent with every delivery, after Sparrow's own (which they
	// cannot replace). Read back, their values are MaskedHeaderValue: they
	// often carry credentials.
	Headers map[string]string
	// Timeout bounds one delivery attempt.
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one delivery, the first included.
	MaxAttempts int
	// RetrySchedule, when set, is the wait before each retry (the n-th
	// failure waits RetrySchedule[n-1], the last repeating), in place of the
	// engine's backoff; a receiver's longer Retry-After still wins.
	RetrySchedule []time.Duration
	// RateLimitPerSecond bounds the requests sent to the webhook per second,
	// by every engine on the database together; 0: no limit. Deliveries over
	// it wait, spending no attempt.
	RateLimitPerSecond int
	// Secret is the current signing secret. Sparrow fills it only where a
	// secret is meant to be read (registering, rotating, revealing), never in
	// gets and listings, so secrets don't spread into logs and screens.
	Secret string
	// SignatureScheme is how the current secret signs: SchemeHMAC or
	// SchemeEd25519.
	SignatureScheme string
	// PublicKey is, for an ed25519 webhook, the "whpk_" key receivers
	// verify with; it is public, so every read has it. Empty for HMAC.
	PublicKey string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ValidateURL checks a destination URL: absolute http or https, a host, no
// credentials (they belong in Headers, which listings mask) and no fragment.
// Which addresses it may reach is checked when dialing, after DNS.
func ValidateURL(field, raw string) error {
	if raw == "" {
		return errs.InvalidArgument(field, "required")
	}
	if err := validate.Text(field, raw, MaxURLLen); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errs.InvalidArgument(field, "not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errs.InvalidArgument(field, "must be an absolute http:// or https:// URL")
	case u.Hostname() == "":
		return errs.InvalidArgument(field, "has no host")
	case u.User != nil:
		return errs.InvalidArgument(field, "must not carry credentials; send them in a header")
	case u.Fragment != "":
		return errs.InvalidArgument(field, "must not have a #fragment")
	}
	return nil
}

var headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// IsReservedHeader reports whether name is a header Sparrow sets itself or
// that HTTP manages, which custom headers may not replace.
func IsReservedHeader(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "content-type", "content-length", "content-encoding", "user-agent", "host", "connection",
		"transfer-encoding", "te", "trailer", "upgrade", "expect", "keep-alive", "traceparent", "tracestate":
		return true
	}
	return strings.HasPrefix(name, "webhook-") || strings.HasPrefix(name, "sparrow-") || strings.HasPrefix(name, "proxy-")
}

// MaskedHeaderValue stands for a custom header's value wherever it is shown.
// Given back in an update, it keeps the header's current value.
const MaskedHeaderValue = "********"

// MaskHeaders returns headers with every value masked.
func MaskHeaders(headers map[string]string) map[string]string {
	if headers == nil {
		return nil
	}
	masked := make(map[string]string, len(headers))
	for name := range headers {
		masked[name] = MaskedHeaderValue
	}
	return masked
}

// ValidateHeaders checks custom headers: valid names and values, none
// reserved, at most MaxHeaders.
func ValidateHeaders(field string, headers map[string]string) error {
	if len(headers) > MaxHeaders {
		return errs.InvalidArgument(field, "more than %d headers", MaxHeaders)
	}
	for name, value := range headers {
		f := field + "[" + name + "]"
		switch {
		case len(name) > MaxHeaderNameLen:
			return errs.InvalidArgument(field, "a header name is longer than %d bytes", MaxHeaderNameLen)
		case !headerNamePattern.MatchString(name):
			return errs.InvalidArgument(f, "not a valid header name")
		case IsReservedHeader(name):
			return errs.InvalidArgument(f, "is set by Sparrow or HTTP and cannot be overridden")
		case strings.ContainsAny(value, "\r\n"):
			return errs.InvalidArgument(f, "value must not contain CR or LF")
		}
		if err := validate.Text(f, value, MaxHeaderValueLen); err != nil {
			return err
		}
	}
	return nil
}

// ValidateTimeout checks an attempt timeout; zero means TimeoutDefault.
func ValidateTimeout(field string, d time.Duration) error {
	if d != 0 && (d < TimeoutMin || d > TimeoutMax) {
		return errs.InvalidArgument(field, "must be between %s and %s", TimeoutMin, TimeoutMax)
	}
	return nil
}

// ValidateMaxAttempts checks an attempt limit; zero means MaxAttemptsDefault.
func ValidateMaxAttempts(field string, n int) error {
	if n < 0 || n > MaxAttemptsMax {
		return errs.InvalidArgument(field, "must be between 1 and %d", MaxAttemptsMax)
	}
	return nil
}

// Bounds of a retry schedule and a rate limit.
const (
	MaxRetrySchedule      = 20
	RetryDelayMin         = time.Second
	RetryDelayMax         = 24 * time.Hour
	MaxRateLimitPerSecond = 10_000
)

// ValidateRetrySchedule checks a retry schedule: at most MaxRetrySchedule
// waits, each between RetryDelayMin and RetryDelayMax.
func ValidateRetrySchedule(field string, schedule []time.Duration) error {
	if len(schedule) > MaxRetrySchedule {
		return errs.InvalidArgument(field, "%d retries, at most %d", len(schedule), MaxRetrySchedule)
	}
	for i, d := range schedule {
		if d < RetryDelayMin || d > RetryDelayMax {
			return errs.InvalidArgument(fmt.Sprintf("%s[%d]", field, i), "%s is not between %s and %s", d, RetryDelayMin, RetryDelayMax)
		}
	}
	return nil
}

// ParseRetrySchedule reads a retry schedule written as Go durations
// ("5s", "5m", "2h"), validated.
func ParseRetrySchedule(field string, written []string) ([]time.Duration, error) {
	schedule := make([]time.Duration, len(written))
	for i, w := range written {
		d, err := time.ParseDuration(w)
		if err != nil {
			return nil, errs.InvalidArgument(fmt.Sprintf("%s[%d]", field, i), "%q is not a duration such as 5s, 5m or 2h", w)
		}
		schedule[i] = d
	}
	return schedule, ValidateRetrySchedule(field, schedule)
}

// FormatRetrySchedule writes a schedule as ParseRetrySchedule reads it.
func FormatRetrySchedule(schedule []time.Duration) []string {
	written := make([]string, len(schedule))
	for i, d := range schedule {
		// As people write them: 5m, 2h, 1h30m rather than 5m0s, 2h0m0s.
		w := d.String()
		if strings.HasSuffix(w, "m0s") {
			w = w[:len(w)-2]
		}
		if strings.HasSuffix(w, "h0m") {
			w = w[:len(w)-2]
		}
		written[i] = w
	}
	return written
}

// ValidateRateLimit checks a rate limit in requests per second; 0 means
// none.
func ValidateRateLimit(field string, perSecond int) error {
	if perSecond < 0 || perSecond > MaxRateLimitPerSecond {
		return errs.InvalidArgument(field, "must be between 0 (no limit) and %d", MaxRateLimitPerSecond)
	}
	return nil
}

// ValidateSecret checks a signing secret given by the caller: either
// "whsec_" and a base64 key, or any other text used as the key's bytes.
func ValidateSecret(field, secret string) error {
	if err := validate.Text(field, secret, MaxSecretLen); err != nil {
		return err
	}
	if IsSigningKey(secret) {
		if _, reason := parseEd25519Key(secret); reason != "" {
			return errs.InvalidArgument(field, "%s", reason)
		}
		return nil
	}
	key, err := SigningKey(secret)
	switch {
	case err != nil:
		return errs.InvalidArgument(field, "starts with %q but the rest is not base64", SecretPrefix)
	case strings.HasPrefix(secret, SecretPrefix) && (len(key) < MinSecretKeyBytes || len(key) > MaxSecretKeyBytes):
		return errs.InvalidArgument(field, "a %s secret's key is %d bytes; Standard Webhooks wants %d to %d (omit the secret to get one made)",
			SecretPrefix, len(key), MinSecretKeyBytes, MaxSecretKeyBytes)
	case len(key) < MinSecretLen:
		return errs.InvalidArgument(field, "%d bytes is too short to sign with: at least %d, or a %s secret of %d to %d random bytes (omit it to get one made)",
			len(key), MinSecretLen, SecretPrefix, MinSecretKeyBytes, MaxSecretKeyBytes)
	}
	return nil
}

// SigningKey returns the HMAC key of a secret: the decoded base64 of a
// "whsec_" secret, else the secret's bytes (Standard Webhooks' rule).
func SigningKey(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) == 0 {
		return nil, errs.InvalidArgument("secret", "not base64 after %q", SecretPrefix)
	}
	return key, nil
}

// Ed25519 signing keys, in Standard Webhooks' formats: a webhook whose
// secret is a "whsk_" key signs with ed25519 ("v1a" signatures), and its
// receivers verify with the "whpk_" public key, which cannot sign.
const (
	SigningKeyPrefix = "whsk_"
	PublicKeyPrefix  = "whpk_"
)

// Signature schemes: how a webhook's secret signs its deliveries.
const (
	// SchemeHMAC: HMAC-SHA256 with a shared secret, "v1" signatures.
	SchemeHMAC = "hmac-sha256"
	// SchemeEd25519: ed25519 with a "whsk_" signing key, "v1a" signatures
	// that receivers verify with the public key alone.
	SchemeEd25519 = "ed25519"
)

// SchemeOf returns the signature scheme of a secret.
func SchemeOf(secret string) string {
	if IsSigningKey(secret) {
		return SchemeEd25519
	}
	return SchemeHMAC
}

// ValidateScheme checks a signature scheme asked for; empty means none.
func ValidateScheme(field, scheme string) error {
	switch scheme {
	case "", SchemeHMAC, SchemeEd25519:
		return nil
	}
	return errs.InvalidArgument(field, "%q is not a signature scheme: %q or %q", scheme, SchemeHMAC, SchemeEd25519)
}

// NewSecretOf returns a random secret of scheme: an ed25519 signing key
// or an HMAC secret.
func NewSecretOf(scheme string) string {
	if scheme == SchemeEd25519 {
		return NewSigningKey()
	}
	return NewSecret()
}

// IsSigningKey reports whether secret is an ed25519 signing key rather
// than an HMAC secret.
func IsSigningKey(secret string) bool { return strings.HasPrefix(secret, SigningKeyPrefix) }

// Ed25519Key returns the private key of a "whsk_" secret: base64 of the
// 64-byte key, or of its 32-byte seed.
func Ed25519Key(secret string) (ed25519.PrivateKey, error) {
	key, reason := parseEd25519Key(secret)
	if reason != "" {
		return nil, errs.InvalidArgument("secret", "%s", reason)
	}
	return key, nil
}

func parseEd25519Key(secret string) (_ ed25519.PrivateKey, reason string) {
	encoded, ok := strings.CutPrefix(secret, SigningKeyPrefix)
	if !ok {
		return nil, fmt.Sprintf("an ed25519 signing key starts with %q", SigningKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("not base64 after %q", SigningKeyPrefix)
	case len(raw) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), ""
	case len(raw) != ed25519.PrivateKeySize:
		return nil, fmt.Sprintf("a %s key is %d or %d bytes, not %d", SigningKeyPrefix, ed25519.SeedSize, ed25519.PrivateKeySize, len(raw))
	}
	key := ed25519.PrivateKey(raw)
	// The second half is the public key; one that does not match the seed
	// would make signatures no receiver can verify.
	if !key.Public().(ed25519.PublicKey).Equal(ed25519.NewKeyFromSeed(key.Seed()).Public()) {
		return nil, fmt.Sprintf("the %s key's public half does not match its seed", SigningKeyPrefix)
	}
	return key, ""
}

// PublicKey returns the "whpk_" public key of a "whsk_" secret, "" for an
// HMAC secret (or a key that does not parse).
func PublicKey(secret string) string {
	if !IsSigningKey(secret) {
		return ""
	}
	key, err := Ed25519Key(secret)
	if err != nil {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
}

// ParsePublicKey returns the key of a "whpk_" public key.
func ParsePublicKey(publicKey string) (ed25519.PublicKey, error) {
	encoded, ok := strings.CutPrefix(publicKey, PublicKeyPrefix)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if !ok || err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errs.InvalidArgument("public_key", "%q and the base64 of %d bytes", PublicKeyPrefix, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// NewSigningKey returns a random ed25519 signing key in the Standard
// Webhooks format.
func NewSigningKey() string {
	_, key, _ := ed25519.GenerateKey(nil) // crypto/rand never fails on supported platforms.
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(key)
}

// NewSecret returns a random secret in the Standard Webhooks format.
func NewSecret() string {
	key := make([]byte, 24)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms.
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}
