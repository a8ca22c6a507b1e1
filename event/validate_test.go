package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// FuzzValidatePayload: what ValidatePayload accepts is a JSON object of
// valid UTF-8 within the limit; what it refuses is refused as invalid input.
func FuzzValidatePayload(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":1}`, ` {"a":[1,{"b":null}]} `, `[]`, `"x"`, `{`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}", ``, `{"a":1}{}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		err := event.ValidatePayload("payload", payload, 1024)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Fatalf("refusal %v is not an invalid-argument error", err)
			}
			return
		}
		var v map[string]any
		if len(payload) > 1024 || !utf8.Valid(payload) || json.Unmarshal(payload, &v) != nil || v == nil {
			t.Fatalf("accepted %q", payload)
		}
		if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) {
			t.Fatalf("accepted a non-object %q", payload)
		}
	})
}

// FuzzValidateLabels: accepted labels respect every bound.
func FuzzValidateLabels(f *testing.F) {
	f.Add("region", "us-east-1")
	f.Add("app.kubernetes.io/name", "x")
	f.Add("", "v")
	f.Add("k", "\x00")
	f.Add("k k", "v")
	f.Add(strings.Repeat("k", 65), "v")
	f.Fuzz(func(t *testing.T, key, value string) {
		err := validate.Labels("labels", map[string]string{key: value})
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Fatalf("refusal %v is not an invalid-argument error", err)
			}
			return
		}
		if key == "" || len(key) > validate.MaxLabelKeyLen || len(value) > validate.MaxLabelValueLen ||
			!utf8.ValidString(value) || strings.ContainsRune(value, 0) || strings.ContainsAny(key, " \t\n\"'") {
			t.Fatalf("accepted %q=%q", key, value)
		}
	})
}

func TestValidateName(t *testing.T) {
	t.Parallel()

	for name, ok := range map[string]bool{
		"order.created": true, "user_signed-up.v2": true, strings.Repeat("a", 128): true,
		"": false, "a b": false, "a/b": false, "a\nb": false, "a\x00b": false, strings.Repeat("a", 129): false, "ünïcode": false,
	} {
		if err := event.ValidateName("name", name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
	}
}

func TestValidatePayloadDepth(t *testing.T) {
	nested := func(depth int) []byte {
		// Brackets inside strings do not count.
		return []byte(strings.Repeat(`{"a":`, depth-1) + `{"s":"[[{{\"]]"}` + strings.Repeat(`}`, depth-1))
	}
	if err := event.ValidatePayload("payload", nested(event.MaxPayloadDepth), 1<<20); err != nil {
		t.Fatalf("a payload %d deep: %v", event.MaxPayloadDepth, err)
	}
	if err := event.ValidatePayload("payload", nested(event.MaxPayloadDepth+1), 1<<20); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("a payload %d deep: %v, want invalid argument", event.MaxPayloadDepth+1, err)
	}
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{`{"a": 1, "b": [1, 2]}`, `{"b":[1,2],"a":1}`, true},
		{`{"n": 1}`, `{"n": 1.0}`, true},
		{`{"n": 1e2}`, `{"n": 100}`, true},
		{`{"n": 9007199254740993}`, `{"n": 9007199254740992}`, false},
		{`{"n": 1}`, `{"n": "1"}`, false},
		{`{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{`{"a": null}`, `{}`, false},
		{`{"a": {"b": true}}`, `{"a": {"b": true}}`, true},
		{`{}`, `not json`, false},
		{`{"n": 0.1e1}`, `{"n": 10e-1}`, true},
		{`{"n": -0}`, `{"n": 0.0}`, true},
		{`{"n": 120}`, `{"n": 1.2e2}`, true},
		{`{"n": 120}`, `{"n": 12}`, false},
		{`{"n": -1}`, `{"n": 1}`, false},
		{`{"n": 1e3000000}`, `{"n": 10e2999999}`, true},
		{`{"n": 1e3000000}`, `{"n": 1e3000001}`, false},
	} {
		if got := event.JSONEqual([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("JSONEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
