package event

import (
	"bytes"
	"errors"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// MaxSchemaBytes bounds an event type's JSON Schema.
const MaxSchemaBytes = 64 << 10

// Schema is an event type's compiled JSON Schema (draft 2020-12 unless the
// schema's $schema says otherwise), which payloads of the type must satisfy.
type Schema struct {
	compiled *jsonschema.Schema
}

// schemaURL is where CompileSchema places the schema: it has no other.
const schemaURL = "sparrow:///event-type-schema.json"

var englishPrinter = message.NewPrinter(language.English)

// CompileSchema compiles raw, refusing what is not a usable schema. A schema
// may only reference itself and the JSON Schema meta-schemas: loading from
// files or the network is refused, so a schema can't make the engine read
// either. A schema whose validation could cost more than
// MaxSchemaExpansion subschemas per payload value is refused too.
func CompileSchema(field string, raw []byte) (*Schema, error) {
	if len(raw) > MaxSchemaBytes {
		return nil, errs.InvalidArgument(field, "%d bytes is over the %d byte limit", len(raw), MaxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, errs.InvalidArgument(field, "not JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errs.InvalidArgument(field, "must be a JSON object")
	}
	if hasNUL(doc) {
		return nil, errs.InvalidArgument(field, `contains \u0000, which PostgreSQL's jsonb cannot store`)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, errs.InvalidArgument(field, "%v", err)
	}
	compiled, err := c.Compile(schemaURL)
	var serr *jsonschema.SchemaValidationError // no Unwrap: errors.As can't see through it
	var verr *jsonschema.ValidationError
	switch {
	case errors.As(err, &serr) && errors.As(serr.Err, &verr):
		// Checked against the meta-schema: say where in the schema, and why.
		location, why := describe(verr)
		return nil, errs.InvalidArgument(field, "not a valid JSON Schema: at %s: %s", location, why)
	case err != nil:
		return nil, errs.InvalidArgument(field, "not a valid JSON Schema: %s", firstLine(err.Error()))
	}
	if err := checkExpansion(field, c, doc, compiled); err != nil {
		return nil, err
	}
	return &Schema{compiled: compiled}, nil
}

// Validate checks payload against the schema. A failure is an
// *InvalidArgumentError for field naming the JSON location that failed
// ("/items/0/sku") and why.
func (s *Schema) Validate(field string, payload []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return errs.InvalidArgument(field, "not JSON: %v", err)
	}
	err = s.compiled.Validate(inst)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	location, why := describe(verr)
	return errs.InvalidArgument(field, "at %s: %s", location, why)
}

// describe names the innermost failure of err: the JSON location that
// failed and why.
func describe(err *jsonschema.ValidationError) (location, why string) {
	leaf := err
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	return "/" + strings.Join(leaf.InstanceLocation, "/"), leaf.ErrorKind.LocalizedString(englishPrinter)
}

// hasNUL reports whether a string of doc, key or value, holds a NUL.
func hasNUL(doc any) bool {
	switch v := doc.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case map[string]any:
		for k, x := range v {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasNUL(x) {
				return true
			}
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
