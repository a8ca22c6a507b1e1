//go:build benchscenarios

package main

// The scenario tests run the whole program with tiny sizes against the
// PostgreSQL the other tests use, and check that every figure comes out and
// makes sense, so the benchmark can't rot between the times someone runs it
// for real. They judge no performance, but some scenarios need a machine
// with time to spare (a backlog must outgrow the engine), so they run apart
// from make test: make test-bench.

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestBenchQuick(t *testing.T) {
	t.Parallel()

	res := runBench(t, "-quick", "-history", "300", "-instances", "2")
	want := []string{
		"river_noop", "insert_commit_c1", "insert_commit_c8", "insert_river_tx_c1", "insert_river_tx_c8",
		"push_event_tx_c1", "push_event_tx_c8", "push_events", "naive_delivery",
		"e2e_1_webhook", "e2e_1_webhook_2_instances", "e2e_10_webhooks", "e2e_10_webhooks_2_instances", "e2e_ordered",
		"latency_achieved", "latency_p50", "latency_p95", "latency_p99", "latency_max", "push_call_p99",
		"fairness_pushed", "fairness_healthy_rate", "fairness_healthy_p50", "fairness_healthy_p99",
		"fairness_pushed_stalled", "fairness_healthy_rate_stalled", "fairness_healthy_p50_stalled", "fairness_healthy_p99_stalled",
		"fairness_stalled_in_flight", "fairness_per_webhook_limit",
		"backlog_heap_first", "backlog_heap_last", "backlog_rss_first", "backlog_rss_last", "backlog_heap_slope",
		"history_prefill", "history_push_tx_empty", "history_push_tx_full", "history_e2e_empty", "history_e2e_full",
		"history_list_p99_empty", "history_list_p99_full",
		"tenants_b_pushed", "tenants_b_p50", "tenants_b_p99", "tenants_b_pushed_shared", "tenants_b_p50_shared", "tenants_b_p99_shared",
		"tenants_a_rate",
		"tenants_b_fanout_wait_p99", "tenants_b_fanout_p99", "tenants_b_fetch_p99", "tenants_b_start_p99",
		"tenants_b_fanout_wait_p99_shared", "tenants_b_fanout_p99_shared", "tenants_b_fetch_p99_shared", "tenants_b_start_p99_shared",
		"api_ingest", "api_e2e_1_webhook", "api_e2e_p50", "api_e2e_p99",
	}
	checkFigures(t, res, want)
	if n := len(res.Targets); n != 17 {
		t.Errorf("%d targets judged, want 17: %+v", n, res.Targets)
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
	if tn := res.Tenants; tn == nil || tn.Alone.Delivery.Count == 0 || tn.Shared.Delivery.Count == 0 || tn.Shared.AReceived == 0 {
		t.Errorf("fair sharing between namespaces: %+v", res.Tenants)
	} else {
		// Every delivery of B's is found in the database's records, stage by stage.
		for _, run := range []TenantsRun{tn.Alone, tn.Shared} {
			for _, q := range []quantiles{run.Stages.FanoutWait, run.Stages.Fanout, run.Stages.Fetch, run.Stages.Start} {
				if q.Count != run.Delivery.Count || q.P99 < 0 {
					t.Errorf("B's stages: %+v, for %d deliveries", run.Stages, run.Delivery.Count)
				}
			}
		}
	}
	// Six end-to-end runs (one ordered, one through the API), latency,
	// fairness's two, fair sharing's two, backlog, history's two.
	if n := len(res.Diagnostics); n != 14 {
		t.Errorf("%d diagnostics, want 14: %+v", n, res.Diagnostics)
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
