// Package worker is Sparrow's background work as River workers: fan-out,
// delivery, resumption of waiting deliveries, secret re-sealing, retention
// and recoveries, plus the poller of the fan-out queue single pushes write
// to and the heartbeat that tells other processes this one is alive.
// Hosts reach it through sparrow.Engine.Install; the job arguments are
// public in package riverworkers.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"golang.org/x/sync/semaphore"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/config"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// Deps are what the workers use beside the engine's settings.
type Deps struct {
	Pool       *pgxpool.Pool
	SecretKeys *secretbox.Keyring // nil: secrets stored in the clear
	Sender     *delivery.Sender
	// Stopping returns a channel closed when the engine stops: delivery
	// jobs then start no more attempts, and pollers end.
	Stopping  func() <-chan struct{}
	Telemetry *telemetry.Telemetry
}

// Set is one engine's workers in one process, with what they share there:
// the bounds on attempts in flight, the recorder of outcomes, the pollers
// and heartbeats of the River clients that work Sparrow's queue.
type Set struct {
	cfg       *config.Config
	deliver   *deliverWorker
	fanout    *fanoutWorker
	sweep     *fanoutSweepWorker
	unpark    *unparkWorker
	reseal    *resealWorker
	retention *retentionWorker
	recover   *recoverWorker
	clients   *clients
}

// New returns the workers of an engine with settings cfg.
func New(cfg *config.Config, deps Deps) *Set {
	db := database{pool: deps.Pool, schema: dbutil.Schema(cfg.Schema)}
	counter := &counter{telemetry: deps.Telemetry}
	fanOuter := &fanOuter{
		db: db, queue: cfg.Queue, templates: newTemplateCache(cfg.TemplateTimeout), counter: counter, logger: cfg.Logger,
	}
	poller := &poller{
		db: db, fanOuter: fanOuter, queue: cfg.Queue, now: cfg.Now, logger: cfg.Logger, tracer: deps.Telemetry.Tracer,
	}
	clients := &clients{db: db, queue: cfg.Queue, logger: cfg.Logger, poller: poller, stopping: deps.Stopping}
	recorder := newRecorder(db, cfg)
	fanoutTurns := semaphore.NewWeighted(maxFanouts)
	return &Set{
		cfg: cfg,
		deliver: &deliverWorker{
			db: db, queue: cfg.Queue, policy: retryPolicy{checkRetry: cfg.CheckRetry, backoff: cfg.Backoff}, now: cfg.Now, logger: cfg.Logger,
			inflight:   newInflight(cfg.MaxWorkers, cfg.MaxConcurrentPerWebhook, max(cfg.MaxWorkers/4, 1)),
			recorder:   recorder,
			sender:     deps.Sender,
			secretKeys: deps.SecretKeys,
			stopping:   deps.Stopping,
			telemetry:  deps.Telemetry,
			counter:    counter,
			clients:    clients,
		},
		fanout: &fanoutWorker{
			db: db, fanOuter: fanOuter, turns: fanoutTurns, now: cfg.Now, logger: cfg.Logger,
			tracer: deps.Telemetry.Tracer, clients: clients,
		},
		sweep:  &fanoutSweepWorker{poller: poller, clients: clients},
		unpark: &unparkWorker{db: db, queue: cfg.Queue, now: cfg.Now},
		reseal: &resealWorker{db: db, keys: deps.SecretKeys, logger: cfg.Logger},
		retention: &retentionWorker{
			db: db, retention: cfg.Retention, healthWindow: cfg.HealthThresholds.Window, now: cfg.Now, logger: cfg.Logger,
		},
		recover: &recoverWorker{
			db: db, fanOuter: fanOuter, turns: fanoutTurns, now: cfg.Now, logger: cfg.Logger,
			tracer: deps.Telemetry.Tracer, clients: clients,
		},
		clients: clients,
	}
}

