package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/subscription"
)

// TestTemplateCacheBounds: fan-out renders under Template.Render's bounds,
// so a template built to exhaust the worker fails its delivery. The timeout
// is long, so that the byte budget, which doesn't depend on the machine's
// speed, is what must stop it.
func TestTemplateCacheBounds(t *testing.T) {
	t.Parallel()

	cache := newTemplateCache(time.Minute)
	attack := "{{range .a}}{{range $.a}}{{range $.a}}" +
		strings.Repeat(`{{$x := printf "%s" (printf "%0250000d" 0)}}`, 300) + "{{end}}{{end}}{{end}}{}"
	_, err := cache.render(attack, []byte(`{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}`))
	if !errors.Is(err, subscription.ErrTemplate) || !strings.Contains(err.Error(), "built more than 1 MiB") {
		t.Fatalf("err = %v, want the byte budget spent", err)
	}

	got, err := cache.render(`{"id": {{json .id}}}`, []byte(`{"id": "evt_1"}`))
	if err != nil || string(got) != `{"id": "evt_1"}` {
		t.Fatalf("an ordinary template rendered %s, %v", got, err)
	}
}
