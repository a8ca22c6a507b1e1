package sparrow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/config"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/groupcommit"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/internal/version"
	"github.com/sparrowhq/sparrow/internal/worker"
)

// Version is Sparrow's version, also sent in every delivery's User-Agent.
const Version = version.Version

// Engine is Sparrow: the registry of event types, webhooks and subscriptions,
// the push of events, and the record of their deliveries, kept in the host's
// PostgreSQL database. Its background work (fan-out, delivery) runs as River
// jobs, in the host's River client (Install) or in one the engine runs itself
// (Start, Stop).
//
// An Engine is safe for concurrent use.
type Engine struct {
	config     *config.Config
	pool       *pgxpool.Pool
	schema     dbutil.Schema
	schemas    *schemaCache
	secretKeys *secretbox.Keyring // nil: secrets stored in the clear
	telemetry  *telemetry.Telemetry
	workers    *worker.Set
	// inserter is the insert-only River client the engine schedules its
	// jobs with: it checks no job kinds, so a process that never works
	// Sparrow's jobs can schedule them.
	inserter *river.Client[pgx.Tx]
	stall    stallWatch
	// pushes commits concurrent PushEvent calls together (see pushGrouped).
	pushes *groupcommit.Group[*groupedPush]

	mu     sync.Mutex
	client *river.Client[pgx.Tx] // the client Start runs, if any
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
	cfg := config.New()
	for _, opt := range opts {
		opt.apply(cfg)
	}
	cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sparrow: %w", err)
	}
	cfg.Logger = slog.New(telemetry.LogHandler(cfg.Logger.Handler()))
	tel, err := telemetry.New(cfg.TracerProvider, cfg.MeterProvider)
	if err != nil {
		return nil, fmt.Errorf("sparrow: telemetry: %w", err)
	}
	e := &Engine{
		config:    cfg,
		pool:      pool,
		schema:    dbutil.Schema(cfg.Schema),
		schemas:   newSchemaCache(),
		telemetry: tel,
		stopping:  make(chan struct{}),
	}
	e.pushes = groupcommit.New(pushGroupMax, e.flushPushes)
	if len(cfg.SecretKeys) > 0 {
		if e.secretKeys, err = secretbox.NewKeyring(cfg.SecretKeys[0], cfg.SecretKeys[1:]...); err != nil {
			return nil, fmt.Errorf("sparrow: WithSecretKeys: %w", err)
		}
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = delivery.NewClient(&delivery.Guard{AllowPrivate: cfg.AllowPrivateNetworks, Allowed: cfg.AllowedCIDRs}, cfg.Resolver)
		httpClient.Transport = newTracedTransport(httpClient.Transport, tel.Tracer, cfg.Traceparent)
	}
	e.workers = worker.New(cfg, worker.Deps{
		Pool:       pool,
		SecretKeys: e.secretKeys,
		Sender:     delivery.NewSender(httpClient, cfg.ResponseBodyLimit, version.UserAgent),
		Stopping:   e.stoppingSignal,
		Telemetry:  tel,
	})
	if err := e.registerGauges(); err != nil {
		return nil, fmt.Errorf("sparrow: telemetry: %w", err)
	}
	if e.inserter, err = river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: cfg.Logger, Schema: cfg.Schema}); err != nil {
		return nil, fmt.Errorf("sparrow: river insert client: %w", err)
	}
	return e, nil
}

// Install puts Sparrow into a host's River client configuration, before
// river.NewClient: its workers (into Workers, created if nil), its queue
// (merged into Queues) and its periodic jobs (appended to PeriodicJobs),
// which include the sweep that starts, in every process whose client works
// Sparrow's queue, the poller fanning pushed events out within
// milliseconds. Start the client, and call Stop before stopping it.
//
// Install refuses, changing nothing, a configuration whose Queues already
// set Sparrow's queue differently, whose Workers already hold Sparrow's, or
// whose Schema is not the engine's.
func (e *Engine) Install(riverConfig *river.Config) error {
	if err := e.workers.Install(riverConfig); err != nil {
		return fmt.Errorf("sparrow: Install: %w", err)
	}
	return nil
}

// Start runs Sparrow's workers in a River client of the engine's own, for a
// host without a River client, and polls the fan-out queue single pushes
// write to. It refuses to start (ErrMissingSecretKey) when stored secrets
// or headers are sealed with a key the engine was not given. It returns once the client has started. The client then runs
// until Stop: ctx bounds only the start, so that a context cancelled by a
// shutdown signal doesn't cut in-flight deliveries short; Stop shuts down
// gracefully.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return errors.New("sparrow: engine already started")
	}
	if err := e.checkSecretKeys(ctx); err != nil {
		return err
	}
	riverConfig := &river.Config{
		// Deliveries should follow pushes within milliseconds, not River's
		// default second of polling.
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 250 * time.Millisecond,
		Logger:            e.config.Logger,
		// A delivery job runs at most a minute and a half; a job running
		// much longer belonged to a process that died.
		RescueStuckJobsAfter: 5 * time.Minute,
		Schema:               e.config.Schema,
	}
	if err := e.workers.Install(riverConfig); err != nil {
		return fmt.Errorf("sparrow: %w", err)
	}
	if e.config.RiverConfig != nil {
		e.config.RiverConfig(riverConfig)
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
	e.workers.Attach(client)
	if e.secretKeys != nil {
		// Secrets and headers still in the clear or under an older key get
		// sealed with the current one, in the background.
		if _, err := client.InsertMany(ctx, []river.InsertManyParams{worker.ResealJob(e.config.Queue)}); err != nil {
			return fmt.Errorf("sparrow: schedule secret re-sealing: %w", err)
		}
	}
	return nil
}

// Stop makes running delivery jobs start no more attempts (those left wait
// for the next start) and ends the fan-out queue's pollers and this
// process's worker heartbeats, then stops the client Start runs: it stops
// fetching jobs and waits for running attempts to finish until ctx is
// done, then cancels those left (they are retried at the next start). A
// host running Sparrow's workers in its own River client (Install) calls
// Stop just before that client's.
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
	var err error
	if client != nil {
		err = client.Stop(ctx)
		if ctx.Err() != nil {
			cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			err = client.StopAndCancel(cancelCtx)
		}
	}
	detachCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(err, e.workers.Detached(detachCtx))
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

// now reads the clock, truncated to PostgreSQL's precision.
func (e *Engine) now() time.Time { return e.config.Now() }

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

// insertJobs schedules Sparrow's jobs in tx, and the check that a worker
// takes them.
func (e *Engine) insertJobs(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := e.inserter.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("sparrow: insert jobs: %w", err)
	}
	e.watchForStall()
	return nil
}

var errNilTx = errs.InvalidArgument("tx", "nil (use the method without Tx to run in a transaction of Sparrow's own)")
