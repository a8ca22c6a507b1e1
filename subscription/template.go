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
	"github.com/sparrowhq/sparrow/internal/validate"
)

// Bounds on templates. A template is written by the namespace's own user but
// runs inside Sparrow's workers, so it is limited in size, nesting, output,
// the strings it builds and time.
const (
	MaxTemplateLen         = 16 << 10
	MaxTemplateRangeDepth  = 3
	TemplateOutputMaxBytes = 256 << 10
	TemplateTimeoutDefault = 250 * time.Millisecond
)

// TemplateBuildMaxBytes bounds the strings one render's functions build in
// all (json, print, printf, println, html, js, urlquery), written, kept in
// variables or dropped: four times the output limit, room for output built
// in steps (printf, then json). With the output, it bounds what a render
// holds, and so what a template can take from the worker running it.
const TemplateBuildMaxBytes = 1 << 20

// MaxTemplateArgs bounds the arguments of one function call in a template,
// so that no call builds a value much larger than the output limit.
const MaxTemplateArgs = 32

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

// tickFunc is called at the start of every range iteration, which is where
// a template can loop: it ends a render past its deadline.
const tickFunc = "sparrowTick"

// ParseTemplate compiles a template, refusing what can't run: syntax errors,
// unknown functions, deep range nesting, calls with too many arguments,
// oversize source.
func ParseTemplate(field, text string) (*Template, error) {
	if len(text) > MaxTemplateLen {
		return nil, errs.InvalidArgument(field, "longer than %d bytes", MaxTemplateLen)
	}
	if err := validate.Text(field, text, MaxTemplateLen); err != nil {
		return nil, err // stored as text: UTF-8, no NUL bytes
	}
	if strings.Contains(text, tickFunc) {
		return nil, errs.InvalidArgument(field, "%s is reserved", tickFunc)
	}
	tmpl, err := template.New("transform").Funcs(parseFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, errs.InvalidArgument(field, "%s", trimTemplatePrefix(err.Error()))
	}
	sh := shape(tmpl.Root)
	switch {
	case sh.rangeDepth > MaxTemplateRangeDepth:
		return nil, errs.InvalidArgument(field, "range nested %d deep; at most %d", sh.rangeDepth, MaxTemplateRangeDepth)
	case sh.invokes || len(tmpl.Templates()) > 1:
		return nil, errs.InvalidArgument(field, "define, block and template actions are not supported")
	case sh.maxArgs > MaxTemplateArgs:
		return nil, errs.InvalidArgument(field, "a call with %d arguments; at most %d", sh.maxArgs, MaxTemplateArgs)
	}
	tick, err := template.New("tick").Funcs(parseFuncs).Parse("{{" + tickFunc + "}}")
	if err != nil {
		return nil, err
	}
	insertTicks(tmpl.Root, tick.Root.Nodes[0])
	return &Template{tmpl: tmpl}, nil
}

// Render runs the template on payload and returns its output, which must be
// valid JSON. It stops at timeout, at TemplateOutputMaxBytes of output or
// once its functions have built TemplateBuildMaxBytes, and returns only once
// the template has stopped. Every error matches ErrTemplate.
func (t *Template) Render(payload []byte, timeout time.Duration) ([]byte, error) {
	r := newRender(timeout)
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrTemplate, err)
	}
	tmpl, err := t.tmpl.Clone()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	tmpl.Funcs(r.funcs())
	out := &limitedBuffer{limit: TemplateOutputMaxBytes}
	if err := tmpl.Execute(out, data); err != nil {
		var limit limitError
		if errors.As(err, &limit) {
			return nil, fmt.Errorf("%w: %v", ErrTemplate, limit)
		}
		return nil, fmt.Errorf("%w: %s", ErrTemplate, trimTemplatePrefix(err.Error()))
	}
	if !json.Valid(out.buf) {
		return nil, fmt.Errorf("%w: output is not valid JSON", ErrTemplate)
	}
	return out.buf, nil
}

// insertTicks makes tick the first action of every range body.
func insertTicks(node parse.Node, tick parse.Node) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, child := range n.Nodes {
			insertTicks(child, tick)
		}
	case *parse.RangeNode:
		insertTicks(n.List, tick)
		insertTicks(n.ElseList, tick)
		n.List.Nodes = append([]parse.Node{tick}, n.List.Nodes...)
	case *parse.IfNode:
		insertTicks(n.List, tick)
		insertTicks(n.ElseList, tick)
	case *parse.WithNode:
		insertTicks(n.List, tick)
		insertTicks(n.ElseList, tick)
	}
}

// trimTemplatePrefix drops text/template's "template: " prefix, which adds
// nothing in a field-named error.
func trimTemplatePrefix(s string) string { return strings.TrimPrefix(s, "template: ") }

// templateShape is what ParseTemplate bounds in a template: how deeply
// range actions nest, whether it invokes other templates (define, block,
// template), which Sparrow refuses (one template per subscription, no
// recursion), and the most arguments of one call.
type templateShape struct {
	rangeDepth int
	invokes    bool
	maxArgs    int
}

func (s templateShape) merge(o templateShape) templateShape {
	return templateShape{max(s.rangeDepth, o.rangeDepth), s.invokes || o.invokes, max(s.maxArgs, o.maxArgs)}
}

func shape(node parse.Node) templateShape {
	var sh templateShape
	switch n := node.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, child := range n.Nodes {
				sh = sh.merge(shape(child))
			}
		}
	case *parse.RangeNode:
		sh = branches(&n.BranchNode)
		sh.rangeDepth++
	case *parse.IfNode:
		sh = branches(&n.BranchNode)
	case *parse.WithNode:
		sh = branches(&n.BranchNode)
	case *parse.TemplateNode:
		sh.invokes = true
	case *parse.ActionNode:
		sh = shape(n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, cmd := range n.Cmds {
				sh = sh.merge(shape(cmd))
			}
		}
	case *parse.CommandNode:
		// Args holds the function and its arguments.
		sh.maxArgs = len(n.Args)
		for _, arg := range n.Args {
			sh = sh.merge(shape(arg))
		}
	}
	return sh
}

func branches(n *parse.BranchNode) templateShape {
	return shape(n.Pipe).merge(shape(n.List)).merge(shape(n.ElseList))
}
