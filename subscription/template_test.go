package subscription_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/subscription"
)

func TestTemplate(t *testing.T) {
	t.Parallel()

	payload := []byte(`{"order_id":"ord_\"1\"","total":49.99,"big":12345678901234567890,"items":[{"sku":"a"},{"sku":"b"}]}`)
	tests := []struct {
		name    string
		text    string
		want    string
		wantErr string
	}{
		{"Fields", `{"id": {{json .order_id}}, "total": {{.total}}}`, `{"id": "ord_\"1\"", "total": 49.99}`, ""},
		{"NumbersExact", `{"n": {{.big}}}`, `{"n": 12345678901234567890}`, ""},
		{"Range", `[{{range $i, $it := .items}}{{if $i}},{{end}}{{json $it.sku}}{{end}}]`, `["a","b"]`, ""},
		{"MissingKeyIsEmpty", `{"x": {{json .missing}}}`, `{"x": null}`, ""},
		{"Slack", `{"text": {{json (printf "Order %s: $%v" .order_id .total)}}}`, `{"text": "Order ord_\"1\": $49.99"}`, ""},
		{"NotJSON", `{"id": "{{.order_id}}"}`, "", "not valid JSON"},
		{"ExecError", `{{index .items 5}}`, "", "index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tmpl, err := subscription.ParseTemplate("template", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(payload, time.Minute)
			if tt.wantErr != "" {
				if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a template error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("rendered %s, want %s", got, tt.want)
			}
		})
	}
}

