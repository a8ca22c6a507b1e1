package store

import (
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	t.Parallel()

	h := newHistogram()
	for range 90 {
		h.add(3 * time.Millisecond) // bucket (0, 5ms]
	}
	for range 10 {
		h.add(700 * time.Millisecond) // bucket (500ms, 1s]
	}
	p50 := h.quantile(0.5)
	if p50 <= 0 || p50 > 5*time.Millisecond {
		t.Errorf("p50 %s, want within (0, 5ms]", p50)
	}
	p95 := h.quantile(0.95)
	if p95 <= 500*time.Millisecond || p95 > time.Second {
		t.Errorf("p95 %s, want within (500ms, 1s]", p95)
	}
	slow := newHistogram()
	slow.add(2 * time.Minute)
	if got := slow.quantile(0.95); got != 60*time.Second {
		t.Errorf("overflow bucket p95 %s, want its lower bound 60s", got)
	}
	if got := newHistogram().quantile(0.95); got != 0 {
		t.Errorf("empty p95 %s", got)
	}
	if got := h.literal(); got != "{90,0,0,0,0,0,0,10,0,0,0,0,0,0}" {
		t.Errorf("literal %s", got)
	}
	samples := []time.Duration{5, 1, 4, 2, 3}
	if got := exactQuantile(samples, 0.95); got != 5 {
		t.Errorf("exact p95 %d", got)
	}
}
