package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// eventName is the event type every scenario pushes.
const eventName = "order.created"

// cluster is one or more Sparrow engines on one schema, each with its own
// pool and, once started, its own River client: instances of a service
// sharing a database.
type cluster struct {
	schema  string
	drop    func()
	pools   []*pgxpool.Pool
	engines []*sparrow.Engine
	started bool
}

// newCluster creates a migrated schema and instances engines on it (not
// started: pushes go through each engine's insert-only River client).
func (b *bench) newCluster(ctx context.Context, name string, instances int) (_ *cluster, err error) {
	c := &cluster{}
	if c.schema, c.drop, err = b.db.schema(ctx, name, true); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	for range instances {
		pool, err := b.db.pool(ctx, c.schema, b.cfg.PoolConns, "engine")
		if err != nil {
			return nil, err
		}
		c.pools = append(c.pools, pool)
		eng, err := sparrow.New(pool, b.engineOptions(c.schema)...)
		if err != nil {
			return nil, err
		}
		c.engines = append(c.engines, eng)
	}
	if _, err := c.engines[0].RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: eventName}); err != nil {
		return nil, err
	}
	return c, nil
}

// engineOptions are the settings of every engine: Sparrow's defaults except
// what the flags change, health tracking on, loopback receivers allowed.
func (b *bench) engineOptions(schema string) []sparrow.Option {
	opts := []sparrow.Option{
		sparrow.WithSchema(schema),
		sparrow.WithLogger(slog.New(b.engineLog)),
		sparrow.WithAllowPrivateNetworks(),
		sparrow.WithHealthTracking(true),
	}
	if b.cfg.Workers > 0 {
		opts = append(opts, sparrow.WithMaxWorkers(b.cfg.Workers))
	}
	if b.cfg.PerWebhook > 0 {
		opts = append(opts, sparrow.WithMaxConcurrentPerWebhook(b.cfg.PerWebhook))
	}
	return opts
}

func (c *cluster) engine() *sparrow.Engine { return c.engines[0] }

// register registers n webhooks subscribed to eventName, each with a secret
// of its own that recv verifies, and returns their ids.
func (c *cluster) register(ctx context.Context, recv *receiver, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		secret := newSecret()
		url, err := recv.endpoint(fmt.Sprintf("/wh/%d", i), secret)
		if err != nil {
			return nil, err
		}
		wh, err := c.engine().RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: url, Events: []string{eventName}, Secret: secret})
		if err != nil {
			return nil, err
		}
		ids[i] = wh.ID
	}
	return ids, nil
}

// newSecret returns a Standard Webhooks secret: "whsec_" and a base64 key.
func newSecret() string {
	key := make([]byte, 24)
	rand.Read(key) // never fails (crypto/rand)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// start starts every engine's River client.
func (c *cluster) start(ctx context.Context) error {
	for _, eng := range c.engines {
		if err := eng.Start(ctx); err != nil {
			return err
		}
		c.started = true
	}
	return nil
}

// stop stops the engines gracefully, bounded in time, even after Ctrl-C.
func (c *cluster) stop() {
	if !c.started {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, eng := range c.engines {
		wg.Go(func() { _ = eng.Stop(ctx) })
	}
	wg.Wait()
	c.started = false
}

// close stops the engines, closes their pools and drops the schema.
func (c *cluster) close() {
	c.stop()
	for _, pool := range c.pools {
		pool.Close()
	}
	if c.drop != nil {
		c.drop()
	}
}

// prefill pushes events with PushEvents, the engines stopped, so a run
// starts from a backlog: events and their fan-out jobs. With orderingKeys,
// the events take that many ordering keys in turn.
func (c *cluster) prefill(ctx context.Context, events, payloadBytes, orderingKeys int) error {
	body := payload(payloadBytes, 0)
	batch := make([]sparrow.PushEventParams, 0, sparrow.MaxPushBatch)
	for pushed := 0; pushed < events; pushed += len(batch) {
		batch = batch[:min(sparrow.MaxPushBatch, events-pushed)]
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Name: eventName, Payload: body}
			if orderingKeys > 0 {
				batch[i].OrderingKey = fmt.Sprintf("key-%d", (pushed+i)%orderingKeys)
			}
		}
		if _, err := c.engine().PushEvents(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// prefillNamespace pushes events into namespace with PushEvents, as
// prefill does.
func (c *cluster) prefillNamespace(ctx context.Context, namespace string, events, payloadBytes int) error {
	body := payload(payloadBytes, 0)
	batch := make([]sparrow.PushEventParams, 0, sparrow.MaxPushBatch)
	for pushed := 0; pushed < events; pushed += len(batch) {
		batch = batch[:min(sparrow.MaxPushBatch, events-pushed)]
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Namespace: namespace, Name: eventName, Payload: body}
		}
		if _, err := c.engine().PushEvents(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// poolStats sums the pools' statistics.
func (c *cluster) poolStats() (total, acquired, idle int32) {
	for _, p := range c.pools {
		s := p.Stat()
		total, acquired, idle = total+s.TotalConns(), acquired+s.AcquiredConns(), idle+s.IdleConns()
	}
	return total, acquired, idle
}

// poolCounters are the pools' cumulative acquire counters.
type poolCounters struct {
	acquires, waited int64
	waitTime         time.Duration
}

func (c *cluster) poolCounters() poolCounters {
	var n poolCounters
	for _, p := range c.pools {
		s := p.Stat()
		n.acquires += s.AcquireCount()
		n.waited += s.EmptyAcquireCount()
		n.waitTime += s.EmptyAcquireWaitTime()
	}
	return n
}

// diagnose records what the engines did during a step besides its figure:
// how often their pools made them wait for a connection since before, and
// how often River ran a delivery job only for it to snooze (the webhook at
// its concurrency limit, or its attempt not due).
func (b *bench) diagnose(ctx context.Context, step string, c *cluster, before poolCounters) error {
	after := c.poolCounters()
	d := Diagnostic{Step: step, PoolAcquires: after.acquires - before.acquires, PoolWaited: after.waited - before.waited}
	if d.PoolWaited > 0 {
		d.PoolMeanWaitMS = ms(after.waitTime-before.waitTime) / float64(d.PoolWaited)
	}
	var jobs int64
	if err := b.db.admin.QueryRow(ctx, "SELECT count(*), coalesce(sum((metadata->>'snoozes')::bigint), 0) FROM "+
		pgx.Identifier{c.schema, "river_job"}.Sanitize()+" WHERE kind = $1", riverworkers.DeliverArgs{}.Kind()).Scan(&jobs, &d.Snoozes); err != nil {
		return err
	}
	if jobs > 0 {
		d.SnoozesPerJob = float64(d.Snoozes) / float64(jobs)
	}
	b.res.diagnose(d)
	return nil
}

// logSink is the engines' slog handler: it drops debug and info lines and
// counts warnings and errors, keeping the first few for the report.
type logSink struct {
	mu       sync.Mutex
	warnings int
	errors   int
	first    []string
}

const logSinkKeep = 5

func newLogSink() *logSink { return &logSink{} }

func (s *logSink) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelWarn }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Level >= slog.LevelError {
		s.errors++
	} else {
		s.warnings++
	}
	if len(s.first) < logSinkKeep {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s", a)
			return true
		})
		s.first = append(s.first, b.String())
	}
	return nil
}

// The sink keeps no attributes or groups: counting needs none.
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

func (s *logSink) snapshot() EngineLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return EngineLog{Warnings: s.warnings, Errors: s.errors, First: append([]string(nil), s.first...)}
}

// quietLogger discards everything: for migrations and River baselines.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