// TestTemplateLargePayload renders ordinary templates over a payload near
// the 256 KiB default limit: the bounds leave them room.
func TestTemplateLargePayload(t *testing.T) {
	t.Parallel()

	type item struct {
		SKU  string `json:"sku"`
		Qty  int    `json:"qty"`
		Name string `json:"name"`
	}
	items := make([]item, 1500)
	for i := range items {
		items[i] = item{fmt.Sprintf("SKU-%05d", i), i % 7, "Widget <" + strings.Repeat("x", 90) + ">"}
	}
	payload, _ := json.Marshal(map[string]any{"order_id": "ord_1", "items": items})
	for name, text := range map[string]string{
		"Passthrough": `{{json .}}`,
		"Reshape":     `{"order": {{json .order_id}}, "count": {{len .items}}, "lines": {{json .items}}}`,
		"SlackBlocks": `{"blocks": [{{range $i, $it := .items}}{{if $i}},{{end}}{"type": "section", "text": ` +
			`{{json (printf "*%-10s* × %v: %.60s" $it.sku $it.qty (html $it.name))}}}{{end}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			tmpl, err := subscription.ParseTemplate("template", text)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tmpl.Render(payload, time.Minute) // what it renders is checked, not how fast
			if err != nil {
				t.Fatalf("payload of %d KiB: %v", len(payload)>>10, err)
			}
			if len(out) < 128<<10 {
				t.Fatalf("rendered %d KiB; the test wants a large output", len(out)>>10)
			}
		})
	}
}

func TestTemplateBounds(t *testing.T) {
	t.Parallel()

	t.Run("OutputLimit", func(t *testing.T) {
		t.Parallel()

		tmpl, err := subscription.ParseTemplate("template", `{{range .a}}{{range $.a}}{{range $.a}}xxxxxxxxxxxxxxxx{{end}}{{end}}{{end}}`)
		if err != nil {
			t.Fatal(err)
		}
		items := make([]int, 100)
		payload, _ := json.Marshal(map[string]any{"a": items})
		_, err = tmpl.Render(payload, 5*time.Second)
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "output over 256 KiB") {
			t.Fatalf("err = %v, want the output limit", err)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()

		// 3 nested ranges over 300 items: 27M silent iterations.
		tmpl, err := subscription.ParseTemplate("template", `{{range .a}}{{range $.a}}{{range $.a}}{{end}}{{end}}{{end}}1`)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]any{"a": make([]int, 300)})
		start := time.Now()
		_, err = tmpl.Render(payload, 50*time.Millisecond)
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "ran past its 50ms limit") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		// 27M iterations take many seconds; a busy machine adds less.
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Fatalf("Render returned after %s, not at its timeout", elapsed)
		}
	})

	t.Run("ValuesBounded", func(t *testing.T) {
		t.Parallel()

		// Each variable four times the last: without bounds on what
		// functions build, gigabytes before anything is written.
		text := `{{$a := print . . . .}}{{$b := print $a $a $a $a}}{{$c := print $b $b $b $b}}{{$d := print $c $c $c $c}}` +
			`{{$e := printf "%s%s%s%s" $d $d $d $d}}{{$f := html $e $e $e $e}}{{$g := print $f $f $f $f}}{}`
		tmpl, err := subscription.ParseTemplate("template", text)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]string{"s": strings.Repeat("x", 4<<10)})
		_, err = tmpl.Render(payload, 5*time.Second)
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "built more than 1 MiB") {
			t.Fatalf("err = %v, want the byte budget spent", err)
		}
	})

	t.Run("SlowCallsInOneIteration", func(t *testing.T) {
		t.Parallel()

		// Each call takes milliseconds to sort and format a map of 1,000
		// keys to 2 KB (precision 0 drops keys and values): the deadline,
		// checked by every call, comes long before the budget.
		tmpl, err := subscription.ParseTemplate("template", "{{range .one}}"+strings.Repeat(`{{$x := printf "%.0v" $}}`, 500)+"{{end}}{}")
		if err != nil {
			t.Fatal(err)
		}
		items := map[string]int{}
		for i := range 1000 {
			items[fmt.Sprintf("k%04d", i)] = i
		}
		payload, _ := json.Marshal(map[string]any{"one": []int{1}, "items": items})
		start := time.Now()
		_, err = tmpl.Render(payload, 50*time.Millisecond)
		elapsed := time.Since(start)
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "ran past its 50ms limit") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		// The 500 calls take seconds; stopping at the first call past the
		// deadline takes 50ms and a call, which a busy machine stretches.
		if elapsed > time.Second {
			t.Fatalf("Render returned after %s; its timeout was 50ms", elapsed)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()

		for _, text := range []string{
			"{{", `{{call .f}}x{{end}}`, `{{template "x"}}`, strings.Repeat("x", subscription.MaxTemplateLen+1),
			`{{range .a}}{{range .a}}{{range .a}}{{range .a}}{{end}}{{end}}{{end}}{{end}}`,
			"{{print" + strings.Repeat(" .", subscription.MaxTemplateArgs) + "}}",
			"{{if (print" + strings.Repeat(" .", subscription.MaxTemplateArgs) + ")}}{{end}}",
			`{{sparrowTick}}`,
			"{\"a\": 1}\x00",
			"{\"a\": \"\xff\"}",
		} {
			if _, err := subscription.ParseTemplate("template", text); err == nil {
				t.Errorf("ParseTemplate(%.40q) accepted", text)
			}
		}
	})
}

// TestTemplateTimeoutStopsTheTemplate: a template that loops without
// writing must stop, not run on after Render returns. Not parallel: it
// counts the process's goroutines.
func TestTemplateTimeoutStopsTheTemplate(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, text := range []string{
		`{{range 1000000000}}{{end}}{}`,
		`{{range .a}}{{range $.a}}{{range 100000000}}{{end}}{{end}}{{end}}{}`,
	} {
		tmpl, err := subscription.ParseTemplate("template", text)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tmpl.Render([]byte(`{"a": [1, 2, 3]}`), 20*time.Millisecond)
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "ran past its 20ms limit") {
			t.Fatalf("%s: err = %v, want a timeout", text, err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after: a timed-out template runs on", before, after)
	}
}

// attackTemplates are the shapes of a template written to exhaust the
// server that renders it. Each must spend the render's byte budget.
var attackTemplates = []struct {
	name, text string
	maxAlloc   uint64 // bytes allocated by one render, at most
}{
	// The reported attack: 14 KB of nested wide printf in a range.
	{"WideVerbsInRange", "{{range .a}}{{range $.a}}{{range $.a}}" +
		strings.Repeat(`{{$x := printf "%s" (printf "%0250000d" 0)}}`, 300) + "{{end}}{{end}}{{end}}{}", 6 << 20},
	// Wider than the whole budget: refused before formatting.
	{"WiderThanTheBudget", `{{printf "%0999999d%0999999d" 0 0}}`, 64 << 10},
	{"WidthFromAnArgument", `{{printf "%0*d%0*d" 999999 0 999999 0}}`, 64 << 10},
	{"WidthPerElement", `{{printf "%0900000v" .a}}`, 64 << 10},
	// Variables hold what they are given: each declaration is kept.
	{"VariablesAccumulate", strings.Repeat(`{{$v := printf "%0250000d" 0}}`, 400) + "{}", 6 << 20},
	{"VariablesDouble", `{{$a := printf "%0200000d" 0}}{{$b := print $a $a}}{{$c := print $b $b $b $b $b $b $b $b}}{}`, 6 << 20},
	// Results discarded at once, many to an iteration.
	{"ManyCallsInOneIteration", "{{range .a}}" + strings.Repeat(`{{if printf "%0100000d" 0}}{{end}}`, 400) + "{{end}}{}", 6 << 20},
	{"ManyArgumentsAtOnce", `{{$a := printf "%0500000d" 0}}{{print` + strings.Repeat(" $a", 31) + `}}`, 6 << 20},
	{"Escapers", `{{$a := printf "%0300000s" "<"}}{{$b := html $a $a}}{{$c := js $b}}{{urlquery $c $c}}`, 6 << 20},
}

// TestTemplateAttacks renders each attack once and measures it: it must
// fail on the byte budget, within a small multiple of its timeout, having
// allocated a few MiB at most. Not parallel: TotalAlloc counts the process.
// The timeout is generous so that a loaded machine still reaches the
// budget first; TestTemplateTimeoutStopsTheTemplate checks the deadline.
func TestTemplateAttacks(t *testing.T) {
	const timeout = 2 * time.Second
	payload, _ := json.Marshal(map[string]any{"a": make([]int, 10)})
	for _, tt := range attackTemplates {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := subscription.ParseTemplate("template", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err = tmpl.Render(payload, timeout)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s, %d KiB allocated: %v", elapsed.Round(time.Millisecond), alloc>>10, err)
			if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "built more than 1 MiB") {
				t.Errorf("err = %v, want the byte budget spent", err)
			}
			if elapsed > 4*timeout {
				t.Errorf("Render returned after %s; its timeout was %s", elapsed, timeout)
			}
			if alloc > tt.maxAlloc {
				t.Errorf("Render allocated %d KiB; at most %d KiB expected", alloc>>10, tt.maxAlloc>>10)
			}
		})
	}
}

// FuzzTemplate renders arbitrary templates over arbitrary payloads: never a
// panic, and any output returned is JSON.
func FuzzTemplate(f *testing.F) {
	f.Add(`{"id": {{json .id}}}`, []byte(`{"id": "x"}`))
	f.Add(`{{range .a}}{{.}}{{end}}`, []byte(`{"a": [1, 2]}`))
	f.Add(`{{index . "k"}}`, []byte(`{"k": {"n": null}}`))
	f.Add(`{{printf "%v" .}}`, []byte(`{}`))
	f.Add(`{{slice .s 1 2}}`, []byte(`{"s": "abc"}`))
	f.Add(`{{len .}}`, []byte(`[]`))
	f.Add(`{{.a.b.c}}`, []byte(`not json`))
	f.Fuzz(func(t *testing.T, text string, payload []byte) {
		tmpl, err := subscription.ParseTemplate("template", text)
		if err != nil {
			return
		}
		out, err := tmpl.Render(payload, 50*time.Millisecond)
		if err == nil && !json.Valid(out) {
			t.Fatalf("Render returned invalid JSON %q", out)
		}
		if err != nil && !errors.Is(err, subscription.ErrTemplate) {
			t.Fatalf("error %v does not match ErrTemplate", err)
		}
	})
}
