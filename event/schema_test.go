package event_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
)

const orderSchema = `{
  "type": "object",
  "required": ["order_id", "total"],
  "properties": {
    "order_id": {"type": "string", "pattern": "^ord_"},
    "total": {"type": "number", "minimum": 0},
    "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}}
  }
}`

func TestSchema(t *testing.T) {
	t.Parallel()

	s, err := event.CompileSchema("schema", []byte(orderSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		payload string
		where   string // "" for valid
	}{
		{`{"order_id": "ord_1", "total": 49.99}`, ""},
		{`{"order_id": "ord_1", "total": 1, "items": [{"sku": "a"}]}`, ""},
		{`{"order_id": "ord_1"}`, "at /:"},
		{`{"order_id": "x", "total": 1}`, "at /order_id:"},
		{`{"order_id": "ord_1", "total": -1}`, "at /total:"},
		{`{"order_id": "ord_1", "total": 1, "items": [{"sku": "a"}, {}]}`, "at /items/1:"},
	}
	for _, tt := range tests {
		err := s.Validate("payload", []byte(tt.payload))
		if tt.where == "" {
			if err != nil {
				t.Errorf("%s refused: %v", tt.payload, err)
			}
			continue
		}
		var invalid *errs.InvalidArgumentError
		if !errors.As(err, &invalid) || invalid.Field != "payload" || !strings.Contains(invalid.Reason, tt.where) {
			t.Errorf("%s: err = %v, want an invalid payload %s", tt.payload, err, tt.where)
		}
	}
}

func TestCompileSchemaRefuses(t *testing.T) {
	t.Parallel()

	for _, raw := range []string{
		`not json`,
		`[]`,
		`{"type": "no-such-type"}`,
		`{"$ref": "https://example.com/schema.json"}`,
		`{"$ref": "file:///etc/passwd"}`,
		`{"minimum": "zero"}`,
		`{"pattern": "("}`,
		`{"description": "a\u0000b"}`,
		`{"properties": {"a\u0000": {}}}`,
		`{"description": "` + strings.Repeat("x", event.MaxSchemaBytes) + `"}`,
	} {
		if _, err := event.CompileSchema("schema", []byte(raw)); !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("CompileSchema(%.60q) = %v, want an invalid argument", raw, err)
		}
	}
	// A schema the meta-schema refuses is refused saying where and why.
	_, err := event.CompileSchema("schema", []byte(`{"properties": {"total": {"minimum": "zero"}}}`))
	if want := "at /properties/total/minimum: got string, want number"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CompileSchema with a string minimum = %v, want it to say %q", err, want)
	}
}

// BenchmarkSchemaValidate measures the per-push cost of a typical schema.
func BenchmarkSchemaValidate(b *testing.B) {
	s, err := event.CompileSchema("schema", []byte(orderSchema))
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"order_id": "ord_123", "total": 49.99, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate("payload", payload); err != nil {
			b.Fatal(err)
		}
	}
}
