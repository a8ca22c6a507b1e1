// Package benchcmp reports a benchmark beside a baseline measured in the
// same run, as a ratio: absolute figures drift between machines, ratios to
// a baseline on the same machine much less.
package benchcmp

import (
	"testing"
	"time"
)

// Report runs baseline (one operation) as many times as b's loop ran and
// adds to b the baseline's time per operation and b's ratio to it
// ("x-baseline": 1.0 is as fast as the baseline). Call it after b's loop.
func Report(b *testing.B, baseline func()) {
	b.Helper()
	n := b.N
	if n == 0 {
		return
	}
	ours := float64(b.Elapsed().Nanoseconds()) / float64(n)
	start := time.Now()
	for range n {
		baseline()
	}
	base := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.ReportMetric(base, "baseline-ns/op")
	b.ReportMetric(ours/base, "x-baseline")
}
