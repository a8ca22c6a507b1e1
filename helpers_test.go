package sparrow_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/dnstest"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/sparrowtest"
	"github.com/sparrowhq/sparrow/webhook"
)

func TestMain(m *testing.M) {
	if schema := os.Getenv(crashChildSchema); schema != "" {
		os.Exit(runCrashChild(schema))
	}
	pgtest.Main(m)
}

// testBundle is what most tests need: an engine on a schema of its own.
type testBundle struct {
	eng    *sparrow.Engine
	pool   *pgxpool.Pool
	schema string
}

// testLogger logs to the test only when something fails.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(newTWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// tWriter writes to a test's log until the test ends: an engine's
// background checks may log later, which testing forbids.
type tWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func newTWriter(t testing.TB) *tWriter {
	w := &tWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

// fastBackoff retries almost at once, so retry tests take milliseconds.
func fastBackoff(int, *delivery.Outcome) time.Duration { return 10 * time.Millisecond }

func setup(t testing.TB, opts ...sparrow.Option) *testBundle {
	t.Helper()
	schema := pgtest.Schema(t)
	return &testBundle{eng: newEngine(t, schema, opts...), pool: pgtest.Pool(t), schema: schema}
}

// newEngine returns an engine on schema with the tests' options, then
// opts: a second engine on a bundle's database, with other keys say.
func newEngine(t testing.TB, schema string, opts ...sparrow.Option) *sparrow.Engine {
	t.Helper()
	opts = append([]sparrow.Option{
		sparrow.WithSchema(schema),
		sparrow.WithAllowPrivateNetworks(),
		sparrow.WithLogger(testLogger(t)),
		sparrow.WithBackoff(fastBackoff),
		// Names resolve on loopback only: no test query leaves the machine.
		sparrow.WithResolver(dnstest.New(t, nil).Resolver()),
	}, opts...)
	eng, err := sparrow.New(pgtest.Pool(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// start runs the engine's workers until the test ends.
func (b *testBundle) start(t *testing.T) {
	t.Helper()
	if err := b.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.eng.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// startHost runs the engine's workers in a River client of the test's own,
// configured by Install, as a host application does, until the test ends.
func (b *testBundle) startHost(t *testing.T) *river.Client[pgx.Tx] {
	t.Helper()
	ctx := context.Background()
	cfg := &river.Config{Logger: testLogger(t), Schema: b.schema, FetchCooldown: 10 * time.Millisecond}
	if err := b.eng.Install(cfg); err != nil {
		t.Fatal(err)
	}
	client, err := river.NewClient(riverpgxv5.New(b.pool), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.eng.Stop(ctx)
		client.Stop(ctx)
	})
	return client
}

// receivedRequest is one request a receiver got.
type receivedRequest = sparrowtest.Request

// receiver is sparrowtest's Receiver, answering as its respond function
// says (200 when nil).
type receiver struct{ *sparrowtest.Receiver }

func newReceiver(t *testing.T, respond func(n int, r *http.Request, w http.ResponseWriter)) *receiver {
	t.Helper()
	rcv := sparrowtest.NewReceiver(t)
	if respond != nil {
		rcv.Respond(func(n int, w http.ResponseWriter, r *http.Request) { respond(n, r, w) })
	}
	return &receiver{rcv}
}

func (r *receiver) received() []receivedRequest { return r.Requests() }

// waitRequests waits until the receiver has had n requests.
func (r *receiver) waitRequests(t *testing.T, n int) []receivedRequest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return r.WaitForRequests(ctx, t, n)
}

// waitDelivery polls a delivery until cond holds.
func (b *testBundle) waitDelivery(t *testing.T, namespace, id string, cond func(*delivery.Delivery) bool) *delivery.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := b.eng.GetDelivery(context.Background(), namespace, id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: condition not met; last seen status=%s attempts=%d", id, d.Status, d.AttemptCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDeliveries waits until the event's deliveries number n and returns them.
func (b *testBundle) waitDeliveries(t *testing.T, namespace, eventID string, n int) []delivery.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		page, err := b.eng.ListDeliveries(context.Background(), sparrow.ListDeliveriesParams{Namespace: namespace, EventID: eventID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) >= n {
			return page.Items
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s has %d deliveries, want %d", eventID, len(page.Items), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantInvalid fails unless err is an *InvalidArgumentError naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var invalid *sparrow.InvalidArgumentError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v, want an InvalidArgumentError for %q", err, field)
	}
	if !errors.Is(err, sparrow.ErrInvalidArgument) {
		t.Fatalf("err = %v does not match ErrInvalidArgument", err)
	}
	if invalid.Field != field {
		t.Fatalf("err names field %q (%v), want %q", invalid.Field, err, field)
	}
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// count returns the number of rows in one of the schema's tables.
func (b *testBundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM "+pgx.Identifier{b.schema, table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *testBundle) registerEvent(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := b.eng.RegisterEventType(context.Background(), sparrow.RegisterEventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
}

func (b *testBundle) registerWebhook(t *testing.T, p sparrow.RegisterWebhookParams) *webhook.Webhook {
	t.Helper()
	w, err := b.eng.RegisterWebhook(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ptr[T any](v T) *T { return &v }

// schemaDB returns the bundle's schema on its pool, for reading Sparrow's
// storage directly.
func schemaDB(b *testBundle) dbutil.DB { return dbutil.Schema(b.schema).On(b.pool) }

// countJobs counts the schema's River jobs of kind (all kinds when empty).
func (b *testBundle) countJobs(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+" WHERE $1 = '' OR kind = $1", kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFannedOut waits until events ids have been fanned out: every
// delivery they will have exists.
func (b *testBundle) waitFannedOut(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var done int
		if err := b.pool.QueryRow(context.Background(), "SELECT count(DISTINCT event_id) FROM "+
			pgx.Identifier{b.schema, "sparrow_event_fanout"}.Sanitize()+" WHERE event_id = ANY($1)", ids).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events fanned out", done, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitJobsDone waits until n jobs of kind have completed.
func (b *testBundle) waitJobsDone(t *testing.T, kind string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var done int
		if err := b.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+" WHERE kind = $1 AND state = 'completed'", kind).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs completed, want %d", done, kind, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitJobsIdle waits until no job of kind is waiting to run or running:
// all have ended or are scheduled for later.
func (b *testBundle) waitJobsIdle(t *testing.T, kind string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var busy int
		if err := b.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
			" WHERE kind = $1 AND state IN ('available', 'pending', 'retryable', 'running')", kind).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs still to run", busy, kind)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countUserEventTypes counts the event types registered besides Sparrow's
// own.
func (b *testBundle) countUserEventTypes(t *testing.T) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{b.schema, "sparrow_event_type"}.Sanitize()+
		" WHERE name NOT LIKE 'sparrow.%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
