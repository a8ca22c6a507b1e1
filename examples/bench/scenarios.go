package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/sparrowhq/sparrow"
)

// pushEventTx measures the host's transaction with an event in it: insert a
// business row, PushEventTx, commit, with the engine's workers stopped (a
// process that only pushes). Judged against insertCommit at the same
// concurrency.
func (b *bench) pushEventTx(conc int) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		c, err := b.newCluster(ctx, fmt.Sprintf("pushtx_c%d", conc), 1)
		if err != nil {
			return "", err
		}
		defer c.close()
		perSec, err := b.measurePushTx(ctx, c, conc)
		if err != nil {
			return "", err
		}
		b.res.add(fmt.Sprintf("push_event_tx_c%d", conc), SectionSparrow,
			fmt.Sprintf("insert+PushEventTx+commit, concurrency %d", conc), perSec, "tx/s")
		return rate(perSec, "tx/s"), nil
	}
}

func (b *bench) measurePushTx(ctx context.Context, c *cluster, conc int) (float64, error) {
	pool := c.pools[0]
	if _, err := pool.Exec(ctx, createOrders); err != nil {
		return 0, err
	}
	if err := warm(ctx, pool, conc); err != nil {
		return 0, err
	}
	body := payload(b.cfg.Payload, 0)
	eng := c.engine()
	return closedLoop(ctx, b.prog, conc, b.cfg.Duration, func(ctx context.Context) error {
		return inTx(ctx, pool, func(tx pgx.Tx) error {
			if err := insertOrder(ctx, tx); err != nil {
				return err
			}
			_, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: eventName, Payload: body})
			return err
		})
	})
}

// pushEvents measures batch pushes: PushEvents of MaxPushBatch events from
// -batch-concurrency callers, the workers stopped.
func (b *bench) pushEvents(ctx context.Context) (string, error) {
	c, err := b.newCluster(ctx, "pushevents", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	body := payload(b.cfg.Payload, 0)
	eng := c.engine()
	batchesPerSec, err := closedLoop(ctx, b.prog, b.cfg.BatchConcurrency, b.cfg.Duration, func(ctx context.Context) error {
		// A batch of its own per call: PushEvents normalises its input.
		batch := make([]sparrow.PushEventParams, sparrow.MaxPushBatch)
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Name: eventName, Payload: body}
		}
		_, err := eng.PushEvents(ctx, batch)
		return err
	})
	if err != nil {
		return "", err
	}
	perSec := batchesPerSec * sparrow.MaxPushBatch
	b.res.add("push_events", SectionSparrow,
		fmt.Sprintf("PushEvents, batches of %d, %d callers", sparrow.MaxPushBatch, b.cfg.BatchConcurrency), perSec, "events/s")
	return rate(perSec, "events/s"), nil
}

// endToEnd measures deliveries per second through the whole engine: events
// pushed beforehand (workers stopped) are fanned out to webhooks, signed,
// POSTed to a receiver that verifies every signature, and recorded, with
// health tracking on. The clock runs from starting the workers to the last
// delivery received.
func (b *bench) endToEnd(webhooks, instances int) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		key, label := e2eFigure(webhooks, instances)
		perSec, err := b.measureEndToEnd(ctx, label, fmt.Sprintf("e2e_%d_%d", webhooks, instances), webhooks, instances, 0)
		if err != nil {
			return "", err
		}
		b.res.add(key, SectionSparrow, label, perSec, "deliveries/s")
		return rate(perSec, "deliveries/s"), nil
	}
}

func e2eFigure(webhooks, instances int) (key, label string) {
	key, label = "e2e_1_webhook", "end-to-end, 1 webhook"
	if webhooks != 1 {
		key, label = fmt.Sprintf("e2e_%d_webhooks", webhooks), fmt.Sprintf("end-to-end, %d webhooks", webhooks)
	}
	if instances > 1 {
		key += fmt.Sprintf("_%d_instances", instances)
		label += fmt.Sprintf(", %d instances", instances)
	}
	return key, label
}

// orderedKeys is how many ordering keys the ordered run's events take.
const orderedKeys = 100

// ordered is the end-to-end run to 1 webhook with every event carrying one
// of orderedKeys ordering keys: at most orderedKeys deliveries in flight,
// each key's one after the other.
func (b *bench) ordered(ctx context.Context) (string, error) {
	label := fmt.Sprintf("end-to-end, 1 webhook, %d ordering keys", orderedKeys)
	perSec, err := b.measureEndToEnd(ctx, label, "e2e_ordered", 1, 1, orderedKeys)
	if err != nil {
		return "", err
	}
	b.res.add("e2e_ordered", SectionSparrow, label, perSec, "deliveries/s")
	return rate(perSec, "deliveries/s"), nil
}

