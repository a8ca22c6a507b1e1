package sparrow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/internal/version"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// Version is Sparrow's version, also sent in every delivery's User-Agent.
const Version = version.Version

// Engine is Sparrow: the registry of event types, webhooks and subscriptions,
// the push of events, and the record of their deliveries, kept in the host's
// PostgreSQL database. Its background work (fan-out, delivery) runs as River
// jobs, in the host's River client (AddWorkers, Queues) or in one the engine
// runs itself (Start, Stop).
//
// An Engine is safe for concurrent use.
type Engine struct {
	config     config
	pool       *pgxpool.Pool
	schema     dbutil.Schema
	schemas    *schemaCache
	secretKeys *secretbox.Keyring // nil: secrets stored in the clear
	sender     *delivery.Sender
	telemetry  *telemetry.Telemetry

	// inserter is the River client jobs are inserted with: an insert-only
	// client of the engine's own until UseRiverClient or Start names another.
	inserter atomic.Pointer[river.Client[pgx.Tx]]
	mu       sync.Mutex
	client   *river.Client[pgx.Tx] // the client Start runs, if any
	// stopping is closed by Stop: running delivery jobs then start no more
	// attempts. Start opens a new one.
	stopping chan struct{}
}

// New returns an Engine keeping its tables in pool's database. The tables
// must exist (migrations.Migrate). New does no I/O.
func New(pool *pgxpool.Pool, opts ...Option) (*Engine, error) {
	if pool == nil {
		return nil, errors.New("sparrow: nil pool (pass the *pgxpool.Pool of the database holding Sparrow's tables)")
	}
	var cfg config
	for _, opt := range opts {
		opt.apply(&cfg)
	}
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("sparrow: %w", err)
	}
	cfg.logger = slog.New(telemetry.LogHandler(cfg.logger.Handler()))
	tel, err := telemetry.New(cfg.tracerProvider, cfg.meterProvider)
	if err != nil {
		return nil, fmt.Errorf("sparrow: telemetry: %w", err)
	}
	httpClient := cfg.httpClient
	if httpClient == nil {
		httpClient = delivery.NewClient(&delivery.Guard{AllowPrivate: cfg.allowPrivate, Allowed: cfg.allowedCIDRs}, cfg.resolver)
		httpClient.Transport = newTracedTransport(httpClient.Transport, tel.Tracer, *cfg.traceparent)
	}
	e := &Engine{
		config:    cfg,
		pool:      pool,
		schema:    dbutil.Schema(cfg.schema),
		schemas:   newSchemaCache(),
		sender:    delivery.NewSender(httpClient, cfg.responseBodyLimit, version.UserAgent),
		telemetry: tel,
		stopping:  make(chan struct{}),
	}
	if err := e.registerGauges(); err != nil {
		return nil, fmt.Errorf("sparrow: telemetry: %w", err)
	}
	if len(cfg.secretKeys) > 0 {
		keys := make([]secretbox.Key, len(cfg.secretKeys))
		for i, k := range cfg.secretKeys {
			keys[i] = secretbox.Key{ID: k.ID, Bytes: k.Key}
		}
		if e.secretKeys, err = secretbox.NewKeyring(keys[0], keys[1:]...); err != nil {
			return nil, fmt.Errorf("sparrow: WithSecretKeys: %w", err)
		}
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: cfg.logger, Schema: cfg.schema})
	if err != nil {
		return nil, fmt.Errorf("sparrow: river insert client: %w", err)
	}
	e.inserter.Store(inserter)
	return e, nil
}

// AddWorkers registers Sparrow's River workers in a host's workers, for a
// host that runs its own River client. The client must also work Sparrow's
// queue (Queues).
func (e *Engine) AddWorkers(workers *river.Workers) error {
	_, err := e.addWorkers(workers)
	return err
}

func (e *Engine) addWorkers(workers *river.Workers) (*riverworkers.Added, error) {
	return riverworkers.Add(workers, &riverworkers.Config{
		Backoff:                 e.config.backoff,
		CheckRetry:              e.config.checkRetry,
		HealthThresholds:        e.config.healthThresholds,
		HealthTracking:          *e.config.healthTracking,
		Hooks:                   e.config.hooks,
		Logger:                  e.config.logger,
		MaxAttempts:             e.config.maxWorkers,
		MaxConcurrentPerWebhook: e.config.maxConcurrent,
		MaxJobsPerWebhook:       max(e.config.maxWorkers/4, 1),
		Now:                     e.config.clock,
		Pool:                    e.pool,
		Queue:                   e.config.queue,
		Retention:               e.config.retentionPolicy(),
		Schema:                  e.config.schema,
		SecretKeys:              e.secretKeys,
		Sender:                  e.sender,
		Stopping:                e.stoppingSignal,
		Telemetry:               e.telemetry,
		TemplateTimeout:         e.config.templateTimeout,
	})
}

// Queues returns Sparrow's queue configuration, to merge into a host River
// client's Config.Queues. Only a client that also has Sparrow's workers
// (AddWorkers) may work these queues.
func (e *Engine) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{e.config.queue: {MaxWorkers: e.config.maxWorkers}}
}

