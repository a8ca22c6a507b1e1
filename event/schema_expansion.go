package event

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// MaxSchemaExpansion bounds how many subschemas a schema may apply to any
// one value of a payload: those reached from the value's own subschemas
// through allOf, anyOf, oneOf, not, if/then/else, dependentSchemas and
// $refs, and from the values above it through properties and items, each
// counted once per way it is reached. Validation then costs at most this
// many subschemas per payload value, whatever the payload (nested at most
// MaxPayloadDepth deep). Unbounded, a 1.4 KB schema whose 21 $defs each
// apply the next one twice costs 2^21 subschemas per value, and a
// recursive one that does so at every level of the payload, 2^depth.
const MaxSchemaExpansion = 1000

// checkExpansion refuses compiled, compiled by c from doc, if it applies
// more than MaxSchemaExpansion subschemas to one payload value.
func checkExpansion(field string, c *jsonschema.Compiler, doc any, compiled *jsonschema.Schema) error {
	return newExpansion(compiled, dynamicallyAnchored(c, doc), objectsWith(doc, "$id", "", nil)).check(field)
}

// expansion is a compiled schema as a graph of what validating a value
// against each subschema applies next.
type expansion struct {
	schemas []*jsonschema.Schema // every subschema reached, the root first
	next    []applied            // by index in schemas
}

// alternatives are subschemas (indexes in schemas) of which validation
// applies one: the targets a $dynamicRef may resolve to, or the items
// schemas of different array positions. Most keywords apply a single one.
type alternatives []int

// applied is what validating a value against a subschema applies next.
type applied struct {
	self      []alternatives            // to the value itself
	keys      map[string][]alternatives // to the object member of that name
	otherKeys []alternatives            // to the object's members not in keys
	items     []alternatives            // to each array item
}

// newExpansion gathers every subschema reachable from root or anchored
// (the subschemas with a $dynamicAnchor, where a $dynamicRef may jump
// though nothing else leads there). resources holds the JSON pointers of
// the subschemas of root's document with an $id.
func newExpansion(root *jsonschema.Schema, anchored []*jsonschema.Schema, resources []string) *expansion {
	b := &builder{index: map[*jsonschema.Schema]int{}, byAnchor: map[string]alternatives{}, resources: resources}
	b.add(root)
	for _, s := range anchored {
		b.add(s)
	}
	for i := 0; i < len(b.e.schemas); i++ {
		b.e.next = append(b.e.next, b.applied(b.e.schemas[i]))
	}
	// The validator resolves a $dynamicRef to a subschema with its anchor
	// in the dynamic scope, and a $recursiveRef to the outermost subschema
	// in scope of a resource with $recursiveAnchor: one it entered from
	// the root, a $ref from another resource, or the resource's own root.
	for _, p := range b.pending {
		targets := b.entries
		if p.anchor != "" {
			targets = b.byAnchor[p.anchor]
		}
		b.e.next[p.from].self = append(b.e.next[p.from].self, append(alternatives{p.first}, targets...))
	}
	return &b.e
}

// dynamicallyAnchored returns the subschemas of doc with a $dynamicAnchor,
// compiled by c already: compiling them again finds them. Objects with one
// that are no subschema (in a "const", say) may fail to compile, and are
// left out.
func dynamicallyAnchored(c *jsonschema.Compiler, doc any) []*jsonschema.Schema {
	var found []*jsonschema.Schema
	for _, ptr := range objectsWith(doc, "$dynamicAnchor", "", nil) {
		if s, err := c.Compile(schemaURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment()); err == nil {
			found = append(found, s)
		}
	}
	return found
}

// objectsWith appends to found the JSON pointers of the objects of doc (at
// ptr) with the given key.
func objectsWith(doc any, key, ptr string, found []string) []string {
	switch v := doc.(type) {
	case map[string]any:
		if _, ok := v[key]; ok {
			found = append(found, ptr)
		}
		for k, x := range v {
			found = objectsWith(x, key, ptr+"/"+escapePointer.Replace(k), found)
		}
	case []any:
		for i, x := range v {
			found = objectsWith(x, key, ptr+"/"+strconv.Itoa(i), found)
		}
	}
	return found
}

