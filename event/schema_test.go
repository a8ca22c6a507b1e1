package event_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

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

// doublingSchema applies d0 of doublingDefs(n) to the payload: a value
// checked against it costs 2^n subschemas.
func doublingSchema(n int) string { return `{"$ref": "#/$defs/d0", ` + doublingDefs(n) + `}` }

// doublingDefs is n nested $defs, each applying the next one twice.
func doublingDefs(n int) string {
	defs := make([]string, n+1)
	for i := range n {
		defs[i] = fmt.Sprintf(`"d%d": {"allOf": [{"$ref": "#/$defs/d%d"}, {"$ref": "#/$defs/d%d"}]}`, i, i+1, i+1)
	}
	defs[n] = fmt.Sprintf(`"d%d": {"type": "string"}`, n)
	return `"$defs": {` + strings.Join(defs, ", ") + `}`
}

// refsToAll is n $defs each referring to every one: checking a value
// tries every path of refs until one loops, n! of them.
func refsToAll(n int) string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf(`{"$ref": "#/$defs/d%d"}`, i)
	}
	defs := make([]string, n)
	for i := range defs {
		defs[i] = fmt.Sprintf(`"d%d": {"anyOf": [%s]}`, i, strings.Join(refs, ", "))
	}
	return `{"$ref": "#/$defs/d0", "$defs": {` + strings.Join(defs, ", ") + `}}`
}

// repeat joins n copies of s with commas.
func repeat(s string, n int) string { return strings.TrimSuffix(strings.Repeat(s+",", n), ",") }

func TestCompileSchemaRefusesExpansion(t *testing.T) {
	t.Parallel()

	tooMany := fmt.Sprintf("more than %d subschemas", event.MaxSchemaExpansion)
	tests := []struct {
		name, schema, want string
	}{
		{"DoublingDefs", doublingSchema(21), tooMany + " for one payload value once its $refs are followed"},
		{"DoublingRecursion", `{"$defs": {"n": {"type": "object", "properties": {"c": {"allOf": [{"$ref": "#/$defs/n"}, {"$ref": "#/$defs/n"}]}}}}, "$ref": "#/$defs/n"}`, tooMany + " for one payload value at depth 9"},
		{"DoublingBelowTheRoot", `{"properties": {"a": {"items": {"$ref": "#/$defs/d0"}}}, ` + doublingDefs(12) + `}`, tooMany + " for one payload value at depth 2"},
		{"SelfReference", `{"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`, "its $refs loop back to #/$defs/a without descending into the payload"},
		{"RefsToAll", refsToAll(9), "loop back"},
		// The meta-schema's $dynamicRefs resolve to x, which nothing else
		// refers to.
		{"HiddenDynamicAnchor", `{"$ref": "https://json-schema.org/draft/2020-12/schema", "$defs": {
			"x": {"$dynamicAnchor": "meta", "allOf": [` + repeat(`{"$ref": "#/$defs/y"}`, 40) + `]},
			"y": {"allOf": [` + repeat(`{"type": "object"}`, 40) + `]}}}`, tooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			start := time.Now()
			_, err := event.CompileSchema("schema", []byte(tt.schema))
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v to refuse", elapsed)
			}
			var invalid *errs.InvalidArgumentError
			if !errors.As(err, &invalid) || invalid.Field != "schema" || !strings.Contains(invalid.Reason, tt.want) {
				t.Fatalf("CompileSchema = %v, want an invalid schema saying %q", err, tt.want)
			}
		})
	}
}

// nested returns n levels of wrap around leaf: wrap holds %s where the
// level below goes.
func nested(wrap, leaf string, n int) string {
	s := leaf
	for range n {
		s = fmt.Sprintf(wrap, s)
	}
	return s
}