// Install adds Sparrow's workers, queue and periodic jobs to a River
// client's configuration. A queue of Sparrow's name that the configuration
// already has must be set as Sparrow sets it, and the configuration's
// schema must be the engine's: either disagreement is an error, and nothing
// is changed.
func (s *Set) Install(rc *river.Config) error {
	if rc == nil {
		return errors.New("nil river.Config")
	}
	if rc.Schema != s.cfg.Schema {
		return fmt.Errorf("river.Config.Schema is %q but the engine's is %q (sparrow.WithSchema): River's tables and Sparrow's must be in one schema",
			rc.Schema, s.cfg.Schema)
	}
	want := river.QueueConfig{MaxWorkers: s.cfg.MaxWorkers}
	if have, ok := rc.Queues[s.cfg.Queue]; ok && have != want {
		return fmt.Errorf("river.Config.Queues[%q] is already set, to %+v, where Sparrow needs %+v: leave Sparrow's queue to Install (set its size with sparrow.WithMaxWorkers) or give Sparrow another with sparrow.WithQueue",
			s.cfg.Queue, have, want)
	}
	workers := rc.Workers
	if workers == nil {
		workers = river.NewWorkers()
	}
	if err := s.addWorkers(workers); err != nil {
		return err
	}
	queues := maps.Clone(rc.Queues)
	if queues == nil {
		queues = map[string]river.QueueConfig{}
	}
	queues[s.cfg.Queue] = want
	rc.Workers, rc.Queues = workers, queues
	rc.PeriodicJobs = append(slices.Clip(rc.PeriodicJobs), s.periodicJobs()...)
	return nil
}

// addWorkers registers every worker, or fails naming those already there.
func (s *Set) addWorkers(workers *river.Workers) error {
	return errors.Join(
		river.AddWorkerSafely(workers, s.fanout),
		river.AddWorkerSafely(workers, s.sweep),
		river.AddWorkerSafely(workers, s.deliver),
		river.AddWorkerSafely(workers, s.unpark),
		river.AddWorkerSafely(workers, s.reseal),
		river.AddWorkerSafely(workers, s.retention),
		river.AddWorkerSafely(workers, s.recover),
	)
}

// periodicJobs are the fan-out sweep, which also starts the fan-out queue's
// poller where it runs, and the retention job unless history is kept
// forever.
func (s *Set) periodicJobs() []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(FanoutSweepInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return riverworkers.FanoutSweepArgs{}, sweepOpts(s.cfg.Queue)
		},
		&river.PeriodicJobOpts{RunOnStart: true},
	)}
	if s.cfg.Retention.Enabled() {
		jobs = append(jobs, river.NewPeriodicJob(
			river.PeriodicInterval(RetentionInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return riverworkers.RetentionArgs{}, &river.InsertOpts{Queue: s.cfg.Queue}
			},
			&river.PeriodicJobOpts{RunOnStart: true},
		))
	}
	return jobs
}

// Attach makes client's process poll the fan-out queue and beat its
// heartbeat now, rather than from the first Sparrow job client works,
// until client or the engine stops.
func (s *Set) Attach(client *river.Client[pgx.Tx]) { s.clients.attach(client) }

// Detached waits, until ctx is done, for the pollers and heartbeats of
// every client to end once the engine is stopping: their heartbeat rows are
// removed by then.
func (s *Set) Detached(ctx context.Context) error {
	for {
		empty := true
		s.clients.running.Range(func(any, any) bool {
			empty = false
			return false
		})
		if empty {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// clients are the River clients of this process that work Sparrow's
// queue: each gets a poller of the fan-out queue and a heartbeat, from the
// first Sparrow job it works (or Attach) until it or the engine stops.
type clients struct {
	db       database
	queue    string
	logger   *slog.Logger
	poller   *poller
	stopping func() <-chan struct{}
	running  sync.Map // *river.Client[pgx.Tx] -> struct{}
}

// attach starts client's poller and heartbeat unless they run.
func (c *clients) attach(client *river.Client[pgx.Tx]) {
	if _, running := c.running.LoadOrStore(client, struct{}{}); running {
		return
	}
	go func() {
		defer c.running.Delete(client)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stopping := c.stopping()
		go func() {
			select {
			case <-client.Stopped():
			case <-stopping:
			}
			cancel()
		}()
		var beating sync.WaitGroup
		beating.Go(func() { c.heartbeat(ctx, client) })
		c.poller.poll(ctx, client)
		beating.Wait()
	}()
}

// fromJob returns the client working a job, attached.
func (c *clients) fromJob(ctx context.Context) (*river.Client[pgx.Tx], error) {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil, err
	}
	c.attach(client)
	return client, nil
}

// database is the pool holding Sparrow's tables, and their schema.
type database struct {
	pool   *pgxpool.Pool
	schema dbutil.Schema
}

// db returns an executor on the pool.
func (d database) db() dbutil.DB { return d.schema.On(d.pool) }

// inTx runs fn in a transaction of its own.
func (d database) inTx(ctx context.Context, fn func(tx pgx.Tx, db dbutil.DB) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error { return fn(tx, d.schema.On(tx)) })
}
