package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/sparrowhq/sparrow"
)

// SoakResult is a soak run: a fixed rate of pushes for a long time, with
// the process's and the database's resources sampled at intervals, and a
// verdict on whether they stayed flat.
type SoakResult struct {
	Rate     float64 `json:"rate_per_s"`
	Webhooks int     `json:"webhooks"`
	Seconds  float64 `json:"seconds"`
	Pushed   int64   `json:"events_pushed"`
	Received int64   `json:"deliveries_received"`
	// Late deliveries were not received within soakDrain of the end.
	Late       int64  `json:"late"`
	PushErrors int64  `json:"push_errors"`
	LastError  string `json:"last_push_error,omitempty"`
	// WorstP99 is the highest of the samples' p99 latencies.
	WorstP99 float64 `json:"worst_p99_ms"`
	// VacuumedByBench: the server runs no autovacuum, so the soak vacuumed
	// and analyzed the tables itself every soakVacuumEvery.
	VacuumedByBench bool         `json:"vacuumed_by_bench,omitempty"`
	Samples         []SoakSample `json:"samples"`
	Checks          []SoakCheck  `json:"checks"`
	Flat            bool         `json:"flat"`
}

// SoakSample is the state at one moment of a soak; rates and latencies are
// over the interval since the sample before.
type SoakSample struct {
	At float64 `json:"at_s"`
	procStats
	PoolConns     int32   `json:"pool_conns"`
	PoolAcquired  int32   `json:"pool_acquired"`
	ServerConns   int     `json:"server_conns"`
	DeliveredRate float64 `json:"delivered_per_s"`
	// Backlog is deliveries owed: pushed and not yet received.
	Backlog int64   `json:"backlog"`
	P99     float64 `json:"p99_ms"`
}

// SoakCheck compares the mean of the last third of the samples with the
// mean of the first third.
type SoakCheck struct {
	Name  string  `json:"name"`
	First float64 `json:"first_third"`
	Last  float64 `json:"last_third"`
	Limit float64 `json:"limit"`
	// AtLeast: Last must reach Limit (a rate); otherwise stay under it.
	AtLeast bool `json:"at_least,omitempty"`
	OK      bool `json:"ok"`
}

const (
	// soakGrowth is how much a resource may grow from the first third of a
	// soak to the last and still count as flat.
	soakGrowth  = 1.2
	soakPushers = 32
	soakDrain   = 30 * time.Second
	// soakVacuumEvery is how often the soak does autovacuum's work on a
	// server that has it off.
	soakVacuumEvery = 10 * time.Second
)

// soakTables are the tables a soak keeps growing, Sparrow's and River's.
var soakTables = []string{"sparrow_event", "sparrow_event_fanout", "sparrow_fanout_queue", "sparrow_delivery", "sparrow_delivery_attempt",
	"sparrow_webhook_health", "sparrow_webhook_health_bucket", "river_job"}

