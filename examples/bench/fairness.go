// Fairness: no one receiver can slow deliveries to the others (issue 11).
//
// Ten webhooks subscribe to the event pushed, one PushEvent at a time at
// -fairness-rate events/s for -fairness-duration, with the latency run's
// pacer. Run A has all ten answer at once; run B, in the same process on
// a fresh schema, has the tenth hold every request until the engine gives
// up on it (its Timeout is fairnessStallTimeout), so its deliveries time
// out and retry throughout. Both runs measure the nine others alike:
// deliveries/s received and push→received p50 and p99. The targets want B
// within 0.9× of A's throughput and 2× of its p99, and the stalled
// webhook never holding more attempts at once than its
// WithMaxConcurrentPerWebhook limit, as counted by its receiver. A run
// that can't keep up with the offered rate even with no webhook stalled
// leaves the targets inconclusive (not met): lower -fairness-rate.
//
//	go run ./examples/bench -only fairness -fairness-rate 100 -fairness-duration 30s
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparrowhq/sparrow"
)

const (
	fairnessWebhooks = 10
	// fairnessStallTimeout is the stalled webhook's attempt timeout: short,
	// so that a run sees many of its attempts time out and retry.
	fairnessStallTimeout = 2 * time.Second
)

// FairnessResult compares the healthy webhooks' deliveries with and
// without a stalled one among them.
type FairnessResult struct {
	Webhooks int     `json:"webhooks"`
	Offered  float64 `json:"offered_events_per_s"`
	// Limit is the engine's WithMaxConcurrentPerWebhook.
	Limit               int         `json:"per_webhook_limit"`
	StallTimeoutSeconds float64     `json:"stall_timeout_s"`
	AllHealthy          FairnessRun `json:"all_healthy"`
	OneStalled          FairnessRun `json:"one_stalled"`
	// ThroughputRatio and P99Ratio are the healthy webhooks' figures in
	// OneStalled over those in AllHealthy.
	ThroughputRatio float64 `json:"throughput_ratio"`
	P99Ratio        float64 `json:"p99_ratio"`
}

// FairnessRun is one run's pushes and the healthy webhooks' deliveries.
type FairnessRun struct {
	Seconds  float64 `json:"seconds"`
	Achieved float64 `json:"achieved_events_per_s"`
	// Throughput is the healthy webhooks' deliveries received per second,
	// from the first push to the last receipt.
	Throughput float64 `json:"healthy_received_per_s"`
	// Late deliveries to healthy webhooks were not received within the
	// drain time; the quantiles leave them out.
	Late     int64     `json:"healthy_late"`
	Delivery quantiles `json:"healthy_push_to_received"`
	// TenthRequests and TenthMaxInFlight are what the tenth webhook's
	// receiver saw: requests in all, and the most it held at once.
	TenthRequests    int64 `json:"tenth_requests"`
	TenthMaxInFlight int64 `json:"tenth_max_in_flight"`
}

