package event_test

import (
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/event"
)

func TestExample(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, schema, want string
	}{
		{"no constraints", `{}`, `{}`},
		{"types and required",
			`{"type": "object", "required": ["id"], "properties": {
				"id": {"type": "string"}, "count": {"type": "integer"}, "price": {"type": "number"},
				"paid": {"type": "boolean"}, "note": {"type": ["null", "string"]}, "gone": {"type": "null"}}}`,
			`{"count":1,"gone":null,"id":"example","note":"example","paid":true,"price":1}`},
		{"const, enum, default, examples",
			`{"properties": {
				"c": {"const": {"v": 2}}, "e": {"enum": ["gold", "silver"]}, "d": {"type": "integer", "default": 7},
				"x": {"type": "string", "examples": ["first", "second"], "default": "d"},
				"bad_default": {"type": "integer", "minimum": 5, "default": 1},
				"bad_enum": {"type": "string", "enum": [1, "two"]}}}`,
			`{"bad_default":5,"bad_enum":"two","c":{"v":2},"d":7,"e":"gold","x":"first"}`},
		{"formats",
			`{"properties": {
				"at": {"type": "string", "format": "date-time"}, "day": {"format": "date"},
				"mail": {"type": "string", "format": "email"}, "site": {"type": "string", "format": "uri"},
				"id": {"type": "string", "format": "uuid"}, "host": {"type": "string", "format": "hostname"},
				"odd": {"type": "string", "format": "made-up"}}}`,
			`{"at":"2025-01-01T12:00:00Z","day":"2025-01-01","host":"example.com","id":"123e4567-e89b-42d3-a456-426614174000",` +
				`"mail":"user@example.com","odd":"example","site":"https://example.com/"}`},
		{"numbers",
			`{"properties": {
				"min": {"type": "integer", "minimum": 10}, "max": {"type": "integer", "maximum": -3},
				"open": {"type": "integer", "exclusiveMinimum": 1}, "between": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
				"step": {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 7}, "cents": {"type": "number", "minimum": 0.015, "maximum": 0.5, "multipleOf": 0.01}}}`,
			`{"between":0.5,"cents":0.02,"max":-3,"min":10,"open":2,"step":14}`},
		{"strings",
			`{"properties": {
				"long": {"type": "string", "minLength": 10}, "short": {"type": "string", "maxLength": 3},
				"order": {"type": "string", "pattern": "^ord_[a-z0-9]{6}$"}, "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"},
				"either": {"type": "string", "pattern": "^(usd|eur)$"}}}`,
			`{"code":"AAA-0","either":"usd","long":"examplexxx","order":"ord_aaaaaa","short":"exa"}`},
		{"arrays",
			`{"properties": {
				"one": {"type": "array", "items": {"type": "integer"}}, "three": {"type": "array", "items": {"type": "string"}, "minItems": 3},
				"none": {"type": "array", "maxItems": 0}, "tuple": {"type": "array", "prefixItems": [{"const": "x"}, {"type": "integer"}], "minItems": 2},
				"with": {"type": "array", "items": {"type": "integer"}, "contains": {"minimum": 5}}}}`,
			`{"none":[],"one":[1],"three":["example","example","example"],"tuple":["x",1],"with":[5]}`},
		{"nested objects",
			`{"type": "object", "required": ["order"], "properties": {"order": {"type": "object", "required": ["lines"], "properties": {
				"lines": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku", "qty"],
					"properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}},
				"customer": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}}}}}`,
			`{"order":{"customer":{"email":"user@example.com"},"lines":[{"qty":1,"sku":"example"}]}}`},
		{"$ref and $defs",
			`{"$defs": {"money": {"type": "object", "required": ["amount", "currency"], "properties": {
				"amount": {"type": "integer", "minimum": 0}, "currency": {"enum": ["EUR", "USD"]}}}},
			 "properties": {"total": {"$ref": "#/$defs/money"}, "tax": {"$ref": "#/$defs/money", "properties": {"amount": {"maximum": 0}}}}}`,
			`{"tax":{"amount":0,"currency":"EUR"},"total":{"amount":1,"currency":"EUR"}}`},
		{"recursive $ref ends",
			`{"$defs": {"node": {"type": "object", "required": ["name"], "properties": {
				"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
			 "properties": {"root": {"$ref": "#/$defs/node"}}}`,
			`{"root":{"children":[{"name":"example"}],"name":"example"}}`},
		{"draft-07 definitions",
			`{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"id": {"type": "string", "format": "uuid"}},
			 "properties": {"id": {"$ref": "#/definitions/id"}}}`,
			`{"id":"123e4567-e89b-42d3-a456-426614174000"}`},
		{"allOf",
			`{"allOf": [{"properties": {"a": {"type": "string"}}}, {"required": ["b"], "properties": {"b": {"type": "number", "exclusiveMaximum": 0}}}]}`,
			`{"a":"example","b":-1}`},
		{"oneOf takes the first alternative that alone fits",
			`{"properties": {"v": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}, {"type": "string"}]}}}`,
			`{"v":"example"}`},
		{"anyOf",
			`{"anyOf": [{"required": ["x"], "properties": {"x": {"const": 1}}}, {"required": ["y"]}]}`,
			`{"x":1}`},
		{"if/then",
			`{"required": ["type"], "properties": {"type": {"enum": ["card", "bank"]}},
			 "if": {"properties": {"type": {"const": "card"}}}, "then": {"required": ["last4"], "properties": {"last4": {"pattern": "^[0-9]{4}$"}}},
			 "else": {"required": ["iban"]}}`,
			`{"last4":"0000","type":"card"}`},
		{"required alone when all properties don't fit",
			`{"required": ["a"], "maxProperties": 1, "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}`,
			`{"a":1}`},
		{"minProperties", `{"minProperties": 2, "additionalProperties": {"type": "boolean"}}`, `{"property1":true,"property2":true}`},
		{"dependentRequired",
			`{"properties": {"card": {"type": "string"}}, "dependentRequired": {"card": ["billing"]}, "additionalProperties": {"type": "string"}}`,
			`{"billing":"example","card":"example"}`},
		{"patternProperties", `{"required": ["x_id"], "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}`, `{"x_id":1}`},
		{"text kept as it is", `{"properties": {"html": {"const": "<b>&</b>"}}}`, `{"html":"<b>&</b>"}`},
	}
	for _, tt := range tests {
		// Not parallel: the package's time-limit tests share the machine.
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.Example([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("example\n got %s\nwant %s", got, tt.want)
			}
			// Checked by Example, and again here with the validator pushes use.
			s, err := event.CompileSchema("schema", []byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate("payload", got); err != nil {
				t.Errorf("the example %s does not satisfy the schema: %v", got, err)
			}
			if again, _ := event.Example([]byte(tt.schema)); string(again) != string(got) {
				t.Errorf("a second example %s differs from the first %s", again, got)
			}
		})
	}
}

func TestExampleFails(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, schema, want string
	}{
		{"not an object", `{"type": "string"}`, "allows no type"},
		{"false", `{"required": ["a"], "properties": {"a": false}}`, "false"},
		{"endless recursion", `{"$defs": {"n": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"}`, "deep"},
		{"beyond the builder", `{"required": ["a"], "properties": {"a": {"not": {"type": "null"}}}}`, "at /a"},
		{"not a schema", `{"type": 3}`, "not a valid JSON Schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.Example([]byte(tt.schema))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Example = %s, %v; want an error about %q", got, err, tt.want)
			}
		})
	}
}