func TestCompileSchemaAcceptsLargeSchemas(t *testing.T) {
	t.Parallel()

	properties := make([]string, 500)
	for i := range properties {
		properties[i] = fmt.Sprintf(`"p%d": {"type": "string", "maxLength": 10}`, i)
	}
	amounts := make([]string, 200)
	for i := range amounts {
		amounts[i] = fmt.Sprintf(`"amount%d": {"$ref": "#/$defs/money"}`, i)
	}
	variants := make([]string, 60)
	for i := range variants {
		variants[i] = fmt.Sprintf(`{"allOf": [{"$ref": "#/$defs/base"}, {"properties": {"kind": {"const": "k%d"}}}]}`, i)
	}
	tests := []struct {
		name, schema, payload string
	}{
		{"FlatObject", `{"type": "object", "properties": {` + strings.Join(properties, ", ") + `}}`, `{"p0": "a", "p499": "b"}`},
		{"SharedDefFrom200Places", `{"properties": {` + strings.Join(amounts, ", ") + `}, "$defs": {
			"money": {"type": "object", "properties": {"value": {"type": "integer"}, "currency": {"$ref": "#/$defs/currency"}}},
			"currency": {"enum": ["EUR", "USD"]}}}`, `{"amount0": {"value": 1, "currency": "EUR"}, "amount199": {"value": 2}}`},
		{"UnionOfVariants", `{"oneOf": [` + strings.Join(variants, ", ") + `], "$defs": {
			"base": {"allOf": [{"$ref": "#/$defs/object"}, {"$ref": "#/$defs/kind"}]},
			"object": {"type": "object"}, "kind": {"required": ["kind"]}}}`, `{"kind": "k7"}`},
		{"Tree", `{"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {
			"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}}`,
			nested(`{"name": "n", "children": [{"name": "leaf"}, %s]}`, `{}`, 60)},
		{"BinaryTree", `{"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {
			"value": {"type": "integer"}, "left": {"$ref": "#/$defs/node"}, "right": {"$ref": "#/$defs/node"}}}}}`,
			nested(`{"value": 1, "left": {"value": 2}, "right": %s}`, `{}`, 100)},
		{"AnyJSON", `{"properties": {"metadata": {"$ref": "#/$defs/json"}}, "$defs": {"json": {"anyOf": [
			{"type": ["null", "boolean", "number", "string"]},
			{"type": "array", "items": {"$ref": "#/$defs/json"}},
			{"type": "object", "additionalProperties": {"$ref": "#/$defs/json"}}]}}}`,
			`{"metadata": ` + nested(`{"a": [1, "b", %s]}`, `null`, 60) + `}`},
		{"Expression", `{"properties": {"rule": {"$ref": "#/$defs/rule"}}, "$defs": {"rule": {"oneOf": [
			{"type": "object", "required": ["and"], "properties": {"and": {"type": "array", "items": {"$ref": "#/$defs/rule"}}}},
			{"type": "object", "required": ["or"], "properties": {"or": {"type": "array", "items": {"$ref": "#/$defs/rule"}}}},
			{"type": "object", "required": ["not"], "properties": {"not": {"$ref": "#/$defs/rule"}}},
			{"type": "object", "required": ["field"], "properties": {"field": {"type": "string"}}}]}}}`,
			`{"rule": ` + nested(`{"and": [{"field": "a"}, {"not": %s}]}`, `{"field": "b"}`, 40) + `}`},
		{"MetaSchema", `{"properties": {"schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"}}}`,
			`{"schema": {"type": "object", "properties": {"a": {"items": {"anyOf": [{"type": "string"}]}}}}}`},
		{"MetaSchema2019", `{"$schema": "https://json-schema.org/draft/2019-09/schema", "properties": {"schema": {"$ref": "https://json-schema.org/draft/2019-09/schema"}}}`,
			`{"schema": {"properties": {"a": {"items": [{"type": "string"}]}}}}`},
		{"MetaSchemaDraft7", `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"schema": {"$ref": "http://json-schema.org/draft-07/schema#"}}}`,
			`{"schema": {"properties": {"a": {"items": {"type": "string"}}}}}`},
		{"DynamicRef", `{"$id": "https://example.com/list", "type": "array", "items": {"$dynamicRef": "#item"}, "$defs": {
			"item": {"$dynamicAnchor": "item", "type": "string"}}}`, `["a", "b"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s, err := event.CompileSchema("schema", []byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			// Without the time limit, which a loaded machine could spend:
			// what a schema accepts is the question here.
			if err := s.ValidateUnbounded([]byte(tt.payload)); err != nil {
				t.Fatalf("a valid payload refused: %v", err)
			}
		})
	}
}

// slowSchema applies 801 subschemas to each member of an object, under
// MaxSchemaExpansion, so a payload of many members takes long to check.
var slowSchema = `{"$defs": {"n": {"type": "number", "minimum": 0}},
	"additionalProperties": {"allOf": [` + repeat(`{"$ref": "#/$defs/n"}`, 400) + `]}}`

// manyMembers returns a JSON object of n numbers.
func manyMembers(n int) []byte {
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf(`"m%d": %d`, i, i)
	}
	return []byte("{" + strings.Join(members, ", ") + "}")
}

func TestSchemaValidateTimeLimit(t *testing.T) {
	t.Parallel()

	s, err := event.CompileSchema("schema", []byte(slowSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate("payload", manyMembers(3)); err != nil {
		t.Fatalf("a small payload refused: %v", err)
	}
	start := time.Now()
	err = s.Validate("payload", manyMembers(1000)) // about 0.4 s of work
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("took %v to refuse", elapsed)
	}
	var invalid *errs.InvalidArgumentError
	want := fmt.Sprintf("took longer than %v; simplify the schema", event.MaxValidateTime)
	if !errors.As(err, &invalid) || invalid.Field != "payload" || !strings.Contains(invalid.Reason, want) {
		t.Fatalf("Validate = %v, want an invalid payload saying %q", err, want)
	}
}

func TestSchemaValidateSurvivesValidatorPanic(t *testing.T) {
	t.Parallel()

	s, err := event.CompileSchema("schema", []byte(`{"properties": {"n": {"minimum": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Too large for math/big: the validator dereferences a nil *big.Rat.
	err = s.Validate("payload", []byte(`{"n": 1e3000000}`))
	var invalid *errs.InvalidArgumentError
	if !errors.As(err, &invalid) || invalid.Field != "payload" {
		t.Fatalf("Validate = %v, want an invalid payload", err)
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
