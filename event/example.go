package event

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// LabelTest labels the events sent by sparrow's SendTestEvent ("true"), so
// that event lists can tell them from pushed ones.
const LabelTest = "sparrow.test"

// Bounds of Example's work. A value nested past maxExampleDepth fails;
// past maxOptionalDepth, or inside a schema that recurs through itself, a
// value has only what its schema requires, so recursive schemas end.
const (
	maxExampleDepth    = 32
	maxOptionalDepth   = 8
	maxExampleSteps    = 20_000
	maxPatternExpanded = 256
)

// Example returns a payload that satisfies schema, an event type's JSON
// Schema, made from the schema alone, the same every time, to show what
// events of the type look like. Each value is its schema's const, else its
// first example, its default or the first value of its enum that the
// schema allows, else one built from its type and constraints: every
// property (only the required ones past a few levels of nesting, and in a
// schema met again within itself), arrays of minItems items (at least
// one), strings of the format or pattern asked for within minLength and
// maxLength, numbers within their bounds and multipleOf. $ref, allOf,
// anyOf, oneOf and if/then/else are followed. The result is checked
// against the schema as pushes are (without their time limit, which a
// busy machine could spend); a schema it cannot satisfy (keywords
// such as not or uniqueItems may need what the builder does not attempt)
// gives an error saying where the example fails.
func Example(schema []byte) (json.RawMessage, error) {
	checked, err := CompileSchema("schema", schema)
	if err != nil {
		return nil, err
	}
	shape, err := compileShape(schema)
	if err != nil {
		return nil, err
	}
	var failed error
	// Every property first; failing that, only the required ones, which
	// fewer keywords (dependencies, maxProperties) can refuse.
	for _, requiredOnly := range []bool{false, true} {
		g := &exampler{requiredOnly: requiredOnly, steps: maxExampleSteps, within: map[*jsonschema.Schema]int{}}
		v, err := g.value([]*jsonschema.Schema{shape}, nil, 0)
		if err != nil {
			failed = cmp.Or(failed, err)
			continue
		}
		payload, err := marshalExample(v)
		if err != nil {
			failed = cmp.Or(failed, err)
			continue
		}
		if err := checked.validateUnbounded("example", payload); err != nil {
			failed = cmp.Or(failed, err)
			continue
		}
		return payload, nil
	}
	return nil, fmt.Errorf("no example satisfies the schema: %w", failed)
}

// compileShape compiles a schema CompileSchema accepted for building
// examples from: as CompileSchema does, but keeping each subschema's
// format, which draft 2020-12 treats as an annotation that compiled
// schemas otherwise drop.
func compileShape(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}