// fairness runs A (all healthy), then B (the tenth stalled), and records
// the figures the fairness targets judge.
func (b *bench) fairness(ctx context.Context) (string, error) {
	res := &FairnessResult{
		Webhooks:            fairnessWebhooks,
		Offered:             float64(b.cfg.FairnessRate),
		Limit:               b.cfg.perWebhookLimit(),
		StallTimeoutSeconds: fairnessStallTimeout.Seconds(),
	}
	var err error
	if res.AllHealthy, err = b.fairnessRun(ctx, false); err != nil {
		return "", fmt.Errorf("all healthy: %w", err)
	}
	if res.OneStalled, err = b.fairnessRun(ctx, true); err != nil {
		return "", fmt.Errorf("one stalled: %w", err)
	}
	a, s := res.AllHealthy, res.OneStalled
	res.ThroughputRatio = s.Throughput / a.Throughput
	if a.Delivery.P99 > 0 {
		res.P99Ratio = s.Delivery.P99 / a.Delivery.P99
	}
	b.res.Fairness = res

	healthy := fmt.Sprintf("%d healthy", fairnessWebhooks-1)
	for _, run := range []struct {
		suffix, name string
		r            FairnessRun
	}{{"", "A, none stalled", a}, {"_stalled", "B, 1 stalled", s}} {
		b.res.add("fairness_pushed"+run.suffix, SectionFairness, run.name+": events/s pushed (the offered rate, if kept up)", run.r.Achieved, "events/s")
		b.res.add("fairness_healthy_rate"+run.suffix, SectionFairness, run.name+": "+healthy+" webhooks' deliveries received", run.r.Throughput, "deliveries/s")
		b.res.add("fairness_healthy_p50"+run.suffix, SectionFairness, run.name+": "+healthy+", push→received p50", run.r.Delivery.P50, "ms")
		b.res.add("fairness_healthy_p99"+run.suffix, SectionFairness, run.name+": "+healthy+", push→received p99", run.r.Delivery.P99, "ms")
	}
	b.res.add("fairness_stalled_in_flight", SectionFairness, "B: stalled webhook's attempts in flight, most at once (its receiver)", float64(s.TenthMaxInFlight), "attempts")
	b.res.add("fairness_per_webhook_limit", SectionFairness, "per-webhook limit (WithMaxConcurrentPerWebhook)", float64(res.Limit), "attempts")
	return fmt.Sprintf("healthy %s → %s deliveries/s (%.2f×), p99 %.1f → %.1f ms (%.2f×), stalled held %d of %d",
		thousands(a.Throughput), thousands(s.Throughput), res.ThroughputRatio,
		a.Delivery.P99, s.Delivery.P99, res.P99Ratio, s.TenthMaxInFlight, res.Limit), nil
}

// fairnessRun is one run on a schema of its own: nine webhooks on a
// receiver that verifies and times every delivery, the tenth on a
// receiver of its own that stalls if told to.
func (b *bench) fairnessRun(ctx context.Context, stall bool) (FairnessRun, error) {
	const healthy = fairnessWebhooks - 1
	name, step := "fairness_a", fmt.Sprintf("fairness, %d events/s to %d webhooks, none stalled", b.cfg.FairnessRate, fairnessWebhooks)
	if stall {
		name, step = "fairness_b", fmt.Sprintf("fairness, %d events/s to %d webhooks, 1 stalled", b.cfg.FairnessRate, fairnessWebhooks)
	}
	recv := newReceiver(true)
	defer recv.close()
	tenth := newStaller(stall)
	defer tenth.close()
	c, err := b.newCluster(ctx, name, 1)
	if err != nil {
		return FairnessRun{}, err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, healthy); err != nil {
		return FairnessRun{}, err
	}
	// The same timeout in both runs: only the receiver differs.
	if _, err := c.engine().RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		URL: tenth.srv.URL + "/wh/stalled", Events: []string{eventName}, Timeout: fairnessStallTimeout,
	}); err != nil {
		return FairnessRun{}, err
	}
	if err := c.start(ctx); err != nil {
		return FairnessRun{}, err
	}
	// Warm up as the latency run does; in run B this also fills the
	// stalled webhook's share of the workers before the clock starts.
	push, err := b.warmUp(ctx, c, recv, healthy)
	if err != nil {
		return FairnessRun{}, err
	}
	before := c.poolCounters()

	p := &pacer{rate: float64(b.cfg.FairnessRate), conc: latencyPushers}
	start := time.Now()
	b.prog.track(timeTracker(start, b.cfg.FairnessDuration, func() string {
		return fmt.Sprintf("%d pushed, %d received by the healthy, %d held by the stalled",
			p.issued.Load(), recv.received.Load()-latencyWarmup*healthy, tenth.inFlight.Load())
	}))
	if err := p.run(ctx, b.cfg.FairnessDuration, func(ctx context.Context) error { return push(ctx) }); err != nil {
		return FairnessRun{}, err
	}
	pushed := time.Since(start)
	want := (latencyWarmup + p.issued.Load()) * healthy
	waitErr := waitReceived(ctx, recv, want, latencyDrain)
	elapsed := time.Since(start)
	// Let go of the held requests now, so that stopping the engine need
	// not wait out their timeouts.
	tenth.release()
	if ctx.Err() != nil {
		return FairnessRun{}, ctx.Err()
	}
	if err := recv.err(); err != nil {
		return FairnessRun{}, err
	}
	run := FairnessRun{
		Seconds:          elapsed.Seconds(),
		Achieved:         float64(p.issued.Load()) / pushed.Seconds(),
		Throughput:       float64(recv.received.Load()-latencyWarmup*healthy) / elapsed.Seconds(),
		Late:             want - recv.received.Load(),
		Delivery:         quantilesOf(recv.takeLatencies()),
		TenthRequests:    tenth.requests.Load(),
		TenthMaxInFlight: tenth.maxInFlight.Load(),
	}
	if waitErr != nil && run.Late == 0 {
		return FairnessRun{}, waitErr
	}
	return run, b.diagnose(ctx, step, c, before)
}

