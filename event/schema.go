package event

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// MaxSchemaBytes bounds an event type's JSON Schema.
const MaxSchemaBytes = 64 << 10

// MaxValidateTime bounds checking one payload against a schema; a payload
// that takes longer is refused. The validator can't be interrupted, so a
// check past its time runs on in the background, applying at most
// MaxSchemaExpansion subschemas per payload value. At most GOMAXPROCS
// checks per schema run at once, so such checks can't pile up: further
// payloads wait for a slot, within their own time.
const MaxValidateTime = 100 * time.Millisecond

// Schema is an event type's compiled JSON Schema (draft 2020-12 unless the
// schema's $schema says otherwise), which payloads of the type must satisfy.
type Schema struct {
	compiled *jsonschema.Schema
	running  chan struct{} // a slot per check in progress
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
	return &Schema{compiled: compiled, running: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
}

// Validate checks payload against the schema. A failure is an
// *InvalidArgumentError for field naming the JSON location that failed
// ("/items/0/sku") and why.
func (s *Schema) Validate(field string, payload []byte) error {
	return s.check(field, payload, s.validateWithin)
}

// validateUnbounded is Validate without its time limit, for payloads
// Sparrow builds itself (see Example), which a busy machine must not get
// refused.
func (s *Schema) validateUnbounded(field string, payload []byte) error {
	return s.check(field, payload, s.validateNow)
}

func (s *Schema) check(field string, payload []byte, validate func(inst any) error) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return errs.InvalidArgument(field, "not JSON: %v", err)
	}
	err = validate(inst)
	var verr *jsonschema.ValidationError
	switch {
	case errors.Is(err, errTooSlow):
		return errs.InvalidArgument(field, "checking it against the event type's schema took longer than %v; simplify the schema", MaxValidateTime)
	case errors.As(err, &verr):
		location, why := describe(verr)
		return errs.InvalidArgument(field, "at %s: %s", location, why)
	case err != nil:
		return errs.InvalidArgument(field, "%v", err)
	}
	return nil
}

var errTooSlow = errors.New("validation took too long")

// validateWithin checks inst, returning errTooSlow if that takes longer
// than MaxValidateTime, waiting for a free slot included.
func (s *Schema) validateWithin(inst any) error {
	timer := time.NewTimer(MaxValidateTime)
	defer timer.Stop()
	select {
	case s.running <- struct{}{}:
	case <-timer.C:
		return errTooSlow
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-s.running }()
		growStack(0)
		done <- s.validateNow(inst)
	}()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return errTooSlow
	}
}

// growStack grows the goroutine's stack at once to what validation
// usually needs: grown by doubling, copying the stack each time, it costs
// a typical validation a third more.
//
//go:noinline
func growStack(i int) byte {
	var pad [16 << 10]byte
	pad[i] = 1
	return pad[len(pad)-1-i]
}

// validateNow checks inst. The validator panics on some payloads (a number
// such as 1e3000000, too large for math/big, meeting "minimum"); that is
// an error here, as a panic in this goroutine would end the process.
func (s *Schema) validateNow(inst any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the schema validator failed on it: %v", r)
		}
	}()
	return s.compiled.Validate(inst)
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