// measureEndToEnd runs one end-to-end measurement in a schema of its own,
// named after name, its events taking orderingKeys keys (0: none).
func (b *bench) measureEndToEnd(ctx context.Context, step, name string, webhooks, instances, orderingKeys int) (float64, error) {
	recv := newReceiver(false)
	defer recv.close()
	c, err := b.newCluster(ctx, name, instances)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, webhooks); err != nil {
		return 0, err
	}
	return b.deliverBacklog(ctx, step, c, recv, webhooks, orderingKeys)
}

// deliverBacklog pushes enough events for -deliveries deliveries to
// webhooks, then starts the engines and times the deliveries. step names
// the measurement in the diagnostics.
func (b *bench) deliverBacklog(ctx context.Context, step string, c *cluster, recv *receiver, webhooks, orderingKeys int) (float64, error) {
	events := (b.cfg.Deliveries + webhooks - 1) / webhooks
	total := int64(events * webhooks)
	if err := c.prefill(ctx, events, b.cfg.Payload, orderingKeys); err != nil {
		return 0, err
	}
	recv.expect(total)
	b.prog.track(countTracker(recv.received.Load, total, "delivered"))
	before := c.poolCounters()
	start := time.Now()
	if err := c.start(ctx); err != nil {
		return 0, err
	}
	if err := recv.await(ctx, waitLimit(int(total), 100)); err != nil {
		return 0, err
	}
	perSec := float64(total) / time.Since(start).Seconds()
	c.stop()
	if err := recv.err(); err != nil {
		return 0, err
	}
	return perSec, b.diagnose(ctx, step, c, before)
}

// LatencyResult is the latency run: push to receipt at a fixed offered
// rate of deliveries, workers running.
type LatencyResult struct {
	Offered  float64 `json:"offered_per_s"`
	Achieved float64 `json:"achieved_per_s"`
	Webhooks int     `json:"webhooks"`
	Seconds  float64 `json:"seconds"`
	// Late deliveries: pushed but not received within the drain time; the
	// quantiles leave them out.
	Late int64 `json:"late"`
	// Delivery is push call start to receipt by the receiver.
	Delivery quantiles `json:"push_to_received"`
	// Push is the PushEvent call alone.
	Push quantiles `json:"push_call"`
}

const (
	latencyPushers = 32
	latencyWarmup  = 50
	latencyDrain   = 30 * time.Second
)

// latency offers -latency-rate deliveries a second for -latency-duration,
// as single PushEvent calls to -latency-webhooks webhooks, and measures
// each delivery's time from the push call to its receipt.
func (b *bench) latency(ctx context.Context) (string, error) {
	webhooks := int64(b.cfg.LatencyWebhooks)
	recv := newReceiver(true)
	defer recv.close()
	c, err := b.newCluster(ctx, "latency", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, int(webhooks)); err != nil {
		return "", err
	}
	if err := c.start(ctx); err != nil {
		return "", err
	}
	push, err := b.warmUp(ctx, c, recv, webhooks)
	if err != nil {
		return "", err
	}
	before := c.poolCounters()

	var mu sync.Mutex
	var pushLat []time.Duration
	p := &pacer{rate: float64(b.cfg.LatencyRate) / float64(webhooks), conc: latencyPushers}
	start := time.Now()
	b.prog.track(timeTracker(start, b.cfg.LatencyDuration, func() string {
		return fmt.Sprintf("%d pushed, %d received", p.issued.Load(), recv.received.Load()-latencyWarmup*webhooks)
	}))
	err = p.run(ctx, b.cfg.LatencyDuration, func(ctx context.Context) error {
		began := time.Now()
		err := push(ctx)
		mu.Lock()
		pushLat = append(pushLat, time.Since(began))
		mu.Unlock()
		return err
	})
	if err != nil {
		return "", err
	}
	elapsed := time.Since(start)
	want := (latencyWarmup + p.issued.Load()) * webhooks
	waitErr := waitReceived(ctx, recv, want, latencyDrain)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err := recv.err(); err != nil {
		return "", err
	}
	res := &LatencyResult{
		Offered:  float64(b.cfg.LatencyRate),
		Achieved: float64(p.issued.Load()*webhooks) / elapsed.Seconds(),
		Webhooks: int(webhooks),
		Seconds:  elapsed.Seconds(),
		Late:     want - recv.received.Load(),
		Delivery: quantilesOf(recv.takeLatencies()),
		Push:     quantilesOf(pushLat),
	}
	if waitErr != nil && res.Late == 0 {
		return "", waitErr
	}
	step := fmt.Sprintf("latency, %s deliveries/s to %d webhook(s)", thousands(res.Offered), webhooks)
	if err := b.diagnose(ctx, step, c, before); err != nil {
		return "", err
	}
	b.res.Latency = res
	label := fmt.Sprintf("push→received, %s/s to %d webhook(s)", thousands(res.Offered), webhooks)
	b.res.add("latency_achieved", SectionLatency, "deliveries/s pushed (the offered rate, if kept up)", res.Achieved, "deliveries/s")
	b.res.add("latency_p50", SectionLatency, label+", p50", res.Delivery.P50, "ms")
	b.res.add("latency_p95", SectionLatency, label+", p95", res.Delivery.P95, "ms")
	b.res.add("latency_p99", SectionLatency, label+", p99", res.Delivery.P99, "ms")
	b.res.add("latency_max", SectionLatency, label+", max", res.Delivery.Max, "ms")
	b.res.add("push_call_p99", SectionLatency, "PushEvent call, p99", res.Push.P99, "ms")
	summary := fmt.Sprintf("p50 %.1f ms, p99 %.1f ms at %s/s", res.Delivery.P50, res.Delivery.P99, thousands(res.Achieved))
	if res.Late > 0 {
		summary += fmt.Sprintf(", %d not received within %s", res.Late, latencyDrain)
	}
	return summary, nil
}

