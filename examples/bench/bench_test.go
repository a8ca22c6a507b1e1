package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/localpg"
)

// These tests check the program's flags, its arithmetic and its cleanup;
// the scenarios themselves are in scenarios_test.go (make test-bench).

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

// TestRoundRatios: a target judged in every round fails on one round
// under its goal even when the medians meet it; one judged on medians
// only lists the rounds.
func TestRoundRatios(t *testing.T) {
	t.Parallel()

	r := &Results{}
	for _, round := range [][2]float64{{160, 100}, {140, 100}, {170, 100}} {
		r.add("value", SectionSparrow, "value", round[0], "1/s")
		r.add("ref", SectionBaseline, "reference", round[1], "1/s")
	}
	r.mergeRounds()
	r.relative("medians", "value", "ref", 1.5)
	r.relativeEveryRound("every round", "value", "ref", 1.5)
	medians, every := r.Targets[0], r.Targets[1]
	if !medians.Met || every.Met {
		t.Errorf("met: medians %v, every round %v; want true, false", medians.Met, every.Met)
	}
	if diff := cmp.Diff([]float64{1.6, 1.4, 1.7}, every.RoundRatios, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("round ratios (-want +got):\n%s", diff)
	}
	if every.Note != "rounds 1.60×, 1.40×, 1.70×" || every.Goal != "≥ 1.5× in every round" {
		t.Errorf("note %q, goal %q", every.Note, every.Goal)
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