// marshalExample writes v as compact JSON, leaving <, > and & as they are.
func marshalExample(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// exampler builds one example.
type exampler struct {
	requiredOnly bool
	// steps bounds the values built and the subschema checks made, so that
	// a large schema costs a bounded time.
	steps int
	// within counts the subschemas of the objects and arrays being built
	// around the current value, to see recursion.
	within map[*jsonschema.Schema]int
}

var (
	errFalseSchema     = errors.New("a subschema is false: no value satisfies it")
	errExampleTooLarge = errors.New("the schema is too large to build an example of")
)

// choice is a subschema's anyOf, oneOf or if/then/else, whose branches an
// example takes one at a time.
type choice struct {
	holder *jsonschema.Schema
	kind   string
}

// branches returns, for each branch of c, the subschemas a value in it
// must also satisfy.
func (c choice) branches() [][]*jsonschema.Schema {
	var out [][]*jsonschema.Schema
	switch c.kind {
	case "anyOf", "oneOf":
		alts := c.holder.AnyOf
		if c.kind == "oneOf" {
			alts = c.holder.OneOf
		}
		for _, alt := range alts {
			out = append(out, []*jsonschema.Schema{alt})
		}
	case "if":
		// A value meeting "if" and "then", else one for "else" (checked
		// afterwards not to meet "if" without "then").
		out = append(out, nonNil(c.holder.If, c.holder.Then), nonNil(c.holder.Else))
	}
	return out
}

func nonNil(schemas ...*jsonschema.Schema) []*jsonschema.Schema {
	return slices.DeleteFunc(schemas, func(s *jsonschema.Schema) bool { return s == nil })
}

// expand returns the subschemas that apply to a value satisfying all,
// through $ref and allOf, each once, and the choices among them.
func expand(all []*jsonschema.Schema) (parts []*jsonschema.Schema, choices []choice, err error) {
	seen := map[*jsonschema.Schema]bool{}
	var walk func(s *jsonschema.Schema)
	walk = func(s *jsonschema.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Bool != nil && !*s.Bool {
			err = errFalseSchema
		}
		parts = append(parts, s)
		walk(s.Ref)
		walk(s.RecursiveRef)
		if s.DynamicRef != nil {
			walk(s.DynamicRef.Ref)
		}
		for _, sub := range s.AllOf {
			walk(sub)
		}
		if len(s.AnyOf) > 0 {
			choices = append(choices, choice{s, "anyOf"})
		}
		if len(s.OneOf) > 0 {
			choices = append(choices, choice{s, "oneOf"})
		}
		if s.If != nil && (s.Then != nil || s.Else != nil) {
			choices = append(choices, choice{s, "if"})
		}
	}
	for _, s := range all {
		walk(s)
	}
	return parts, choices, err
}

// value returns a value meant to satisfy every schema of all, the choices
// in decided being made already. At depth 0 it is an object: a payload.
func (g *exampler) value(all []*jsonschema.Schema, decided map[choice]bool, depth int) (any, error) {
	if g.steps--; g.steps < 0 {
		return nil, errExampleTooLarge
	}
	if depth > maxExampleDepth {
		return nil, fmt.Errorf("the schema nests values more than %d deep", maxExampleDepth)
	}
	parts, choices, err := expand(all)
	if err != nil {
		return nil, err
	}
	if v, ok := g.literal(parts, all, depth); ok {
		return v, nil
	}
	for _, c := range choices {
		if decided[c] {
			continue
		}
		next := maps.Clone(decided)
		if next == nil {
			next = map[choice]bool{}
		}
		next[c] = true
		var failed error
		for _, branch := range c.branches() {
			v, err := g.value(append(slices.Clip(all), branch...), next, depth)
			if err == nil && g.satisfies(all, v) {
				return v, nil
			}
			failed = cmp.Or(failed, err)
		}
		return nil, cmp.Or(failed, fmt.Errorf("no branch of an %s could be satisfied", c.kind))
	}
	return g.build(parts, depth)
}

// literal returns the first value the schemas give that satisfies all:
// their const, first example, default or an enum value.
func (g *exampler) literal(parts, all []*jsonschema.Schema, depth int) (any, bool) {
	var candidates []any
	for _, p := range parts {
		if p.Const != nil {
			candidates = append(candidates, *p.Const)
		}
	}
	for _, p := range parts {
		if len(p.Examples) > 0 {
			candidates = append(candidates, p.Examples[0])
		}
	}
	for _, p := range parts {
		if p.Default != nil {
			candidates = append(candidates, *p.Default)
		}
	}
	for _, p := range parts {
		if p.Enum != nil {
			candidates = append(candidates, p.Enum.Values...)
		}
	}
	for _, v := range candidates {
		if _, isObject := v.(map[string]any); (isObject || depth > 0) && g.satisfies(all, v) {
			return v, true
		}
	}
	return nil, false
}

// satisfies reports whether v satisfies every schema of all.
func (g *exampler) satisfies(all []*jsonschema.Schema, v any) (ok bool) {
	// The validator panics on some numbers (see validateNow).
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for _, s := range all {
		if g.steps--; g.steps < 0 || s.Validate(v) != nil {
			return false
		}
	}
	return true
}

// typeOrder is the order types are preferred in when a schema allows
// several. A number is built as an integer where one fits, so "number"
// comes before "integer", which it includes.
var typeOrder = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

// build makes a value of the first type parts allow, following their
// constraints.
func (g *exampler) build(parts []*jsonschema.Schema, depth int) (any, error) {
	switch exampleType(parts, depth == 0) {
	case "object":
		return g.object(parts, depth)
	case "array":
		return g.array(parts, depth)
	case "string":
		return exampleString(parts), nil
	case "integer":
		return exampleNumber(parts, true), nil
	case "number":
		return exampleNumber(parts, false), nil
	case "boolean":
		return true, nil
	case "null":
		return nil, nil
	}
	return nil, errors.New("the schema allows no type of value")
}

// exampleType returns the type of value to build: the first that every
// part's "type" allows, else the one their keywords are about; an object
// for a payload.
func exampleType(parts []*jsonschema.Schema, payload bool) string {
	allowed := map[string]bool{}
	for _, t := range typeOrder {
		allowed[t] = true
	}
	typed := false
	for _, p := range parts {
		if p.Types == nil || p.Types.IsEmpty() {
			continue
		}
		typed = true
		names := p.Types.ToStrings()
		if slices.Contains(names, "number") {
			names = append(names, "integer")
		}
		for t := range allowed {
			allowed[t] = allowed[t] && slices.Contains(names, t)
		}
	}
	switch {
	case payload && allowed["object"]:
		return "object"
	case payload:
		return ""
	case !typed:
		return keywordType(parts)
	}
	for _, t := range typeOrder {
		if allowed[t] {
			return t
		}
	}
	return ""
}

// keywordType returns the type the keywords of untyped parts constrain,
// "null" when they constrain none.
func keywordType(parts []*jsonschema.Schema) string {
	for _, p := range parts {
		switch {
		case len(p.Properties) > 0, len(p.Required) > 0, p.MinProperties != nil, p.AdditionalProperties != nil, len(p.PatternProperties) > 0:
			return "object"
		case p.Items != nil, p.Items2020 != nil, len(p.PrefixItems) > 0, p.MinItems != nil, p.Contains != nil:
			return "array"
		case p.Format != nil, p.MinLength != nil, p.MaxLength != nil, p.Pattern != nil:
			return "string"
		case p.Minimum != nil, p.Maximum != nil, p.ExclusiveMinimum != nil, p.ExclusiveMaximum != nil, p.MultipleOf != nil:
			return "number"
		}
	}
	return "null"
}

// full reports whether the object or array of parts at depth gets its
// optional members too: not past maxOptionalDepth, nor within itself.
func (g *exampler) full(parts []*jsonschema.Schema, depth int) bool {
	if g.requiredOnly || depth >= maxOptionalDepth {
		return false
	}
	for _, p := range parts {
		if g.within[p] > 0 {
			return false
		}
	}
	return true
}

// enter marks parts as being built around the values built until leave.
func (g *exampler) enter(parts []*jsonschema.Schema) (leave func()) {
	for _, p := range parts {
		g.within[p]++
	}
	return func() {
		for _, p := range parts {
			g.within[p]--
		}
	}
}

func (g *exampler) object(parts []*jsonschema.Schema, depth int) (any, error) {
	full := g.full(parts, depth)
	required := map[string]bool{}
	var declared []string
	minProps, maxProps := 0, -1
	for _, p := range parts {
		for _, name := range p.Required {
			required[name] = true
		}
		declared = append(declared, slices.Collect(maps.Keys(p.Properties))...)
		if p.MinProperties != nil {
			minProps = max(minProps, *p.MinProperties)
		}
		if p.MaxProperties != nil && (maxProps < 0 || *p.MaxProperties < maxProps) {
			maxProps = *p.MaxProperties
		}
	}
	slices.Sort(declared)
	declared = slices.Compact(declared)
	keys := slices.Sorted(maps.Keys(required))
	// Optional properties, in order, as room allows; then made-up names
	// while minProperties wants more.
	for _, name := range declared {
		if !required[name] && (full || len(keys) < minProps) && (maxProps < 0 || len(keys) < maxProps) {
			keys = append(keys, name)
		}
	}
	for i := 1; len(keys) < minProps; i++ {
		if name := fmt.Sprintf("property%d", i); !slices.Contains(keys, name) {
			keys = append(keys, name)
		}
	}
	keys = dependentRequired(parts, keys)
	defer g.enter(parts)()
	obj := make(map[string]any, len(keys))
	for _, name := range keys {
		v, err := g.value(memberSchemas(parts, name), nil, depth+1)
		if err != nil {
			return nil, err
		}
		obj[name] = v
	}
	return obj, nil
}

// dependentRequired adds to keys the properties that dependentRequired
// asks for alongside them.
func dependentRequired(parts []*jsonschema.Schema, keys []string) []string {
	for i := 0; i < len(keys); i++ {
		for _, p := range parts {
			for _, name := range p.DependentRequired[keys[i]] {
				if !slices.Contains(keys, name) {
					keys = append(keys, name)
				}
			}
		}
	}
	return keys
}

// memberSchemas returns the subschemas that apply to the object member
// name: its properties entry, the patternProperties it matches, else
// additionalProperties.
func memberSchemas(parts []*jsonschema.Schema, name string) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	for _, p := range parts {
		s, declared := p.Properties[name]
		if declared {
			out = append(out, s)
		}
		patterns := slices.SortedFunc(maps.Keys(p.PatternProperties), func(a, b jsonschema.Regexp) int { return strings.Compare(a.String(), b.String()) })
		for _, re := range patterns {
			if re.MatchString(name) {
				out, declared = append(out, p.PatternProperties[re]), true
			}
		}
		if additional, ok := p.AdditionalProperties.(*jsonschema.Schema); ok && !declared {
			out = append(out, additional)
		}
	}
	return out
}