// waitReceived waits until recv has n requests, or timeout.
func waitReceived(ctx context.Context, recv *receiver, n int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for recv.received.Load() < n {
		if err := recv.err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %d of %d received", timeout, recv.received.Load(), n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// warmUp pushes latencyWarmup stamped events through c's engine and waits
// for their deliveries to the received ones of recv, so that connections
// on both sides are open before the clock starts; it returns the push the
// measurement goes on with.
func (b *bench) warmUp(ctx context.Context, c *cluster, recv *receiver, received int64) (push func(context.Context) error, err error) {
	eng := c.engine()
	push = func(ctx context.Context) error {
		_, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: eventName, Payload: payload(b.cfg.Payload, since())})
		return err
	}
	for range latencyWarmup {
		if err := push(ctx); err != nil {
			return nil, err
		}
	}
	if err := waitReceived(ctx, recv, latencyWarmup*received, latencyDrain); err != nil {
		return nil, err
	}
	recv.takeLatencies()
	return push, nil
}

// BacklogSample is the process's memory at one size of the backlog.
type BacklogSample struct {
	// Owed is deliveries pushed and not yet received.
	Owed int64 `json:"owed"`
	// Pending is the deliveries pending or retrying in the database (owed
	// less those whose events are not fanned out yet).
	Pending int64 `json:"pending"`
	procStats
}

// backlogStall bounds the wait for the backlog to grow to its next
// checkpoint.
const backlogStall = 2 * time.Minute

// backlogAnswer is how long the receiver of the memory run takes to answer.
const backlogAnswer = 20 * time.Millisecond

// backlog pushes as fast as PushEvents goes while the engine delivers to
// one webhook that answers slowly, so that deliveries owed pile up, and samples the process's
// heap and RSS as the backlog passes 1/20, 1/10, 1/4, 1/2 and all of
// -backlog. Flat memory means nothing in the engine grows with the backlog.
func (b *bench) backlog(ctx context.Context) (string, error) {
	recv := newReceiver(false)
	// However fast the engine delivers, the backlog must grow: at most the
	// webhook's concurrency limit per backlogAnswer.
	recv.delay = backlogAnswer
	defer recv.close()
	c, err := b.newCluster(ctx, "backlog", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, 1); err != nil {
		return "", err
	}
	target := int64(b.cfg.Backlog)
	var checkpoints []int64
	for _, div := range []int64{20, 10, 4, 2, 1} {
		if cp := max(target/div, 1); len(checkpoints) == 0 || cp > checkpoints[len(checkpoints)-1] {
			checkpoints = append(checkpoints, cp)
		}
	}
	// Batches small enough to pass each checkpoint apart.
	p, err := b.newPusher(ctx, c.schema, int(min(max(checkpoints[0]/4, 1), sparrow.MaxPushBatch)))
	if err != nil {
		return "", err
	}
	defer p.pool.Close()
	if err := c.start(ctx); err != nil {
		return "", err
	}
	owed := func() int64 { return p.pushed.Load() - recv.received.Load() }
	b.prog.track(countTracker(owed, target, "owed"))

	pushCtx, stopPushing := context.WithCancel(ctx)
	defer stopPushing()
	g, gctx := errgroup.WithContext(pushCtx)
	g.Go(func() error { return p.run(gctx) })
	before := c.poolCounters()
	samples, err := b.sampleBacklog(gctx, c, recv, checkpoints, owed, p)
	stopPushing()
	if werr := g.Wait(); werr != nil && !errors.Is(werr, context.Canceled) {
		err = werr // the pusher's failure, which ended the sampling
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", err
	}
	if err := recv.err(); err != nil {
		return "", err
	}
	if err := b.diagnose(ctx, fmt.Sprintf("backlog growing to %s", thousands(float64(target))), c, before); err != nil {
		return "", err
	}
	b.res.Backlog = samples
	first, last := samples[0], samples[len(samples)-1]
	b.res.add("backlog_heap_first", SectionMemory, fmt.Sprintf("Go heap at %s owed", thousands(float64(first.Owed))), mibf(first.HeapBytes), "MiB")
	b.res.add("backlog_heap_last", SectionMemory, fmt.Sprintf("Go heap at %s owed", thousands(float64(last.Owed))), mibf(last.HeapBytes), "MiB")
	b.res.add("backlog_rss_first", SectionMemory, fmt.Sprintf("RSS at %s owed", thousands(float64(first.Owed))), mibf(first.RSSBytes), "MiB")
	b.res.add("backlog_rss_last", SectionMemory, fmt.Sprintf("RSS at %s owed", thousands(float64(last.Owed))), mibf(last.RSSBytes), "MiB")
	// Signed: a heap that shrank has a negative slope.
	b.res.addSigned("backlog_heap_slope", SectionMemory, "Go heap growth per owed delivery (least squares)", heapSlope(samples), "bytes")
	return fmt.Sprintf("heap %s → %s, RSS %s → %s", mib(first.HeapBytes), mib(last.HeapBytes), mib(first.RSSBytes), mib(last.RSSBytes)), nil
}

