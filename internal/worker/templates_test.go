package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/subscription"
)

// TestTemplateCacheBounds: fan-out renders under Template.Render's bounds,
// so a template built to exhaust the worker fails its delivery promptly.
func TestTemplateCacheBounds(t *testing.T) {
	t.Parallel()

	const timeout = 250 * time.Millisecond
	cache := newTemplateCache(timeout)
	attack := "{{range .a}}{{range $.a}}{{range $.a}}" +
		strings.Repeat(`{{$x := printf "%s" (printf "%0250000d" 0)}}`, 300) + "{{end}}{{end}}{{end}}{}"
	start := time.Now()
	_, err := cache.render(attack, []byte(`{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}`))
	if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "built more than 1 MiB") {
		t.Fatalf("err = %v, want the byte budget spent", err)
	}
	if elapsed := time.Since(start); elapsed > 4*timeout {
		t.Fatalf("render returned after %s; its timeout was %s", elapsed, timeout)
	}

	got, err := cache.render(`{"id": {{json .id}}}`, []byte(`{"id": "evt_1"}`))
	if err != nil || string(got) != `{"id": "evt_1"}` {
		t.Fatalf("an ordinary template rendered %s, %v", got, err)
	}
}