// soak pushes single events for -soak at -rate deliveries/s, spread over
// -soak-webhooks webhooks, sampling every -sample-every.
func (b *bench) soak(ctx context.Context) (string, error) {
	cfg := b.cfg
	recv := newReceiver(true)
	defer recv.close()
	c, err := b.newCluster(ctx, "soak", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, cfg.SoakWebhooks); err != nil {
		return "", err
	}
	if err := c.start(ctx); err != nil {
		return "", err
	}
	res := &SoakResult{Rate: float64(cfg.Rate), Webhooks: cfg.SoakWebhooks}
	before := c.poolCounters()
	webhooks := int64(cfg.SoakWebhooks)
	var pushed atomic.Int64
	owed := func() int64 { return pushed.Load()*webhooks - recv.received.Load() }
	p := &pacer{rate: float64(cfg.Rate) / float64(cfg.SoakWebhooks), conc: soakPushers, tolerate: true}
	start := time.Now()
	b.prog.track(timeTracker(start, cfg.Soak, func() string {
		return fmt.Sprintf("%s delivered, backlog %d", thousands(float64(recv.received.Load())), owed())
	}))

	g, gctx := errgroup.WithContext(ctx)
	pacing, donePacing := context.WithCancel(gctx)
	defer donePacing()
	g.Go(func() error {
		defer donePacing()
		return p.run(gctx, cfg.Soak, func(ctx context.Context) error {
			_, err := c.engine().PushEvent(ctx, sparrow.PushEventParams{Name: eventName, Payload: payload(cfg.Payload, since())})
			if err == nil {
				pushed.Add(1)
			}
			return err
		})
	})
	g.Go(func() error {
		var err error
		res.Samples, err = b.sampleSoak(ctx, pacing.Done(), c, recv, start, owed)
		return err
	})
	// Without autovacuum (CI servers often run without), the planner would
	// keep the plans it made for empty tables and dead rows would pile up:
	// the soak would measure the server's setting, not the engine.
	var autovacuum string
	if err := c.pools[0].QueryRow(ctx, "SHOW autovacuum").Scan(&autovacuum); err != nil {
		return "", err
	}
	if res.VacuumedByBench = autovacuum != "on"; res.VacuumedByBench {
		g.Go(func() error { return vacuumEvery(pacing, c.pools[0], soakVacuumEvery) })
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	res.Seconds = time.Since(start).Seconds()
	// Let the last deliveries arrive, unsampled; a backlog that doesn't
	// drain in time is counted, not fatal.
	_ = waitReceived(ctx, recv, pushed.Load()*webhooks, soakDrain)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := recv.err(); err != nil {
		return "", err
	}
	res.Pushed, res.Received, res.PushErrors = pushed.Load(), recv.received.Load(), p.failed.Load()
	res.Late = res.Pushed*webhooks - res.Received
	if last := p.lastError.Load(); last != nil {
		res.LastError = *last
	}
	res.judge()
	if err := b.diagnose(ctx, "soak", c, before); err != nil {
		return "", err
	}
	b.res.Soak = res
	b.addSoakFigures(res)
	verdict := "flat"
	if !res.Flat {
		verdict = "NOT flat"
	}
	return fmt.Sprintf("%s over %d samples, %s delivered, worst p99 %.1f ms",
		verdict, len(res.Samples), thousands(float64(res.Received)), res.WorstP99), nil
}

// vacuumEvery vacuums and analyzes soakTables every interval until ctx
// ends.
func vacuumEvery(ctx context.Context, pool *pgxpool.Pool, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(soakTables, ", ")); err != nil && ctx.Err() == nil {
			return fmt.Errorf("vacuum: %w", err)
		}
	}
}

// sampleSoak samples every -sample-every until the pacing is done.
func (b *bench) sampleSoak(ctx context.Context, pacingDone <-chan struct{}, c *cluster, recv *receiver, start time.Time, owed func() int64) ([]SoakSample, error) {
	var samples []SoakSample
	tick := time.NewTicker(b.cfg.SampleEvery)
	defer tick.Stop()
	prevAt, prevReceived := start, recv.received.Load()
	for {
		select {
		case <-pacingDone:
			return samples, nil
		case <-tick.C:
		}
		now := time.Now()
		received := recv.received.Load()
		s := SoakSample{
			At:            now.Sub(start).Seconds(),
			procStats:     readProcStats(false),
			DeliveredRate: float64(received-prevReceived) / now.Sub(prevAt).Seconds(),
			Backlog:       owed(),
			P99:           quantilesOf(recv.takeLatencies()).P99,
		}
		total, acquired, _ := c.poolStats()
		s.PoolConns, s.PoolAcquired = total, acquired
		var err error
		if s.ServerConns, err = b.db.serverConnections(ctx, "engine"); err != nil {
			return nil, err
		}
		samples = append(samples, s)
		prevAt, prevReceived = now, received
	}
}