// pusher pushes batches of events as fast as PushEvents goes, through an
// engine and a pool of its own: another process, as far as the engine
// under measurement is concerned. The sampler pauses it and closes its
// connections, whose pgx buffers keep the size of the largest statement
// each sent (a whole batch of payloads), so that they don't count.
type pusher struct {
	mu     sync.Mutex // held while a batch is in flight
	pool   *pgxpool.Pool
	eng    *sparrow.Engine
	batch  int
	body   []byte
	pushed atomic.Int64
}

func (b *bench) newPusher(ctx context.Context, schema string, batch int) (*pusher, error) {
	pool, err := b.db.pool(ctx, schema, 2, "pusher")
	if err != nil {
		return nil, err
	}
	eng, err := sparrow.New(pool, b.engineOptions(schema)...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &pusher{pool: pool, eng: eng, batch: batch, body: payload(b.cfg.Payload, 0)}, nil
}

// run pushes until ctx ends.
func (p *pusher) run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := p.pushOne(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // stopped mid-push: pgx reports a closed connection
			}
			return err
		}
	}
	return nil
}

func (p *pusher) pushOne(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	batch := make([]sparrow.PushEventParams, p.batch)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: eventName, Payload: p.body}
	}
	if _, err := p.eng.PushEvents(ctx, batch); err != nil {
		return err
	}
	p.pushed.Add(int64(len(batch)))
	return nil
}

// pause waits for the batch in flight and closes the pusher's connections;
// resume lets it go on.
func (p *pusher) pause() (resume func()) {
	p.mu.Lock()
	p.pool.Reset()
	return p.mu.Unlock
}

// sampleBacklog takes a sample each time owed() passes a checkpoint, the
// pusher paused meanwhile.
func (b *bench) sampleBacklog(ctx context.Context, c *cluster, recv *receiver, checkpoints []int64, owed func() int64, p *pusher) ([]BacklogSample, error) {
	var samples []BacklogSample
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastProgress := time.Now()
	for next := 0; next < len(checkpoints); {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := recv.err(); err != nil {
			return nil, err
		}
		n := owed()
		if n < checkpoints[next] {
			if time.Since(lastProgress) > backlogStall {
				return nil, fmt.Errorf("the backlog stopped growing at %d owed (deliveries keep up with pushes?)", n)
			}
			continue
		}
		resume := p.pause()
		sample := BacklogSample{Owed: owed(), procStats: settledProcStats(ctx)}
		err := b.writeHeapProfile(sample.Owed)
		resume()
		if err != nil {
			return nil, err
		}
		if err := b.db.admin.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{c.schema, "sparrow_delivery"}.Sanitize()+
			" WHERE status IN ('pending', 'retrying')").Scan(&sample.Pending); err != nil {
			return nil, err
		}
		samples = append(samples, sample)
		lastProgress = time.Now()
		for next < len(checkpoints) && n >= checkpoints[next] {
			next++ // one sample for checkpoints passed at once
		}
	}
	return samples, nil
}

func mibf(bytes uint64) float64 { return float64(bytes) / (1 << 20) }

// heapSlope is the least-squares slope of the heap over the deliveries
// owed: what each delivery of backlog costs the process, noise aside.
func heapSlope(samples []BacklogSample) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range samples {
		x, y := float64(s.Owed), float64(s.HeapBytes)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	if d := n*sxx - sx*sx; d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return 0
}
