package subscription

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// Bounds on filters. A filter is written by the namespace's own user but
// runs inside Sparrow's fan-out, once per event and subscription, so its
// source and each evaluation are bounded.
const (
	// MaxFilterLen bounds a filter's source, in bytes.
	MaxFilterLen = 4 << 10
	// FilterCostLimit bounds one evaluation in CEL's cost units: about one
	// per operation, more for those on long strings and lists (matching a
	// regular expression against a 10 KB string costs about 750; exists()
	// over a list of 1,000 objects, about 7,000). Past it the evaluation
	// stops with an error and the event does not pass. Measured, spending
	// it all takes under a millisecond; a typical filter costs under 10.
	FilterCostLimit = 10_000
)

// ErrFilter is matched by every error a filter produces when evaluated.
var ErrFilter = errors.New("filter failed")

// maxFilterIssues bounds the compile errors reported for one filter: a bad
// filter often has many, and the first few say what is wrong.
const maxFilterIssues = 3

// Filter is a compiled payload filter: a CEL expression
// (https://cel.dev) of type bool over two variables, `payload`, the event's
// payload decoded from JSON (integers as int, other numbers as double), and
// `labels`, its labels as a map(string, string):
//
//	payload.total > 100 && payload.currency == "EUR"
//	labels.region == "eu" || !("region" in labels)
//
// A field the event lacks makes the filter not match rather than fail, as
// does an index past a list's end: `payload.total > 100` is false for an
// event without total. Test for a field with has(payload.total).
//
// A Filter is safe for concurrent use.
type Filter struct {
	prg cel.Program
}

// filterEnv is the CEL environment filters compile in. Building one takes
// milliseconds, so all filters share it.
var filterEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("payload", cel.DynType),
		cel.Variable("labels", cel.MapType(cel.StringType, cel.StringType)),
		// payload.total > 99.5 must hold for an int total as it would in
		// the JSON the user wrote.
		cel.CrossTypeNumericComparisons(true),
	)
})

// filterCacheSize bounds the compiled filters kept; past it the cache
// starts over, which costs a few recompilations and never grows memory.
const filterCacheSize = 1024

// filterCache keeps filters compiled, keyed by their source: fan-out meets
// the same few filters for every event, and compiling one costs far more
// than evaluating it.
var filterCache = struct {
	sync.Mutex
	compiled map[string]*Filter
}{compiled: map[string]*Filter{}}

// ParseFilter compiles a filter, refusing what can't run: syntax and type
// errors, reported with their line:column, expressions not of type bool,
// and oversize source. Errors are *InvalidArgumentError naming field.
func ParseFilter(field, text string) (*Filter, error) {
	filterCache.Lock()
	f, ok := filterCache.compiled[text]
	filterCache.Unlock()
	if ok {
		return f, nil
	}
	f, err := compileFilter(field, text)
	if err != nil {
		return nil, err
	}
	filterCache.Lock()
	if len(filterCache.compiled) >= filterCacheSize {
		clear(filterCache.compiled)
	}
	filterCache.compiled[text] = f
	filterCache.Unlock()
	return f, nil
}

func compileFilter(field, text string) (*Filter, error) {
	switch {
	case strings.TrimSpace(text) == "":
		return nil, errs.InvalidArgument(field, "empty expression")
	case len(text) > MaxFilterLen:
		return nil, errs.InvalidArgument(field, "longer than %d bytes", MaxFilterLen)
	}
	if err := validate.Text(field, text, MaxFilterLen); err != nil {
		return nil, err // stored as text: UTF-8, no NUL bytes
	}
	env, err := filterEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(text)
	if iss.Err() != nil {
		return nil, errs.InvalidArgument(field, "%s", describeIssues(iss.Errors()))
	}
	if out := ast.OutputType(); !out.IsExactType(cel.BoolType) {
		if out.IsExactType(cel.DynType) {
			return nil, errs.InvalidArgument(field, "the expression's type is not known to be bool; compare it (payload.flag == true) or convert it (bool(payload.flag))")
		}
		return nil, errs.InvalidArgument(field, "the expression is of type %s, not bool", out)
	}
	prg, err := env.Program(ast, cel.CostLimit(FilterCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, errs.InvalidArgument(field, "%v", err)
	}
	return &Filter{prg: prg}, nil
}

// describeIssues writes CEL's compile errors as "line:column: message",
// the first few of them.
func describeIssues(issues []*cel.Error) string {
	var b strings.Builder
	for i, e := range issues {
		if i == maxFilterIssues {
			fmt.Fprintf(&b, " (and %d more)", len(issues)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		// CEL counts columns from 0 and shows them from 1, as editors do.
		fmt.Fprintf(&b, "%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message)
	}
	return b.String()
}

// FilterInput is an event as filters see it. Build it once per event: any
// number of filters may then be evaluated over it, concurrently too.
type FilterInput struct {
	vars interpreter.Activation
}

// NewFilterInput decodes an event's payload, which must be JSON, for
// filters. Numbers stay exact: integers become CEL ints (doubles beyond
// int64), other numbers doubles.
func NewFilterInput(payload []byte, labels map[string]string) (*FilterInput, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // CEL's adapter turns a json.Number into an int when it is one
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrFilter, err)
	}
	if labels == nil {
		labels = map[string]string{}
	}
	vars, err := interpreter.NewActivation(map[string]any{
		"payload": types.DefaultTypeAdapter.NativeToValue(data),
		"labels":  types.NewStringStringMap(types.DefaultTypeAdapter, labels),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFilter, err)
	}
	return &FilterInput{vars: vars}, nil
}

// Match reports whether the event in passes the filter. A field or list
// element the event lacks is no error: the filter does not match. Other
// failures, such as comparing a string with a number or spending more than
// FilterCostLimit, are errors matching ErrFilter, and the event does not
// pass either.
func (f *Filter) Match(in *FilterInput) (bool, error) {
	out, _, err := f.prg.Eval(in.vars)
	if err != nil {
		if missing(err) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %v", ErrFilter, err)
	}
	return out == types.True, nil // compiled filters are of type bool
}

// missing reports whether err is CEL's for a map key or list index the
// value lacks. CEL exports no sentinel for these; its messages are stable.
func missing(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "no such key: ") || strings.HasPrefix(msg, "index out of bounds: ")
}