var escapePointer = strings.NewReplacer("~", "~0", "/", "~1")

// builder builds an expansion.
type builder struct {
	e         expansion
	index     map[*jsonschema.Schema]int
	resources []string
	byAnchor  map[string]alternatives // subschemas by $dynamicAnchor
	entries   alternatives            // where a $recursiveRef may resolve
	pending   []pendingRef
}

// pendingRef is a $dynamicRef (or, with no anchor, a $recursiveRef) of
// subschema from, with its first target, whose other possible targets are
// known once every subschema is.
type pendingRef struct {
	from, first int
	anchor      string
}

// add returns the index of s, giving it one if it has none.
func (b *builder) add(s *jsonschema.Schema) int {
	if i, ok := b.index[s]; ok {
		return i
	}
	i := len(b.e.schemas)
	b.index[s] = i
	b.e.schemas = append(b.e.schemas, s)
	if s.DynamicAnchor != "" {
		b.byAnchor[s.DynamicAnchor] = append(b.byAnchor[s.DynamicAnchor], i)
	}
	if i == 0 || s.ID != "" {
		b.entries = append(b.entries, i)
	}
	return i
}

// applied lists what s applies.
func (b *builder) applied(s *jsonschema.Schema) applied {
	return applied{self: b.inPlace(s), keys: b.namedMembers(s), otherKeys: b.otherMembers(s), items: b.items(s)}
}

// inPlace lists what s applies to the value itself.
func (b *builder) inPlace(s *jsonschema.Schema) []alternatives {
	self := b.each(s.Not, s.If, s.Then, s.Else)
	self = append(self, b.each(slices.Concat(s.AllOf, s.AnyOf, s.OneOf)...)...)
	self = append(self, b.each(slices.Collect(maps.Values(s.DependentSchemas))...)...)
	for _, dep := range s.Dependencies {
		if dep, ok := dep.(*jsonschema.Schema); ok {
			self = append(self, b.each(dep)...)
		}
	}
	return append(self, b.refs(s)...)
}

// namedMembers lists what s applies to the members its properties name.
func (b *builder) namedMembers(s *jsonschema.Schema) map[string][]alternatives {
	keys := make(map[string][]alternatives, len(s.Properties))
	for name, p := range s.Properties {
		applies := []*jsonschema.Schema{p, s.UnevaluatedProperties, s.PropertyNames}
		for re, sub := range s.PatternProperties {
			if re.MatchString(name) {
				applies = append(applies, sub)
			}
		}
		keys[name] = b.each(applies...)
	}
	return keys
}

// otherMembers lists what s may apply to the members it doesn't name.
func (b *builder) otherMembers(s *jsonschema.Schema) []alternatives {
	additional, _ := s.AdditionalProperties.(*jsonschema.Schema)
	other := b.each(s.UnevaluatedProperties, s.PropertyNames, additional)
	return append(other, b.each(slices.Collect(maps.Values(s.PatternProperties))...)...)
}

// items lists what s applies to an array item: contains, unevaluatedItems,
// and one of prefixItems (or an items array), items and additionalItems,
// by the item's position.
func (b *builder) items(s *jsonschema.Schema) []alternatives {
	items := b.each(s.Contains, s.UnevaluatedItems)
	rest, _ := s.Items.(*jsonschema.Schema)
	additional, _ := s.AdditionalItems.(*jsonschema.Schema)
	positions := append([]*jsonschema.Schema{s.Items2020, rest, additional}, s.PrefixItems...)
	if tuple, ok := s.Items.([]*jsonschema.Schema); ok {
		positions = append(positions, tuple...)
	}
	var anyPosition alternatives
	for _, one := range b.each(positions...) {
		anyPosition = append(anyPosition, one...)
	}
	if len(anyPosition) == 0 {
		return items
	}
	return append(items, anyPosition)
}

