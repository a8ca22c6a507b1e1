package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
)

// The baselines are what a host gets without Sparrow, measured on the same
// machine, database and settings, so that Sparrow's figures can be judged by
// ratio rather than by numbers that drift between machines.

// River's fetch settings, the ones Sparrow's Engine.Start uses (sparrow.go),
// so River baselines differ from the engine only in the work they do.
const (
	riverFetchCooldown     = 5 * time.Millisecond
	riverFetchPollInterval = 250 * time.Millisecond
)

// maxWorkers is the River workers of the engine and of the River baselines.
func (b *bench) maxWorkers() int {
	if b.cfg.Workers > 0 {
		return b.cfg.Workers
	}
	return sparrow.MaxWorkersDefault
}

func (b *bench) riverConfig(schema string, workers *river.Workers) *river.Config {
	return &river.Config{
		FetchCooldown:     riverFetchCooldown,
		FetchPollInterval: riverFetchPollInterval,
		Logger:            b.quiet,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: b.maxWorkers()}},
		Schema:            schema,
		Workers:           workers,
	}
}

// noopArgs is a job that does nothing.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// The host's business table, written alongside events.
const createOrders = `CREATE TABLE bench_order (
    id bigserial PRIMARY KEY,
    customer text NOT NULL,
    total numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)`

func insertOrder(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "INSERT INTO bench_order (customer, total) VALUES ($1, $2)", "ada", 49.99)
	return err
}

// inTx runs fn in a transaction of its own and commits.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// insertCommit measures a host's plain transaction: insert one business row,
// commit. PushEventTx is judged against it at the same concurrency.
func (b *bench) insertCommit(conc int) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		schema, drop, err := b.db.schema(ctx, fmt.Sprintf("insert_c%d", conc), false)
		if err != nil {
			return "", err
		}
		defer drop()
		pool, err := b.openPool(ctx, schema, conc)
		if err != nil {
			return "", err
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, createOrders); err != nil {
			return "", err
		}
		perSec, err := closedLoop(ctx, b.prog, conc, b.cfg.Duration, func(ctx context.Context) error {
			return inTx(ctx, pool, func(tx pgx.Tx) error { return insertOrder(ctx, tx) })
		})
		if err != nil {
			return "", err
		}
		b.res.add(fmt.Sprintf("insert_commit_c%d", conc), SectionBaseline,
			fmt.Sprintf("plain insert+commit, concurrency %d", conc), perSec, "tx/s")
		return rate(perSec, "tx/s"), nil
	}
}

// openPool opens a pool of -pool connections (at least conc), conc of them
// connected, so a measurement doesn't time connecting.
func (b *bench) openPool(ctx context.Context, schema string, conc int) (*pgxpool.Pool, error) {
	pool, err := b.db.pool(ctx, schema, max(b.cfg.PoolConns, conc), "baseline")
	if err != nil {
		return nil, err
	}
	if err := warm(ctx, pool, conc); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// warm connects n of pool's connections.
func warm(ctx context.Context, pool *pgxpool.Pool, n int) error {
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	return nil
}

// insertRiverTx measures the business insert plus a River job inserted in
// the same transaction: the outbox River alone gives. For reference; no
// target depends on it.
func (b *bench) insertRiverTx(conc int) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		schema, drop, err := b.db.schema(ctx, fmt.Sprintf("rivertx_c%d", conc), true)
		if err != nil {
			return "", err
		}
		defer drop()
		pool, err := b.openPool(ctx, schema, conc)
		if err != nil {
			return "", err
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, createOrders); err != nil {
			return "", err
		}
		client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: b.quiet, Schema: schema})
		if err != nil {
			return "", err
		}
		perSec, err := closedLoop(ctx, b.prog, conc, b.cfg.Duration, func(ctx context.Context) error {
			return inTx(ctx, pool, func(tx pgx.Tx) error {
				if err := insertOrder(ctx, tx); err != nil {
					return err
				}
				_, err := client.InsertTx(ctx, tx, noopArgs{}, nil)
				return err
			})
		})
		if err != nil {
			return "", err
		}
		b.res.add(fmt.Sprintf("insert_river_tx_c%d", conc), SectionBaseline,
			fmt.Sprintf("insert + River InsertTx, concurrency %d", conc), perSec, "tx/s")
		return rate(perSec, "tx/s"), nil
	}
}

// insertJobs inserts n jobs made by args in batches, untimed, showing
// progress.
func (b *bench) insertJobs(ctx context.Context, client *river.Client[pgx.Tx], n int, args func(i int) river.JobArgs) error {
	const batch = 5000
	var done atomic.Int64
	b.prog.track(countTracker(done.Load, int64(n), "jobs inserted"))
	params := make([]river.InsertManyParams, 0, batch)
	for i := 0; i < n; {
		params = params[:0]
		for ; i < n && len(params) < batch; i++ {
			params = append(params, river.InsertManyParams{Args: args(i)})
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return err
		}
		done.Add(int64(len(params)))
	}
	return nil
}

