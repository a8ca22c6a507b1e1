package subscription

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// Bounds on templates. A template is written by the namespace's own user but
// runs inside Sparrow's workers, so it is limited in size, nesting, output
// and time.
const (
	MaxTemplateLen         = 16 << 10
	MaxTemplateRangeDepth  = 3
	TemplateOutputMaxBytes = 256 << 10
	TemplateTimeoutDefault = 250 * time.Millisecond
)

// ErrTemplate is matched by every error a template produces when rendered.
var ErrTemplate = errors.New("template failed")

// Template is a compiled payload template: Go text/template over the event's
// payload decoded from JSON (numbers stay exact), whose output must be JSON.
// Besides text/template's built-in functions it offers json, which writes a
// value as JSON, so `{"text": {{json .title}}}` stays valid whatever the
// title holds.
type Template struct {
	tmpl *template.Template
}

var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// ParseTemplate compiles a template, refusing what can't run: syntax errors,
// unknown functions, deep range nesting, oversize source.
func ParseTemplate(field, text string) (*Template, error) {
	if len(text) > MaxTemplateLen {
		return nil, errs.InvalidArgument(field, "longer than %d bytes", MaxTemplateLen)
	}
	tmpl, err := template.New("transform").Funcs(funcs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, errs.InvalidArgument(field, "%s", trimTemplatePrefix(err.Error()))
	}
	depth, invokes := shape(tmpl.Root)
	switch {
	case depth > MaxTemplateRangeDepth:
		return nil, errs.InvalidArgument(field, "range nested %d deep; at most %d", depth, MaxTemplateRangeDepth)
	case invokes || len(tmpl.Templates()) > 1:
		return nil, errs.InvalidArgument(field, "define, block and template actions are not supported")
	}
	return &Template{tmpl: tmpl}, nil
}

// Render runs the template on payload and returns its output, which must be
// valid JSON. It gives up after timeout or TemplateOutputMaxBytes of output.
// Every error matches ErrTemplate.
func (t *Template) Render(payload []byte, timeout time.Duration) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrTemplate, err)
	}
	out := &limitedBuffer{limit: TemplateOutputMaxBytes}
	done := make(chan error, 1)
	go func() { done <- t.tmpl.Execute(out, data) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrTemplate, trimTemplatePrefix(err.Error()))
		}
	case <-timer.C:
		// The execution cannot be interrupted; its writes now fail, and its
		// data is bounded by the payload limit, so it ends on its own.
		out.abandon()
		return nil, fmt.Errorf("%w: took longer than %s", ErrTemplate, timeout)
	}
	body := out.bytes()
	if !json.Valid(body) {
		return nil, fmt.Errorf("%w: output is not valid JSON", ErrTemplate)
	}
	return body, nil
}

// trimTemplatePrefix drops text/template's "template: " prefix, which adds
// nothing in a field-named error.
func trimTemplatePrefix(s string) string { return strings.TrimPrefix(s, "template: ") }

// shape reports how deeply range actions nest in a template and whether it
// invokes other templates (define, block, template), which Sparrow refuses:
// one template per subscription, no recursion.
func shape(node parse.Node) (rangeDepth int, invokes bool) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0, false
		}
		for _, child := range n.Nodes {
			d, inv := shape(child)
			rangeDepth, invokes = max(rangeDepth, d), invokes || inv
		}
		return rangeDepth, invokes
	case *parse.RangeNode:
		d, inv := branches(&n.BranchNode)
		return d + 1, inv
	case *parse.IfNode:
		return branches(&n.BranchNode)
	case *parse.WithNode:
		return branches(&n.BranchNode)
	case *parse.TemplateNode:
		return 0, true
	}
	return 0, false
}

func branches(n *parse.BranchNode) (int, bool) {
	d1, inv1 := shape(n.List)
	d2, inv2 := shape(n.ElseList)
	return max(d1, d2), inv1 || inv2
}

var (
	errOutputTooLarge = fmt.Errorf("output over %d bytes", TemplateOutputMaxBytes)
	errAbandoned      = errors.New("abandoned after timeout")
)
