package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/localpg"
)

// The tests run the whole program with tiny sizes against the PostgreSQL
// the other tests use, and check that every figure comes out and makes
// sense, so the benchmark can't rot between the times someone runs it for
// real. They judge no performance.

// TestMain fails the run if the program left goroutines behind: engines,
// River clients, pools, receivers and the progress display must all stop.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before && code == 0 {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(os.Stderr, "%d goroutines before the tests, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		code = 1
	}
	os.Exit(code)
}

func TestBenchQuick(t *testing.T) {
	t.Parallel()

	res := runBench(t, "-quick", "-history", "300", "-instances", "2")
	want := []string{
		"river_noop", "insert_commit_c1", "insert_commit_c8", "insert_river_tx_c1", "insert_river_tx_c8",
		"push_event_tx_c1", "push_event_tx_c8", "push_events", "naive_delivery",
		"e2e_1_webhook", "e2e_1_webhook_2_instances", "e2e_10_webhooks", "e2e_10_webhooks_2_instances",
		"latency_achieved", "latency_p50", "latency_p95", "latency_p99", "latency_max", "push_call_p99",
		"fairness_pushed", "fairness_healthy_rate", "fairness_healthy_p50", "fairness_healthy_p99",
		"fairness_pushed_stalled", "fairness_healthy_rate_stalled", "fairness_healthy_p50_stalled", "fairness_healthy_p99_stalled",
		"fairness_stalled_in_flight", "fairness_per_webhook_limit",
		"backlog_heap_first", "backlog_heap_last", "backlog_rss_first", "backlog_rss_last", "backlog_heap_slope",
		"history_prefill", "history_push_tx_empty", "history_push_tx_full", "history_e2e_empty", "history_e2e_full",
		"history_list_p99_empty", "history_list_p99_full",
	}
	checkFigures(t, res, want)
	if n := len(res.Targets); n != 13 {
		t.Errorf("%d targets judged, want 13: %+v", n, res.Targets)
	}
	for _, target := range res.Targets {
		if target.Reference <= 0 || target.Ratio <= 0 || target.Goal == "" {
			t.Errorf("target %q incomplete: %+v", target.Name, target)
		}
	}
	if res.Latency == nil || res.Latency.Late != 0 || res.Latency.Delivery.Count == 0 {
		t.Errorf("latency: %+v", res.Latency)
	}
	if f := res.Fairness; f == nil || f.AllHealthy.Late != 0 || f.OneStalled.Late != 0 ||
		f.AllHealthy.Delivery.Count == 0 || f.OneStalled.Delivery.Count == 0 || f.OneStalled.TenthRequests == 0 {
		t.Errorf("fairness: %+v", res.Fairness)
	}
	if len(res.Backlog) < 2 {
		t.Errorf("%d backlog samples, want several", len(res.Backlog))
	}
	if res.History == nil || res.History.Rows != 300 || len(res.History.Queries) == 0 {
		t.Errorf("history: %+v", res.History)
	}
	// Four end-to-end runs, latency, fairness's two, backlog, history's two.
	if n := len(res.Diagnostics); n != 10 {
		t.Errorf("%d diagnostics, want 10: %+v", n, res.Diagnostics)
	}
	for _, d := range res.Diagnostics {
		if d.PoolAcquires <= 0 {
			t.Errorf("diagnostic without pool acquires: %+v", d)
		}
	}
}

func TestBenchSoak(t *testing.T) {
	t.Parallel()

	res := runBench(t, "-soak", "2500ms", "-sample-every", "500ms", "-rate", "200", "-soak-webhooks", "2")
	checkFigures(t, res, []string{
		"soak_delivered", "soak_worst_p99", "soak_rss_last", "soak_heap_last", "soak_goroutines_last",
		"soak_sockets_last", "soak_pool_conns_last", "soak_server_conns_last",
	})
	s := res.Soak
	if s == nil {
		t.Fatal("no soak result")
	}
	if len(s.Samples) < 3 || len(s.Checks) == 0 {
		t.Errorf("%d samples, %d checks", len(s.Samples), len(s.Checks))
	}
	if s.Received != s.Pushed*2 || s.PushErrors != 0 {
		t.Errorf("pushed %d events to 2 webhooks, received %d, %d push errors", s.Pushed, s.Received, s.PushErrors)
	}
}