// judge compares the last third of the samples with the first: resources
// within soakGrowth (plus a little slack for small counts), the backlog not
// growing, the delivered rate keeping up with the offered one.
func (r *SoakResult) judge() {
	n := len(r.Samples)
	if n == 0 {
		return
	}
	k := max(n/3, 1)
	first, last := r.Samples[:k], r.Samples[n-k:]
	mean := func(samples []SoakSample, f func(SoakSample) float64) float64 {
		sum := 0.0
		for _, s := range samples {
			sum += f(s)
		}
		return sum / float64(len(samples))
	}
	flat := func(name string, slack float64, f func(SoakSample) float64) {
		a, z := mean(first, f), mean(last, f)
		limit := a*soakGrowth + slack
		r.Checks = append(r.Checks, SoakCheck{Name: name, First: a, Last: z, Limit: limit, OK: z <= limit})
	}
	flat("RSS (MiB)", 0, func(s SoakSample) float64 { return mibf(s.RSSBytes) })
	flat("Go heap (MiB)", 0, func(s SoakSample) float64 { return mibf(s.HeapBytes) })
	flat("goroutines", 5, func(s SoakSample) float64 { return float64(s.Goroutines) })
	flat("open sockets", 2, func(s SoakSample) float64 { return float64(s.Sockets) })
	flat("pool connections", 2, func(s SoakSample) float64 { return float64(s.PoolConns) })
	flat("server connections", 2, func(s SoakSample) float64 { return float64(s.ServerConns) })
	// Half a second of deliveries is noise, not growth.
	flat("backlog", r.Rate/2, func(s SoakSample) float64 { return float64(s.Backlog) })
	delivered := mean(last, func(s SoakSample) float64 { return s.DeliveredRate })
	r.Checks = append(r.Checks, SoakCheck{
		Name: "delivered/s", First: mean(first, func(s SoakSample) float64 { return s.DeliveredRate }), Last: delivered,
		Limit: 0.95 * r.Rate, AtLeast: true, OK: delivered >= 0.95*r.Rate,
	})
	r.Flat = r.PushErrors == 0 && r.Late == 0
	for _, c := range r.Checks {
		r.Flat = r.Flat && c.OK
	}
	for _, s := range r.Samples {
		r.WorstP99 = max(r.WorstP99, s.P99)
	}
}

func (b *bench) addSoakFigures(r *SoakResult) {
	last := r.Samples[len(r.Samples)-1]
	b.res.add("soak_delivered", SectionSoak, "delivered", float64(r.Received)/r.Seconds, "deliveries/s")
	b.res.add("soak_worst_p99", SectionSoak, "worst sample's p99 push→received", r.WorstP99, "ms")
	b.res.add("soak_rss_last", SectionSoak, "RSS, last sample", mibf(last.RSSBytes), "MiB")
	b.res.add("soak_heap_last", SectionSoak, "Go heap, last sample", mibf(last.HeapBytes), "MiB")
	b.res.add("soak_goroutines_last", SectionSoak, "goroutines, last sample", float64(last.Goroutines), "")
	b.res.add("soak_sockets_last", SectionSoak, "open sockets, last sample", float64(last.Sockets), "")
	b.res.add("soak_pool_conns_last", SectionSoak, "pool connections, last sample", float64(last.PoolConns), "")
	b.res.add("soak_server_conns_last", SectionSoak, "server connections, last sample", float64(last.ServerConns), "")
}

func (r *SoakResult) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\nSOAK: %s deliveries/s offered to %d webhook(s) for %s\n", thousands(r.Rate), r.Webhooks,
		time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	if r.VacuumedByBench {
		fmt.Fprintf(w, "  (the server runs no autovacuum: the soak ran VACUUM ANALYZE every %s in its place)\n", soakVacuumEvery)
	}
	fmt.Fprintf(w, "  t\tRSS\tGo heap\tgoroutines\tsockets\tpool conns (busy)\tserver conns\tdelivered/s\tbacklog\tp99\n")
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  %.0fs\t%s\t%s\t%d\t%d\t%d (%d)\t%d\t%s\t%d\t%.1f ms\n", s.At, mib(s.RSSBytes), mib(s.HeapBytes),
			s.Goroutines, s.Sockets, s.PoolConns, s.PoolAcquired, s.ServerConns, thousands(s.DeliveredRate), s.Backlog, s.P99)
	}
	fmt.Fprintf(w, "\n  check (last third vs first)\tfirst\tlast\tlimit\t\n")
	for _, c := range r.Checks {
		ok := "ok"
		if !c.OK {
			ok = "NOT OK"
		}
		op := "≤"
		if c.AtLeast {
			op = "≥"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s %s\t%s\n", c.Name, number(c.First), number(c.Last), op, number(c.Limit), ok)
	}
	verdict := "FLAT"
	if !r.Flat {
		verdict = "NOT FLAT"
	}
	fmt.Fprintf(w, "  verdict: %s (%s events pushed, %d push errors, %d deliveries not received within %s of the end",
		verdict, thousands(float64(r.Pushed)), r.PushErrors, r.Late, soakDrain)
	if r.LastError != "" {
		fmt.Fprintf(w, ", last: %s", r.LastError)
	}
	fmt.Fprintf(w, ")\n")
}
