package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// closedLoop calls fn from conc goroutines, each as soon as its last call
// returned, until d has passed, and returns the calls completed per second.
// The first error stops it.
func closedLoop(ctx context.Context, p *progress, conc int, d time.Duration, fn func(ctx context.Context) error) (float64, error) {
	var done atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	p.track(timeTracker(start, d, func() string { return thousands(float64(done.Load())) + " done" }))
	g, gctx := errgroup.WithContext(ctx)
	for range conc {
		g.Go(func() error {
			for time.Now().Before(deadline) {
				if err := fn(gctx); err != nil {
					return err
				}
				done.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

// pacer offers a fixed rate of calls, open loop: call i is due at
// start + i/rate whether or not earlier calls have returned, and runs on one
// of conc goroutines. When all are busy the schedule slips, and lateness
// shows as a lower achieved rate.
type pacer struct {
	rate float64
	conc int
	// tolerate keeps going after failed calls (counted in failed) instead of
	// stopping at the first.
	tolerate bool

	issued    atomic.Int64
	failed    atomic.Int64
	lastError atomic.Pointer[string]
}

// run offers calls for d, then waits for those in flight.
func (p *pacer) run(ctx context.Context, d time.Duration, call func(ctx context.Context) error) error {
	tickets := make(chan struct{}, p.conc)
	g, gctx := errgroup.WithContext(ctx)
	for range p.conc {
		g.Go(func() error {
			for range tickets {
				if err := call(gctx); err != nil {
					if !p.tolerate || gctx.Err() != nil {
						return err
					}
					p.failed.Add(1)
					msg := err.Error()
					p.lastError.Store(&msg)
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(tickets)
		interval := time.Duration(float64(time.Second) / p.rate)
		start := time.Now()
		timer := time.NewTimer(0)
		defer timer.Stop()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * interval)
			if due.Sub(start) >= d {
				return nil
			}
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			select {
			case tickets <- struct{}{}:
				p.issued.Add(1)
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	return g.Wait()
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted, by
// nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// quantiles are the usual percentiles of a set of latencies, in ms.
type quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func quantilesOf(samples []time.Duration) quantiles {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return quantiles{
		Count: len(sorted),
		P50:   ms(percentile(sorted, 50)),
		P95:   ms(percentile(sorted, 95)),
		P99:   ms(percentile(sorted, 99)),
		Max:   ms(percentile(sorted, 100)),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timeTracker reports progress through a fixed duration.
func timeTracker(start time.Time, d time.Duration, detail func() string) func() (float64, string) {
	return func() (float64, string) {
		return min(float64(time.Since(start))/float64(d), 1), detail()
	}
}

// countTracker reports progress towards a count.
func countTracker(done func() int64, total int64, unit string) func() (float64, string) {
	return func() (float64, string) {
		n := done()
		return min(float64(n)/float64(total), 1), fmt.Sprintf("%s/%s %s", thousands(float64(n)), thousands(float64(total)), unit)
	}
}
