// Package event holds Sparrow's registry of event types and the events pushed
// into it: their types, validation and storage.
//
// Event types are global: every namespace pushes from the same catalogue, as
// a schema registry does. Events belong to a namespace.
package event

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// Limits on event input.
const (
	// MaxNameLen bounds an event type's name.
	MaxNameLen = 128
	// MaxPayloadBytesDefault is the default bound on a payload's size; the
	// engine's sparrow.WithMaxPayloadBytes changes it.
	MaxPayloadBytesDefault = 256 << 10
	// MaxIdempotencyKeyLen bounds an idempotency key.
	MaxIdempotencyKeyLen = 255
	// MaxTTL bounds ttl_seconds: a year is longer than any retry schedule.
	MaxTTL = 365 * 24 * time.Hour
	// MaxPayloadDepth bounds how deeply a payload's objects and arrays nest,
	// so that every client can decode the events and deliveries carrying
	// it (protobuf decoders stop at 10,000 levels, three per JSON level).
	MaxPayloadDepth = 128
)

// Type is a registered event type.
type Type struct {
	// Name identifies the type, like "order.created".
	Name        string
	Description string
	// Active types can be pushed; pushing an inactive one is refused.
	Active bool
	// Schema, when set, is a JSON Schema payloads of this type must satisfy.
	Schema    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is an event pushed into a namespace.
type Event struct {
	ID        string
	Namespace string
	// Name is the event's type.
	Name string
	// Payload is the JSON object pushed, byte for byte. Listings leave it nil;
	// fetching one event fills it.
	Payload json.RawMessage
	Labels  map[string]string
	// IdempotencyKey, when set, makes a repeated push in the namespace return
	// this event instead of creating another.
	IdempotencyKey string
	// OrderingKey, when set, orders the event's deliveries after those of
	// the events pushed before it with the same key, webhook by webhook.
	OrderingKey string
	CreatedAt   time.Time
	// ExpiresAt is when the event stops being delivered; zero means never.
	ExpiresAt time.Time
}

// Sparrow's own event types, pushed into the namespace of the webhook
// concerned. They are never delivered to that webhook itself.
const (
	// SystemPrefix begins the names of Sparrow's event types; others may not
	// use it.
	SystemPrefix = "sparrow."
	// TypeWebhookStateChanged: a webhook's health state changed.
	TypeWebhookStateChanged = "sparrow.webhook.state_changed"
	// TypeWebhookDisabled: Sparrow disabled a webhook after sustained failure.
	TypeWebhookDisabled = "sparrow.webhook.disabled"
	// TypeDeliveryExhausted: a delivery used up its attempts.
	TypeDeliveryExhausted = "sparrow.delivery.exhausted"
	// LabelWebhookID labels a system event with the webhook it concerns.
	LabelWebhookID = "webhook_id"
)

// IsSystem reports whether name is one of Sparrow's own event types.
func IsSystem(name string) bool { return strings.HasPrefix(name, SystemPrefix) }

// ValidateName checks an event type name: 1 to 128 letters, digits, '_', '-'
// or '.', as in "order.created".
func ValidateName(field, name string) error {
	if name == "" {
		return errs.InvalidArgument(field, "required")
	}
	if len(name) > MaxNameLen || strings.IndexFunc(name, notNameRune) >= 0 {
		return errs.InvalidArgument(field, "must be 1 to %d letters, digits, '_', '-' or '.'", MaxNameLen)
	}
	return nil
}

// notNameRune reports the runes event type names may not hold. Checked on
// every push, so a loop rather than a regular expression.
func notNameRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-')
}

