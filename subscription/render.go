package subscription

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// render is one run of a template: the bytes its functions may still build
// and the time it must stop by. The functions that build strings draw from
// it, so neither one call nor many, nor variables keeping their results,
// can hold more than TemplateBuildMaxBytes, and each checks the deadline.
type render struct {
	timeout  time.Duration
	deadline time.Time
	budget   int
}

func newRender(timeout time.Duration) *render {
	return &render{timeout: timeout, deadline: time.Now().Add(timeout), budget: TemplateBuildMaxBytes}
}

// parseFuncs lets templates parse. Bound to a render with no budget and a
// past deadline, they would fail if called.
var parseFuncs = new(render).funcs()

// funcs are the template's functions, bound to r. Those that build strings
// replace text/template's own; tickFunc checks the deadline.
func (r *render) funcs() template.FuncMap {
	return template.FuncMap{
		"json":     r.json,
		"print":    r.bounded(fmt.Sprint),
		"println":  r.bounded(fmt.Sprintln),
		"printf":   r.printf,
		"html":     r.bounded(template.HTMLEscaper),
		"js":       r.bounded(template.JSEscaper),
		"urlquery": r.bounded(template.URLQueryEscaper),
		tickFunc:   func() (string, error) { return "", r.check() },
	}
}

// bounded makes a function that builds a string from its arguments draw
// from r.
func (r *render) bounded(f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		return r.build(fits(r.budget, 0, args...), func() (string, error) { return f(args...), nil })
	}
}

func (r *render) printf(format string, args ...any) (string, error) {
	fit := fits(r.budget-len(format), padding(format, args), args...)
	return r.build(fit, func() (string, error) { return fmt.Sprintf(format, args...), nil })
}

func (r *render) json(v any) (string, error) {
	return r.build(fits(r.budget, 0, v), func() (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	})
}

// build runs f, which builds a string, if the deadline has not passed and
// fit says its arguments fit the budget, then charges the budget what f
// built.
func (r *render) build(fit bool, f func() (string, error)) (string, error) {
	if err := r.check(); err != nil {
		return "", err
	}
	if !fit {
		return "", errBuiltTooMuch
	}
	s, err := f()
	if err != nil {
		return "", err
	}
	if len(s) > r.budget {
		return "", errBuiltTooMuch
	}
	r.budget -= len(s)
	return s, nil
}

// check ends a render past its deadline.
func (r *render) check() error {
	if time.Now().After(r.deadline) {
		return limitError(fmt.Sprintf("ran past its %s limit", r.timeout))
	}
	return nil
}

// limitError is a bound a render hit; Render reports it as it is, without
// text/template's position.
type limitError string

func (e limitError) Error() string { return string(e) }

var (
	errOutputTooLarge = limitError(fmt.Sprintf("output over %d KiB", TemplateOutputMaxBytes>>10))
	errBuiltTooMuch   = limitError(fmt.Sprintf("built more than %d MiB of strings", TemplateBuildMaxBytes>>20))
)

// fits reports whether formatting args, each value padded to pad bytes,
// takes about limit bytes or fewer, before the function runs: it counts the
// strings, keys and numbers of args, walking lists and maps, and stops once
// past limit. Escaping and quoting can make the result a few times larger;
// build then charges its real size.
func fits(limit, pad int, args ...any) bool {
	for _, arg := range args {
		if limit = spend(limit, pad, arg); limit < 0 {
			return false
		}
	}
	return true
}

// scalarBytes is about the most fmt writes for a number, bool or nil
// (a float in %v: -1.2345678901234567e+308).
const scalarBytes = 24

// spend is what remains of limit once v is formatted.
func spend(limit, pad int, v any) int {
	switch v := v.(type) {
	case string:
		return limit - max(len(v), pad)
	case json.Number:
		return limit - max(len(v), pad)
	case []any:
		limit -= max(len("[]"), pad)
		for _, e := range v {
			if limit = spend(limit-len(" "), pad, e); limit < 0 {
				break
			}
		}
		return limit
	case map[string]any:
		limit -= max(len("map[]"), pad)
		for k, e := range v {
			if limit = spend(limit-max(len(k), pad)-len(": "), pad, e); limit < 0 {
				break
			}
		}
		return limit
	}
	return limit - max(scalarBytes, pad)
}

// padding is how wide printf's format can make one value: the sum of its
// widths and precisions, a * counting as the largest int argument (the
// only integers templates make: constants and len). It is checked before
// formatting, which would otherwise build a %0999999d before any limit
// applies.
func padding(format string, args []any) int {
	const most = TemplateBuildMaxBytes + 1
	star := 0
	for _, arg := range args {
		if n, ok := arg.(int); ok {
			star = max(star, min(n, most), min(-n, most))
		}
	}
	pad, n, inVerb := 0, 0, false
	for _, c := range format {
		switch {
		case !inVerb:
			inVerb = c == '%'
			continue
		case c >= '0' && c <= '9':
			n = min(n*10+int(c-'0'), most)
			continue
		case c == '*':
			n = star
		case !strings.ContainsRune("+-# .[]", c):
			inVerb = false // c is the verb
		}
		pad, n = min(pad+n, most), 0
	}
	return pad
}