func (g *exampler) array(parts []*jsonschema.Schema, depth int) (any, error) {
	n, maxItems := 0, -1
	var contains []*jsonschema.Schema
	for _, p := range parts {
		if p.MinItems != nil {
			n = max(n, *p.MinItems)
		}
		if p.MaxItems != nil && (maxItems < 0 || *p.MaxItems < maxItems) {
			maxItems = *p.MaxItems
		}
		if p.Contains != nil {
			contains = append(contains, p.Contains)
		}
	}
	if n == 0 && (g.full(parts, depth) || len(contains) > 0) {
		n = 1 // one item shows what items look like
	}
	if maxItems >= 0 {
		n = min(n, maxItems)
	}
	defer g.enter(parts)()
	items := make([]any, n)
	for i := range items {
		schemas := itemSchemas(parts, i)
		if i == 0 {
			schemas = append(schemas, contains...)
		}
		v, err := g.value(schemas, nil, depth+1)
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

// itemSchemas returns the subschemas that apply to item i of an array:
// prefixItems (or an items list, before 2020-12), else items (or
// additionalItems).
func itemSchemas(parts []*jsonschema.Schema, i int) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	for _, p := range parts {
		prefix, rest := p.PrefixItems, p.Items2020
		switch items := p.Items.(type) {
		case []*jsonschema.Schema:
			prefix, rest = items, nil
			if additional, ok := p.AdditionalItems.(*jsonschema.Schema); ok {
				rest = additional
			}
		case *jsonschema.Schema:
			rest = items
		}
		switch {
		case i < len(prefix):
			out = append(out, prefix[i])
		case rest != nil:
			out = append(out, rest)
		}
	}
	return out
}

// formatExamples are strings of the formats JSON Schema defines.
var formatExamples = map[string]string{
	"date-time":             "2025-01-01T12:00:00Z",
	"date":                  "2025-01-01",
	"time":                  "12:00:00Z",
	"duration":              "PT1H",
	"email":                 "user@example.com",
	"idn-email":             "user@example.com",
	"hostname":              "example.com",
	"idn-hostname":          "example.com",
	"ipv4":                  "192.0.2.1",
	"ipv6":                  "2001:db8::1",
	"uri":                   "https://example.com/",
	"iri":                   "https://example.com/",
	"uri-reference":         "https://example.com/",
	"iri-reference":         "https://example.com/",
	"uri-template":          "https://example.com/{id}",
	"uuid":                  "123e4567-e89b-42d3-a456-426614174000",
	"json-pointer":          "/example",
	"relative-json-pointer": "0",
	"regex":                 ".*",
}

// exampleString returns "example", or a string of the format or pattern
// asked for, made as long as minLength and maxLength want.
func exampleString(parts []*jsonschema.Schema) string {
	s := "example"
	minLen, maxLen := 0, -1
	for _, p := range parts {
		if p.Format != nil && formatExamples[p.Format.Name] != "" {
			s = formatExamples[p.Format.Name]
		}
		if p.MinLength != nil {
			minLen = max(minLen, *p.MinLength)
		}
		if p.MaxLength != nil && (maxLen < 0 || *p.MaxLength < maxLen) {
			maxLen = *p.MaxLength
		}
	}
	for _, p := range parts {
		if p.Pattern != nil && !p.Pattern.MatchString(s) {
			if matching, ok := patternExample(p.Pattern.String()); ok {
				s = matching
			}
		}
	}
	if n := utf8.RuneCountInString(s); n < minLen {
		s += strings.Repeat("x", minLen-n)
	}
	if maxLen >= 0 && utf8.RuneCountInString(s) > maxLen {
		s = string([]rune(s)[:maxLen])
	}
	return s
}

// patternExample returns a short string the regular expression matches.
func patternExample(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !writeMatch(&b, re.Simplify()) || b.Len() > maxPatternExpanded {
		return "", false
	}
	return b.String(), true
}

// writeMatch writes to b a shortest string re matches, taking the first
// alternative and a letter or digit where it can; false if it cannot.
func writeMatch(b *strings.Builder, re *syntax.Regexp) bool {
	if b.Len() > maxPatternExpanded {
		return false
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		r, ok := classRune(re.Rune)
		if !ok {
			return false
		}
		b.WriteRune(r)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture, syntax.OpPlus:
		return writeMatch(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			if !writeMatch(b, re.Sub[0]) {
				return false
			}
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !writeMatch(b, sub) {
				return false
			}
		}
	case syntax.OpAlternate:
		return writeMatch(b, re.Sub[0])
	case syntax.OpNoMatch:
		return false
	}
	// Empty matches, anchors, word boundaries, star and quest: nothing.
	return true
}

// classRune returns a rune of the class (pairs of range bounds): a letter
// or digit if it holds one, else its first printable rune.
func classRune(ranges []rune) (rune, bool) {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	for _, r := range "a0A_-" {
		if in(r) {
			return r, true
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if r := max(ranges[i], ' '); r <= ranges[i+1] {
			return r, true
		}
	}
	return 0, false
}

// exampleNumber returns 1, or a number near the bounds parts set, a
// multiple of their multipleOf; an integer if asked.
func exampleNumber(parts []*jsonschema.Schema, integer bool) json.Number {
	var lo, hi, step *big.Rat
	loOpen, hiOpen := false, false
	for _, p := range parts {
		if p.Minimum != nil && (lo == nil || p.Minimum.Cmp(lo) > 0) {
			lo, loOpen = p.Minimum, false
		}
		if p.ExclusiveMinimum != nil && (lo == nil || p.ExclusiveMinimum.Cmp(lo) >= 0) {
			lo, loOpen = p.ExclusiveMinimum, true
		}
		if p.Maximum != nil && (hi == nil || p.Maximum.Cmp(hi) < 0) {
			hi, hiOpen = p.Maximum, false
		}
		if p.ExclusiveMaximum != nil && (hi == nil || p.ExclusiveMaximum.Cmp(hi) <= 0) {
			hi, hiOpen = p.ExclusiveMaximum, true
		}
		if p.MultipleOf != nil && step == nil {
			step = p.MultipleOf
		}
	}
	fits := func(x *big.Rat) bool {
		return (lo == nil || x.Cmp(lo) > 0 || !loOpen && x.Cmp(lo) == 0) &&
			(hi == nil || x.Cmp(hi) < 0 || !hiOpen && x.Cmp(hi) == 0) &&
			(!integer || x.IsInt()) &&
			(step == nil || new(big.Rat).Quo(x, step).IsInt())
	}
	one := big.NewRat(1, 1)
	candidates := []*big.Rat{one}
	if lo != nil {
		candidates = append(candidates, lo, ceil(lo), new(big.Rat).Add(floor(lo), one))
	}
	if hi != nil {
		candidates = append(candidates, hi, floor(hi), new(big.Rat).Sub(ceil(hi), one))
	}
	if lo != nil && hi != nil {
		candidates = append(candidates, new(big.Rat).Quo(new(big.Rat).Add(lo, hi), big.NewRat(2, 1)))
	}
	candidates = append(candidates, new(big.Rat))
	for _, x := range candidates {
		try := []*big.Rat{x}
		if step != nil && step.Sign() > 0 {
			n := new(big.Rat).Quo(x, step)
			try = append(try, new(big.Rat).Mul(ceil(n), step), new(big.Rat).Mul(floor(n), step))
		}
		for _, y := range try {
			if fits(y) {
				return ratNumber(y)
			}
		}
	}
	return "1"
}

func floor(x *big.Rat) *big.Rat {
	q := new(big.Int).Div(x.Num(), x.Denom()) // Euclidean: rounds down, the denominator being positive
	return new(big.Rat).SetInt(q)
}

func ceil(x *big.Rat) *big.Rat {
	f := floor(x)
	if f.Cmp(x) == 0 {
		return f
	}
	return f.Add(f, big.NewRat(1, 1))
}

// ratNumber writes x as a JSON number: exactly when its decimal ends.
func ratNumber(x *big.Rat) json.Number {
	if x.IsInt() {
		return json.Number(x.Num().String())
	}
	for prec := 1; prec < 30; prec++ {
		s := x.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(x) == 0 {
			return json.Number(s)
		}
	}
	return json.Number(x.FloatString(30))
}