// PeriodicJobs returns Sparrow's periodic jobs, to add to a host River
// client's Config.PeriodicJobs alongside AddWorkers and Queues: the fan-out
// sweep, which also starts the poller that fans pushed events out within
// milliseconds (without it, single pushes are never delivered), and the
// retention job unless history is kept forever.
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(riverworkers.FanoutSweepInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return riverworkers.FanoutSweepArgs{}, &river.InsertOpts{Queue: e.config.queue, Priority: 1}
		},
		&river.PeriodicJobOpts{RunOnStart: true},
	)}
	if e.config.retentionPolicy().Enabled() {
		jobs = append(jobs, river.NewPeriodicJob(
			river.PeriodicInterval(riverworkers.RetentionInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return riverworkers.RetentionArgs{}, &river.InsertOpts{Queue: e.config.queue}
			},
			&river.PeriodicJobOpts{RunOnStart: true},
		))
	}
	return jobs
}

// UseRiverClient makes the engine insert its jobs through client, the
// host's, so that the client's insert middleware and hooks apply to them.
// Optional: by default the engine inserts with an insert-only client of its
// own on the same pool.
func (e *Engine) UseRiverClient(client *river.Client[pgx.Tx]) {
	e.inserter.Store(client)
}

// Start runs Sparrow's workers in a River client of the engine's own, for a
// host without a River client, and polls the fan-out queue single pushes
// write to. It returns once the client has started. The client then runs
// until Stop: ctx bounds only the start, so that a context cancelled by a
// shutdown signal doesn't cut in-flight deliveries short; Stop shuts down
// gracefully.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return errors.New("sparrow: engine already started")
	}
	workers := river.NewWorkers()
	added, err := e.addWorkers(workers)
	if err != nil {
		return err
	}
	riverConfig := &river.Config{
		// Deliveries should follow pushes within milliseconds, not River's
		// default second of polling.
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		Logger:            e.config.logger,
		PeriodicJobs:      e.PeriodicJobs(),
		Queues:            e.Queues(),
		// A delivery job runs at most a minute and a half; a job running
		// much longer belonged to a process that died.
		RescueStuckJobsAfter: 5 * time.Minute,
		Schema:               e.config.schema,
		Workers:              workers,
	}
	if e.config.riverConfig != nil {
		e.config.riverConfig(riverConfig)
	}
	client, err := river.NewClient(riverpgxv5.New(e.pool), riverConfig)
	if err != nil {
		return fmt.Errorf("sparrow: river client: %w", err)
	}
	select {
	case <-e.stopping: // stopped before: this is a new run
		e.stopping = make(chan struct{})
	default:
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("sparrow: start river client: %w", err)
	}
	e.client = client
	e.inserter.Store(client)
	added.PollFanoutQueue(client)
	if e.secretKeys != nil {
		// Secrets still in the clear or under an older key get sealed with
		// the current one, in the background.
		if _, err := client.Insert(ctx, riverworkers.ResealArgs{}, &river.InsertOpts{Queue: e.config.queue}); err != nil {
			return fmt.Errorf("sparrow: schedule secret re-sealing: %w", err)
		}
	}
	return nil
}

// Stop makes running delivery jobs start no more attempts (those left wait
// for the next start) and ends the fan-out queue's poller, then stops the
// client Start runs: it stops fetching jobs and waits for running attempts
// to finish until ctx is done, then cancels those left (they are retried
// at the next start). A host running Sparrow's workers in its own River
// client calls Stop just before that client's.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	select {
	case <-e.stopping:
	default:
		close(e.stopping)
	}
	client := e.client
	e.client = nil
	e.mu.Unlock()
	if client == nil {
		return nil
	}
	err := client.Stop(ctx)
	if ctx.Err() != nil {
		cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = client.StopAndCancel(cancelCtx)
	}
	return err
}

// Ready reports whether the engine can do its work: its database answers
// and, when Start runs its River client, that client is running. Health
// checks (a readiness probe) call it.
func (e *Engine) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := e.pool.Ping(ctx); err != nil {
		return fmt.Errorf("sparrow: database: %w", err)
	}
	e.mu.Lock()
	client := e.client
	e.mu.Unlock()
	if client == nil {
		return nil
	}
	select {
	case <-client.Stopped():
		return errors.New("sparrow: workers stopped")
	default:
		return nil
	}
}

// stoppingSignal returns the channel Stop closes.
func (e *Engine) stoppingSignal() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopping
}

// RiverClient returns the client Start runs, or nil.
func (e *Engine) RiverClient() *river.Client[pgx.Tx] {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.client
}

// now reads the clock, truncated to PostgreSQL's microseconds so that what
// is written compares equal to what is read back.
func (e *Engine) now() time.Time {
	return e.config.clock().UTC().Truncate(time.Microsecond)
}

// db returns the executor for an operation: tx when given, else the pool.
func (e *Engine) db(tx pgx.Tx) dbutil.DB {
	if tx != nil {
		return e.schema.On(tx)
	}
	return e.schema.On(e.pool)
}

// inTx runs fn in tx when given, else in a transaction of its own.
func (e *Engine) inTx(ctx context.Context, tx pgx.Tx, fn func(tx pgx.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return pgx.BeginFunc(ctx, e.pool, fn)
}

var errNilTx = errs.InvalidArgument("tx", "nil (use the method without Tx to run in a transaction of Sparrow's own)")