// riverNoop measures bare River: no-op jobs worked per second, from a
// queue filled beforehand, counted as River reports them completed.
func (b *bench) riverNoop(ctx context.Context) (string, error) {
	schema, drop, err := b.db.schema(ctx, "noop", true)
	if err != nil {
		return "", err
	}
	defer drop()
	pool, err := b.openPool(ctx, schema, 1)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), b.riverConfig(schema, workers))
	if err != nil {
		return "", err
	}
	n := b.cfg.Jobs
	if err := b.insertJobs(ctx, client, n, func(int) river.JobArgs { return noopArgs{} }); err != nil {
		return "", err
	}
	completed, cancel := client.SubscribeConfig(&river.SubscribeConfig{Kinds: []river.EventKind{river.EventKindJobCompleted}, ChanSize: n + 1000})
	defer cancel()
	var done atomic.Int64
	b.prog.track(countTracker(done.Load, int64(n), "jobs"))
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return "", err
	}
	defer stopRiver(client)
	timeout := time.NewTimer(waitLimit(n, 1000))
	defer timeout.Stop()
	for done.Load() < int64(n) {
		select {
		case <-completed:
			done.Add(1)
		case <-timeout.C:
			return "", fmt.Errorf("timed out: %d of %d jobs completed", done.Load(), n)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	perSec := float64(n) / time.Since(start).Seconds()
	b.res.add("river_noop", SectionBaseline, "River no-op jobs", perSec, "jobs/s")
	return rate(perSec, "jobs/s"), nil
}

// waitLimit bounds a wait for n things happening at no less than minRate a
// second: a stall fails the run rather than hanging it.
func waitLimit(n, minRate int) time.Duration {
	return max(time.Minute, time.Duration(n/minRate)*time.Second)
}

func stopRiver(client *river.Client[pgx.Tx]) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = client.Stop(ctx)
}

// naiveArgs is the naive delivery: POST a body to the receiver, record the
// outcome with one UPDATE.
type naiveArgs struct {
	ID int64 `json:"id"`
}

func (naiveArgs) Kind() string { return "bench_naive_delivery" }

type naiveWorker struct {
	river.WorkerDefaults[naiveArgs]
	pool   *pgxpool.Pool
	client *http.Client
	url    string
	body   []byte
}

func (w *naiveWorker) Work(ctx context.Context, job *river.Job[naiveArgs]) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(w.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	_, err = w.pool.Exec(ctx, "UPDATE bench_delivery SET status = 'succeeded', attempts = attempts + 1, updated_at = now() WHERE id = $1", job.Args.ID)
	return err
}

// newHTTPClient is a client with the connection reuse of Sparrow's own
// (delivery.NewClient), without its address guard.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1000, MaxIdleConnsPerHost: 100, IdleConnTimeout: 90 * time.Second,
	}}
}

// naiveDelivery measures the delivery a host could write with River alone:
// a job per delivery that POSTs the payload to a local receiver and then
// UPDATEs its row. Sparrow's end-to-end rate is judged against it.
func (b *bench) naiveDelivery(ctx context.Context) (string, error) {
	recv := newReceiver(false)
	defer recv.close()
	url, err := recv.endpoint("/naive", "")
	if err != nil {
		return "", err
	}
	schema, drop, err := b.db.schema(ctx, "naive", true)
	if err != nil {
		return "", err
	}
	defer drop()
	pool, err := b.openPool(ctx, schema, 1)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	n := b.cfg.Deliveries
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_delivery (
    id bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    updated_at timestamptz
)`); err != nil {
		return "", err
	}
	if _, err := pool.Exec(ctx, "INSERT INTO bench_delivery (id) SELECT generate_series(1, $1)", n); err != nil {
		return "", err
	}
	httpClient := newHTTPClient()
	defer httpClient.CloseIdleConnections()
	workers := river.NewWorkers()
	river.AddWorker(workers, &naiveWorker{pool: pool, client: httpClient, url: url, body: payload(b.cfg.Payload, 0)})
	client, err := river.NewClient(riverpgxv5.New(pool), b.riverConfig(schema, workers))
	if err != nil {
		return "", err
	}
	if err := b.insertJobs(ctx, client, n, func(i int) river.JobArgs { return naiveArgs{ID: int64(i + 1)} }); err != nil {
		return "", err
	}
	recv.expect(int64(n))
	b.prog.track(countTracker(recv.received.Load, int64(n), "delivered"))
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return "", err
	}
	defer stopRiver(client)
	if err := recv.await(ctx, waitLimit(n, 100)); err != nil {
		return "", err
	}
	perSec := float64(n) / time.Since(start).Seconds()
	b.res.add("naive_delivery", SectionBaseline, "naive River delivery (POST 1 job, UPDATE 1 row)", perSec, "deliveries/s")
	return rate(perSec, "deliveries/s"), nil
}
