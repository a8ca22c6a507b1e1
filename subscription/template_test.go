package subscription_test

import (
	"encoding/json"
	"errors"
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
			got, err := tmpl.Render(payload, time.Second)
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
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "output over") {
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
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "longer than") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("Render returned after %s, not at its timeout", elapsed)
		}
	})

	t.Run("TimeoutStopsTheTemplate", func(t *testing.T) {
		// Not parallel: it counts the process's goroutines. A template that
		// loops without writing must stop, not run on after Render returns.
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
			if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "longer than 20ms") {
				t.Fatalf("%s: err = %v, want a timeout", text, err)
			}
		}
		if after := runtime.NumGoroutine(); after > before {
			t.Fatalf("%d goroutines before, %d after: a timed-out template runs on", before, after)
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
		if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "output over") {
			t.Fatalf("err = %v, want the output limit", err)
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
