package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// procStats is the process's resource use at one moment.
type procStats struct {
	RSSBytes   uint64 `json:"rss_bytes"`
	HeapBytes  uint64 `json:"heap_bytes"`
	Goroutines int    `json:"goroutines"`
	Sockets    int    `json:"sockets"`
}

// readProcStats samples the process. Heap is the live heap as of the last
// garbage collection; forceGC collects first, for a figure unaffected by
// where the collector happens to be in its cycle.
func readProcStats(forceGC bool) procStats {
	if forceGC {
		runtime.GC()
	}
	return procStats{RSSBytes: rss(), HeapBytes: liveHeap(), Goroutines: runtime.NumGoroutine(), Sockets: openSockets()}
}

// settledProcStats samples the process five times, 100ms apart, each
// after a garbage collection, and keeps the smallest heap and RSS: what the
// process holds on to, rather than what the work in flight at one instant
// happens to use.
func settledProcStats(ctx context.Context) procStats {
	best := readProcStats(true)
	for range 4 {
		select {
		case <-ctx.Done():
			return best
		case <-time.After(100 * time.Millisecond):
		}
		s := readProcStats(true)
		best.HeapBytes, best.RSSBytes = min(best.HeapBytes, s.HeapBytes), min(best.RSSBytes, s.RSSBytes)
		best.Goroutines, best.Sockets = s.Goroutines, s.Sockets
	}
	return best
}

var liveHeapSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func liveHeap() uint64 {
	s := make([]metrics.Sample, 1)
	copy(s, liveHeapSample)
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// rss reads VmRSS from /proc/self/status (Linux); 0 elsewhere.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// openSockets counts the process's file descriptors that are sockets
// (Linux); 0 elsewhere.
func openSockets() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}