// refs lists what s's references apply, noting those whose targets are
// known only at the end.
func (b *builder) refs(s *jsonschema.Schema) []alternatives {
	from := b.index[s]
	var out []alternatives
	jump := func(target *jsonschema.Schema, late bool, anchor string) {
		to := b.add(target)
		if resource(target, b.resources) != resource(s, b.resources) {
			b.entries = append(b.entries, to)
		}
		if late {
			b.pending = append(b.pending, pendingRef{from, to, anchor})
		} else {
			out = append(out, alternatives{to})
		}
	}
	if s.Ref != nil {
		jump(s.Ref, false, "")
	}
	if d := s.DynamicRef; d != nil {
		// It resolves dynamically only if its first target has the anchor.
		jump(d.Ref, d.Anchor != "" && d.Ref.DynamicAnchor == d.Anchor, d.Anchor)
	}
	if r := s.RecursiveRef; r != nil {
		jump(r, r.RecursiveAnchor, "")
	}
	return out
}

// each gives every non-nil subschema of subs an alternatives of its own.
func (b *builder) each(subs ...*jsonschema.Schema) []alternatives {
	var out []alternatives
	for _, s := range subs {
		if s != nil {
			out = append(out, alternatives{b.add(s)})
		}
	}
	return out
}

// resource names the resource holding s: its document, or in the event
// type's schema, the subschema with an $id (of resources) holding it.
func resource(s *jsonschema.Schema, resources []string) string {
	doc, fragment, _ := strings.Cut(s.Location, "#")
	ptr, err := url.PathUnescape(fragment)
	if doc != schemaURL || err != nil {
		return doc
	}
	holder := ""
	for _, r := range resources {
		if (ptr == r || strings.HasPrefix(ptr, r+"/")) && len(r) > len(holder) {
			holder = r
		}
	}
	return "#" + holder
}

// check refuses a schema whose $refs loop without descending into the
// payload, or which applies more than MaxSchemaExpansion subschemas to one
// payload value.
func (e *expansion) check(field string) error {
	counts, err := e.atValue(field)
	if err != nil {
		return err
	}
	// Each level's counts follow from the level above alone, so once they
	// repeat, so do the levels below them.
	var seen [][]int
	for depth := 0; ; depth++ {
		switch n := counts[0]; {
		case n > MaxSchemaExpansion && depth == 0:
			return errs.InvalidArgument(field, "expands to more than %d subschemas for one payload value once its $refs are followed", MaxSchemaExpansion)
		case n > MaxSchemaExpansion:
			return errs.InvalidArgument(field, "expands to more than %d subschemas for one payload value at depth %d once its $refs are followed", MaxSchemaExpansion, depth)
		case n == 0 || depth == MaxPayloadDepth || slices.ContainsFunc(seen, func(c []int) bool { return slices.Equal(c, counts) }):
			return nil
		}
		seen = append(seen, counts)
		counts = e.below(counts)
	}
}