// ValidatePayload checks that payload is a JSON object of at most maxBytes.
func ValidatePayload(field string, payload []byte, maxBytes int) error {
	switch {
	case len(payload) == 0:
		return errs.InvalidArgument(field, "required (a JSON object)")
	case len(payload) > maxBytes:
		return errs.InvalidArgument(field, "%d bytes is over the %d byte limit", len(payload), maxBytes)
	case !utf8.Valid(payload):
		return errs.InvalidArgument(field, "not valid UTF-8")
	case !json.Valid(payload):
		return errs.InvalidArgument(field, "not valid JSON")
	case bytes.TrimLeft(payload, " \t\r\n")[0] != '{':
		return errs.InvalidArgument(field, "must be a JSON object")
	case jsonDepth(payload) > MaxPayloadDepth:
		return errs.InvalidArgument(field, "nests objects and arrays more than %d deep", MaxPayloadDepth)
	}
	return nil
}

// jsonDepth returns how deeply the objects and arrays of valid JSON nest.
func jsonDepth(doc []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// MaxOrderingKeyLen bounds an ordering key.
const MaxOrderingKeyLen = 256

// ValidateOrderingKey checks an ordering key: text of at most
// MaxOrderingKeyLen bytes; empty means none.
func ValidateOrderingKey(field, key string) error {
	return validate.Text(field, key, MaxOrderingKeyLen)
}

// ValidateIdempotencyKey checks an optional idempotency key.
func ValidateIdempotencyKey(field, key string) error {
	return validate.Text(field, key, MaxIdempotencyKeyLen)
}

// ValidateTTL checks a time to live; zero means the event never expires.
func ValidateTTL(field string, ttl time.Duration) error {
	if ttl < 0 || ttl > MaxTTL {
		return errs.InvalidArgument(field, "must be between 0 (no expiry) and %s", MaxTTL)
	}
	return nil
}

// SameEvent reports whether stored, found under an idempotency key, is the
// event a push of name, payload and labels would create: the same type and
// labels, and a payload with the same JSON value (key order, whitespace and
// the spelling of numbers aside: 1.0 is 1). It returns what differs
// otherwise.
func SameEvent(stored *Event, name string, payload []byte, labels map[string]string) (same bool, differs string) {
	switch {
	case stored.Name != name:
		return false, "event type"
	case !maps.Equal(stored.Labels, labels) && (len(stored.Labels) > 0 || len(labels) > 0):
		return false, "labels"
	case !JSONEqual(stored.Payload, payload):
		return false, "payload"
	}
	return true, ""
}

// JSONEqual reports whether two JSON texts hold the same value, numbers
// compared exactly.
func JSONEqual(a, b []byte) bool {
	va, errA := decodeExact(a)
	vb, errB := decodeExact(b)
	return errA == nil && errB == nil && sameValue(va, vb)
}

func decodeExact(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func sameValue(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			if vb, ok := b[k]; !ok || !sameValue(va, vb) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, sameValue)
	case json.Number:
		b, ok := b.(json.Number)
		return ok && canonicalNumber(string(a)) == canonicalNumber(string(b))
	default:
		return a == b
	}
}

// canonicalNumber writes a JSON number so that two numbers of one value
// write alike (1, 1.0, 10e-1 and 0.1e1 all as "+1e0"), in time linear in
// its length: no big arithmetic, which 1e3000000 would make megabytes of.
func canonicalNumber(n string) string {
	sign := "+"
	if rest, ok := strings.CutPrefix(n, "-"); ok {
		sign, n = "-", rest
	}
	mantissa, exponent, _ := strings.Cut(strings.ToLower(n), "e")
	whole, fraction, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+fraction, "0")
	if digits == "" {
		return "0" // +0, -0, 0.000
	}
	// The value is 0.digits × 10^(exp + len(whole) - leading zeros), the
	// trailing zeros of digits changing nothing.
	shift := int64(len(whole)) - int64(len(whole+fraction)-len(digits))
	exp, err := strconv.ParseInt(exponent, 10, 64)
	if exponent != "" && err != nil {
		return sign + strings.TrimRight(digits, "0") + "e" + exponent + "+" + strconv.FormatInt(shift, 10) // beyond int64: compared as written
	}
	return sign + strings.TrimRight(digits, "0") + "e" + strconv.FormatInt(exp+shift, 10)
}
