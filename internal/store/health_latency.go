package store

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// latencyBounds are the upper bounds of the latency histogram's buckets; the
// last bucket holds everything slower.
var latencyBounds = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second,
}

// histogram counts latencies per bucket of latencyBounds, plus one overflow
// bucket.
type histogram []int32

func newHistogram() histogram { return make(histogram, len(latencyBounds)+1) }

func (h histogram) add(d time.Duration) {
	i, _ := slices.BinarySearch(latencyBounds, d)
	h[i]++
}

// literal writes h as a PostgreSQL array literal, for binding as text.
func (h histogram) literal() string {
	b := []byte{'{'}
	for i, n := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(append(b, '}'))
}

// quantile estimates the q-quantile (0 < q <= 1), interpolating within the
// bucket it falls in.
func (h histogram) quantile(q float64) time.Duration {
	var total int64
	for _, n := range h {
		total += int64(n)
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	for i, n := range h {
		if n == 0 {
			continue
		}
		if seen+float64(n) >= rank {
			lower := time.Duration(0)
			if i > 0 {
				lower = latencyBounds[i-1]
			}
			if i == len(latencyBounds) {
				return lower // the overflow bucket has no upper bound
			}
			frac := (rank - seen) / float64(n)
			return lower + time.Duration(frac*float64(latencyBounds[i]-lower))
		}
		seen += float64(n)
	}
	return latencyBounds[len(latencyBounds)-1]
}

// exactQuantile returns the q-quantile of samples by the nearest-rank method.
func exactQuantile(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}