// atValue counts, for every subschema, the subschemas it applies to the
// value it checks, itself included, up to MaxSchemaExpansion+1. A loop
// among them is refused: the validator stops one with an error, but only
// after trying every path into it, which grows with the factorial of the
// subschemas in the loop.
func (e *expansion) atValue(field string) ([]int, error) {
	const inProgress = -1
	counts := make([]int, len(e.schemas))
	var count func(i int) error
	count = func(i int) error {
		switch counts[i] {
		case inProgress:
			return errs.InvalidArgument(field, "its $refs loop back to %s without descending into the payload", where(e.schemas[i]))
		case 0:
			counts[i] = inProgress
			n := 1
			for _, alts := range e.next[i].self {
				most := 0
				for _, sub := range alts {
					if err := count(sub); err != nil {
						return err
					}
					most = max(most, counts[sub])
				}
				n = capped(n + most)
			}
			counts[i] = n
		}
		return nil
	}
	for i := range e.schemas {
		if err := count(i); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// below takes, for every subschema, the most subschemas it applies to one
// payload value some levels down, and returns them one level further down.
func (e *expansion) below(above []int) []int {
	l := &level{e: e, above: above, steps: make([]*steps, len(e.schemas))}
	counts := make([]int, len(e.schemas))
	for i := range counts {
		counts[i] = l.of(i).most()
	}
	return counts
}

// level computes, at one depth, what each subschema applies to the members
// and items of the value it checks.
type level struct {
	e     *expansion
	above []int
	steps []*steps
}

// of returns what subschema i applies to the members and items of the
// value it checks.
func (l *level) of(i int) *steps {
	if st := l.steps[i]; st != nil {
		return st
	}
	a := l.e.next[i]
	st := &steps{keys: make(map[string]int, len(a.keys)), otherKeys: l.sum(a.otherKeys), items: l.sum(a.items)}
	for name, list := range a.keys {
		st.keys[name] = l.sum(list)
	}
	st = st.trimmed()
	for _, alts := range a.self { // atValue refused loops: this recursion ends
		most := &steps{}
		for _, sub := range alts {
			most = most.combine(l.of(sub), larger)
		}
		st = st.combine(most, add)
	}
	l.steps[i] = st
	return st
}

// sum adds up, over list, the most subschemas one of the alternatives
// applies one level down.
func (l *level) sum(list []alternatives) int {
	n := 0
	for _, alts := range list {
		most := 0
		for _, sub := range alts {
			most = max(most, l.above[sub])
		}
		n = capped(n + most)
	}
	return n
}

// steps counts the subschemas applied to an object member, by name, or to
// an array item. A member not named in keys counts as otherKeys.
type steps struct {
	keys      map[string]int
	otherKeys int
	items     int
}

func (s *steps) key(name string) int {
	if n, ok := s.keys[name]; ok {
		return n
	}
	return s.otherKeys
}

// combine applies op (add or larger, for which 0 is neutral) to s and t,
// by member name. Steps are never changed once made, so they can be
// shared.
func (s *steps) combine(t *steps, op func(a, b int) int) *steps {
	switch {
	case t.isZero():
		return s
	case s.isZero():
		return t
	}
	out := &steps{keys: make(map[string]int, max(len(s.keys), len(t.keys))), otherKeys: op(s.otherKeys, t.otherKeys), items: op(s.items, t.items)}
	for name := range s.keys {
		out.keys[name] = op(s.key(name), t.key(name))
	}
	for name := range t.keys {
		out.keys[name] = op(s.key(name), t.key(name))
	}
	return out.trimmed()
}

func (s *steps) isZero() bool { return len(s.keys) == 0 && s.otherKeys == 0 && s.items == 0 }

// maxStepKeys bounds the member names steps tell apart, so that combining
// steps stays cheap whatever the schema.
const maxStepKeys = 64

// trimmed drops the names counting no more than otherKeys, and past
// maxStepKeys of them, counts every member as the most: both only ever
// count more.
func (s *steps) trimmed() *steps {
	maps.DeleteFunc(s.keys, func(_ string, n int) bool { return n <= s.otherKeys })
	if len(s.keys) > maxStepKeys {
		s.otherKeys, s.keys = slices.Max(slices.Collect(maps.Values(s.keys))), nil
	}
	return s
}

// most is the most subschemas applied to any one member or item.
func (s *steps) most() int {
	n := max(s.otherKeys, s.items)
	for _, k := range s.keys {
		n = max(n, k)
	}
	return n
}

func add(a, b int) int    { return capped(a + b) }
func larger(a, b int) int { return max(a, b) }

// capped keeps counts from overflowing: past the limit, their size doesn't
// matter.
func capped(n int) int { return min(n, MaxSchemaExpansion+1) }

// where names a subschema for an error: its JSON pointer in the event
// type's schema, or its URL in a meta-schema.
func where(s *jsonschema.Schema) string {
	if ptr, ok := strings.CutPrefix(s.Location, schemaURL); ok {
		return ptr
	}
	return s.Location
}