// TestBenchInterrupted cancels a run midway, as Ctrl-C does, and checks
// that its database is gone. Not parallel: it looks for any database of
// this process.
func TestBenchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(1500*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-quick", "-duration", "10s", "-json", "-progress", "off"}, &stdout, &stderr)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run = %v, want context.Canceled\n%s", err, stderr.String())
	}
	srv, err := localpg.Find(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := pgx.Connect(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT datname FROM pg_database WHERE datname LIKE $1",
		fmt.Sprintf("%s%%\\_%d\\_%%", databasePrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("databases left after the interrupted run: %q", left)
	}
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()

	for _, args := range [][]string{{"-only", "nosuch"}, {"-payload", "10"}, {"-progress", "loud"}, {"extra"}} {
		var stderr bytes.Buffer
		if err := run(context.Background(), args, &bytes.Buffer{}, &stderr); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// runBench runs the program with args (plus -json, no progress) and returns
// its results.
func runBench(t *testing.T, args ...string) *Results {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "-json", "-progress", "off")
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	var res Results
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	if res.EngineLog.Errors > 0 {
		t.Errorf("the engines logged %d errors: %q", res.EngineLog.Errors, res.EngineLog.First)
	}
	return &res
}

// checkFigures checks res has every figure of want, each positive, and no
// other.
func checkFigures(t *testing.T, res *Results, want []string) {
	t.Helper()
	var got []string
	for _, f := range res.Figures {
		got = append(got, f.Key)
		if !(f.Value > 0) && !(f.Signed && !math.IsNaN(f.Value) && !math.IsInf(f.Value, 0)) {
			t.Errorf("figure %s (%s) = %v, want > 0", f.Key, f.Label, f.Value)
		}
		if f.Label == "" {
			t.Errorf("figure %s has no label", f.Key)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("figures:\n got  %s\n want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

func TestMergeRounds(t *testing.T) {
	t.Parallel()

	r := &Results{}
	for _, v := range []float64{3, 1, 2} {
		r.add("rate", SectionSparrow, "a rate", v, "1/s")
		r.add("other", SectionSparrow, "another", 10*v, "1/s")
	}
	r.add("once", SectionBaseline, "measured once", 7, "1/s")
	r.mergeRounds()
	want := []Figure{
		{Key: "rate", Section: SectionSparrow, Label: "a rate", Value: 2, Unit: "1/s", Rounds: []float64{3, 1, 2}},
		{Key: "other", Section: SectionSparrow, Label: "another", Value: 20, Unit: "1/s", Rounds: []float64{30, 10, 20}},
		{Key: "once", Section: SectionBaseline, Label: "measured once", Value: 7, Unit: "1/s"},
	}
	if diff := cmp.Diff(want, r.Figures); diff != "" {
		t.Errorf("merged figures (-want +got):\n%s", diff)
	}
}

func TestHeapSlope(t *testing.T) {
	t.Parallel()

	var samples []BacklogSample
	for _, owed := range []int64{10_000, 20_000, 50_000, 100_000} {
		samples = append(samples, BacklogSample{Owed: owed, procStats: procStats{HeapBytes: uint64(1<<20 + 100*owed)}})
	}
	if got := heapSlope(samples); math.Abs(got-100) > 1e-6 {
		t.Errorf("slope %v bytes per owed delivery, want 100", got)
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()

	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4321: "-4,321"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
	sorted := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]time.Duration{50: 5, 95: 10, 99: 10, 100: 10, 10: 1} {
		if got := percentile(sorted, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
}