// perWebhookLimit is the engine's WithMaxConcurrentPerWebhook as the flags
// set it, defaulted as sparrow.New defaults it: a quarter of the workers.
func (c *config) perWebhookLimit() int {
	workers := cmp.Or(c.Workers, sparrow.MaxWorkersDefault)
	return cmp.Or(c.PerWebhook, max(workers/4, 1))
}

// judgeFairness judges the fairness targets. A run that fell behind the
// offered rate fails them, saying so: its ratios compare saturated
// engines, not a stalled webhook's effect.
func (r *Results) judgeFairness() {
	f := r.Fairness
	if f == nil {
		return
	}
	var notes []string
	for _, run := range []struct {
		name string
		r    FairnessRun
	}{{"A", f.AllHealthy}, {"B", f.OneStalled}} {
		if run.r.Achieved < 0.95*f.Offered {
			notes = append(notes, fmt.Sprintf("%s pushed %s of %s events/s offered", run.name, thousands(run.r.Achieved), thousands(f.Offered)))
		}
		if run.r.Late > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d healthy deliveries not received within the drain time", run.name, run.r.Late))
		}
	}
	// relative and ceiling add a target only when both figures exist.
	judge := func(add func()) {
		n := len(r.Targets)
		add()
		if len(r.Targets) > n && len(notes) > 0 {
			r.Targets[n].Met = false
			r.Targets[n].Note = "inconclusive: " + strings.Join(notes, "; ")
		}
	}
	judge(func() {
		r.relative("healthy throughput with a stalled webhook / without", "fairness_healthy_rate_stalled", "fairness_healthy_rate", 0.9)
	})
	judge(func() {
		r.ceiling("healthy p99 with a stalled webhook / without", "fairness_healthy_p99_stalled", "fairness_healthy_p99", 2)
	})
	r.ceiling("stalled webhook's attempts in flight / its limit", "fairness_stalled_in_flight", "fairness_per_webhook_limit", 1)
}

// staller is the tenth webhook's receiver. Healthy, it answers 204 at
// once; stalled, it holds every request until the engine gives up on it
// (its timeout) or release is called, and counts the requests it holds at
// once: the attempts in flight, as the receiver sees them.
type staller struct {
	srv      *httptest.Server
	stall    bool
	released chan struct{}
	once     sync.Once

	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

func newStaller(stall bool) *staller {
	s := &staller{stall: stall, released: make(chan struct{})}
	s.srv = httptest.NewServer(s)
	return s
}

func (s *staller) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.requests.Add(1)
	// Read the body to its end: only then does net/http watch the
	// connection, and end req.Context() when the engine hangs up.
	_, _ = io.Copy(io.Discard, req.Body)
	if !s.stall {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	n := s.inFlight.Add(1)
	counted := true
	uncount := func() {
		if counted {
			s.inFlight.Add(-1)
			counted = false
		}
	}
	defer uncount()
	for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
	}
	// The engine has given up on the request once its timeout, which began
	// before the request arrived, is past: from then on it holds no slot,
	// whenever this server notices the hang-up (late, on a busy machine).
	gaveUp := time.NewTimer(fairnessStallTimeout)
	defer gaveUp.Stop()
	for {
		select {
		case <-req.Context().Done():
			return
		case <-s.released:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case <-gaveUp.C:
			uncount()
		}
	}
}

// release answers the held requests and every later one at once.
func (s *staller) release() { s.once.Do(func() { close(s.released) }) }

// close releases the held requests, then shuts the server down (which
// waits for its handlers).
func (s *staller) close() {
	s.release()
	s.srv.Close()
}
