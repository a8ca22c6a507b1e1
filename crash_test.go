package sparrow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// Environment of the worker processes the crash tests start and kill.
const (
	crashChildSchema = "SPARROW_CRASH_CHILD_SCHEMA"
	crashChildURL    = "SPARROW_CRASH_CHILD_DATABASE_URL"
	// crashChildHost: "1" runs the workers in a River client of the
	// child's own, configured by Install, as a host application does;
	// otherwise Engine.Start runs them.
	crashChildHost = "SPARROW_CRASH_CHILD_HOST"
)

// runCrashChild runs an engine's workers until the process is killed.
func runCrashChild(schema string) int {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(crashChildURL))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := sparrow.New(pool, sparrow.WithSchema(schema), sparrow.WithAllowPrivateNetworks(), sparrow.WithMaxWorkers(20),
		// A few attempts at a time per webhook: the kill lands with some
		// deliveries recorded, some in flight, most not started.
		sparrow.WithMaxConcurrentPerWebhook(4), sparrow.WithLogger(logger))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv(crashChildHost) != "1" {
		err = eng.Start(ctx)
	} else {
		cfg := &river.Config{Logger: logger, Schema: schema, FetchCooldown: 10 * time.Millisecond}
		var client *river.Client[pgx.Tx]
		if err = eng.Install(cfg); err == nil {
			if client, err = river.NewClient(riverpgxv5.New(pool), cfg); err == nil {
				err = client.Start(ctx)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

// crashRun is a workload being delivered by worker processes that a test
// kills: events to several slow webhooks, so that at any moment some
// deliveries are recorded, some in flight and most not started.
type crashRun struct {
	b        *testBundle
	rcv      *receiver
	total    int
	children []*exec.Cmd
}

const crashWebhooks = 5

func newCrashRun(t *testing.T, perWebhook int) *crashRun {
	t.Helper()
	return newKeyedCrashRun(t, perWebhook, 0)
}

// newKeyedCrashRun is newCrashRun with the events taking keys ordering
// keys in turn (0: none).
func newKeyedCrashRun(t *testing.T, perWebhook, keys int) *crashRun {
	t.Helper()
	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		time.Sleep(200 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	b.registerEvent(t, "order.created")
	for i := range crashWebhooks {
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL + "/" + strconv.Itoa(i), Events: []string{"order.created"}})
	}
	batch := make([]sparrow.PushEventParams, perWebhook)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, orderedPayload{N: i})}
		if keys > 0 {
			key := fmt.Sprintf("key%d", i%keys)
			batch[i].OrderingKey, batch[i].Payload = key, mustJSON(t, orderedPayload{Key: key, N: i})
		}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return &crashRun{b: b, rcv: rcv, total: perWebhook * crashWebhooks}
}

// startChild starts a worker process on the run's schema.
func (r *crashRun) startChild(t *testing.T, host bool) *exec.Cmd {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildSchema+"="+r.b.schema, crashChildURL+"="+pgtest.URL(t))
	if host {
		child.Env = append(child.Env, crashChildHost+"=1")
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	r.children = append(r.children, child)
	t.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
	})
	return child
}

// waitArrived waits until the receiver has had n requests.
func (r *crashRun) waitArrived(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); len(r.rcv.received()) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests arrived, want %d", len(r.rcv.received()), n)
		}
	}
}

// kill ends child with SIGKILL: no shutdown, its jobs left running.
func kill(t *testing.T, child *exec.Cmd) time.Time {
	t.Helper()
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	return time.Now()
}

// crashOutcome is what a run's receiver saw.
type crashOutcome struct {
	// resumed is when the first request after `after` arrived; done when
	// the last delivery first arrived.
	resumed, done time.Time
	duplicates    int
}

// waitAllDelivered waits until every delivery has succeeded (within
// limit), then checks each arrived at least once and counts those that
// arrived twice, which must have been in flight at the kill: received by
// then but not recorded as succeeded.
func (r *crashRun) waitAllDelivered(t *testing.T, after time.Time, inFlight map[string]bool, limit time.Duration) crashOutcome {
	t.Helper()
	for deadline := time.Now().Add(limit); countStatus(t, r.b, delivery.StatusSucceeded) < r.total; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded within %s", countStatus(t, r.b, delivery.StatusSucceeded), r.total, limit)
		}
	}
	var out crashOutcome
	times := map[string]int{}
	for _, req := range r.rcv.received() {
		times[req.DeliveryID]++
		if req.At.After(after) && out.resumed.IsZero() {
			out.resumed = req.At
		}
		if times[req.DeliveryID] == 1 && req.At.After(out.done) {
			out.done = req.At
		}
	}
	if len(times) != r.total {
		t.Fatalf("the receiver saw %d distinct deliveries, want %d", len(times), r.total)
	}
	for id, n := range times {
		if n == 1 {
			continue
		}
		out.duplicates++
		if n > 2 || !inFlight[id] {
			t.Errorf("delivery %s arrived %d times without having been in flight at the kill", id, n)
		}
	}
	var maxAttempts int
	if err := r.b.pool.QueryRow(context.Background(), "SELECT max(attempt_count) FROM "+
		pgx.Identifier{r.b.schema, "sparrow_delivery"}.Sanitize()).Scan(&maxAttempts); err != nil {
		t.Fatal(err)
	}
	if maxAttempts != 1 {
		t.Fatalf("a delivery recorded %d attempts; a re-run must record the interrupted attempt once", maxAttempts)
	}
	return out
}

// inFlightAt returns the deliveries received by the kill at killed but not
// recorded as succeeded: those whose attempt it interrupted. Read after the
// kill, so that no request lands between the reading and the kill.
func (r *crashRun) inFlightAt(t *testing.T, killed time.Time) map[string]bool {
	t.Helper()
	rows, err := r.b.pool.Query(context.Background(), "SELECT id FROM "+pgx.Identifier{r.b.schema, "sparrow_delivery"}.Sanitize()+
		" WHERE status = 'succeeded'")
	if err != nil {
		t.Fatal(err)
	}
	succeeded, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, id := range succeeded {
		done[id] = true
	}
	inFlight := map[string]bool{}
	for _, req := range r.rcv.received() {
		if !done[req.DeliveryID] && !req.At.After(killed) {
			inFlight[req.DeliveryID] = true
		}
	}
	if len(done) == 0 || len(done) >= r.total {
		t.Fatalf("%d deliveries succeeded before the kill: the kill did not land mid-run", len(done))
	}
	return inFlight
}

// resumeWithin is how soon after a process dies the deliveries it owed
// must be going out again: the heartbeat's few intervals, not River's
// five-minute rescue.
const resumeWithin = 30 * time.Second

// TestCrashRecoveryTakeover kills a worker process mid-run (SIGKILL: no
// shutdown, its jobs left running) and starts another: the new one takes
// the dead one's jobs once its heartbeat is stale, every delivery arrives,
// and only those in flight at the kill arrive twice.
func TestCrashRecoveryTakeover(t *testing.T) {
	t.Parallel()

	r := newCrashRun(t, 80)
	child := r.startChild(t, false)
	r.waitArrived(t, r.total/4)
	killed := kill(t, child)
	inFlight := r.inFlightAt(t, killed)
	r.b.start(t) // this test's process takes over
	out := r.waitAllDelivered(t, killed, inFlight, 2*time.Minute)
	if resumed := out.resumed.Sub(killed); resumed > resumeWithin {
		t.Errorf("deliveries resumed %s after the kill, want within %s", resumed.Round(time.Second), resumeWithin)
	}
	t.Logf("killed with %d of %d in flight: resumed after %s, all delivered %s after the kill, %d arrived twice",
		len(inFlight), r.total, out.resumed.Sub(killed).Round(time.Millisecond), out.done.Sub(killed).Round(time.Millisecond), out.duplicates)
}

// TestCrashRecoveryRestart kills a host process running Sparrow's workers
// in its own River client, and starts it again: the restarted process takes
// back what the dead one held.
func TestCrashRecoveryRestart(t *testing.T) {
	t.Parallel()

	r := newCrashRun(t, 80)
	child := r.startChild(t, true)
	r.waitArrived(t, r.total/4)
	killed := kill(t, child)
	inFlight := r.inFlightAt(t, killed)
	r.startChild(t, true)
	out := r.waitAllDelivered(t, killed, inFlight, 2*time.Minute)
	if resumed := out.resumed.Sub(killed); resumed > resumeWithin {
		t.Errorf("deliveries resumed %s after the restart, want within %s", resumed.Round(time.Second), resumeWithin)
	}
	t.Logf("restarted with %d of %d in flight: resumed after %s, all delivered %s after the kill, %d arrived twice",
		len(inFlight), r.total, out.resumed.Sub(killed).Round(time.Millisecond), out.done.Sub(killed).Round(time.Millisecond), out.duplicates)
}

// TestCrashRecoveryThreeEngines kills one of three worker processes on one
// database, the one holding every delivery job (it ran alone until the
// other two started): the two left share its deliveries once they find it
// dead.
func TestCrashRecoveryThreeEngines(t *testing.T) {
	t.Parallel()

	r := newCrashRun(t, 120)
	victim := r.startChild(t, false)
	r.waitArrived(t, r.total/4)
	r.startChild(t, true)
	r.startChild(t, false)
	killed := kill(t, victim)
	inFlight := r.inFlightAt(t, killed)
	out := r.waitAllDelivered(t, killed, inFlight, 2*time.Minute)
	if resumed := out.resumed.Sub(killed); resumed > resumeWithin {
		t.Errorf("deliveries resumed %s after the kill, want within %s", resumed.Round(time.Second), resumeWithin)
	}
	t.Logf("one of three killed with %d of %d in flight: resumed after %s, all delivered %s after the kill, %d arrived twice",
		len(inFlight), r.total, out.resumed.Sub(killed).Round(time.Millisecond), out.done.Sub(killed).Round(time.Millisecond), out.duplicates)
}

// TestCrashRecoveryOrdered kills a worker process that carries the
// deliveries of ordering keys from one to the next: another takes over
// what the dead one carried, and every key's deliveries still reach each
// webhook in push order, a delivery in flight at the kill sent again
// before the next of its key.
func TestCrashRecoveryOrdered(t *testing.T) {
	t.Parallel()

	const keys = 8
	r := newKeyedCrashRun(t, 80, keys)
	child := r.startChild(t, false)
	r.waitArrived(t, r.total/4)
	killed := kill(t, child)
	inFlight := r.inFlightAt(t, killed)
	r.b.start(t)
	out := r.waitAllDelivered(t, killed, inFlight, 2*time.Minute)
	if resumed := out.resumed.Sub(killed); resumed > resumeWithin {
		t.Errorf("deliveries resumed %s after the kill, want within %s", resumed.Round(time.Second), resumeWithin)
	}
	last := map[string]int{} // webhook and key: the last n to arrive
	for _, req := range r.rcv.received() {
		var p orderedPayload
		if err := json.Unmarshal(req.Body, &p); err != nil {
			t.Fatal(err)
		}
		chain := req.WebhookID + "/" + p.Key
		if n, seen := last[chain]; seen && p.N < n {
			t.Errorf("webhook %s, key %s: event %d arrived after event %d", req.WebhookID, p.Key, p.N, n)
		}
		last[chain] = p.N
	}
	if len(last) != crashWebhooks*keys {
		t.Fatalf("%d chains seen, want %d", len(last), crashWebhooks*keys)
	}
	t.Logf("killed with %d of %d in flight: resumed after %s, all delivered %s after the kill, %d arrived twice, in order",
		len(inFlight), r.total, out.resumed.Sub(killed).Round(time.Millisecond), out.done.Sub(killed).Round(time.Millisecond), out.duplicates)
}

// TestSlowWorkerKeepsItsJobs: a live process whose attempts take longer
// than a dead one's heartbeat would be stale (its receiver holds every
// request 15 s), or which is paused (SIGSTOP) for less than that, keeps its
// jobs: another process running beside it never takes them, and no
// delivery is sent twice.
func TestSlowWorkerKeepsItsJobs(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n <= 2 {
			time.Sleep(15 * time.Second)
		}
		w.WriteHeader(http.StatusOK)
	})
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Timeout: 30 * time.Second})
	r := &crashRun{b: b, rcv: rcv, total: 6}
	slow := r.startChild(t, false)
	if _, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{
		{Name: "order.created", Payload: []byte(`{"n": 1}`)}, {Name: "order.created", Payload: []byte(`{"n": 2}`)},
	}); err != nil {
		t.Fatal(err)
	}
	r.waitArrived(t, 2) // both held by the receiver
	b.start(t)          // a live process beside it, that would take its jobs
	// Paused for less than the heartbeat's limit, the process is slow,
	// not dead.
	if err := slow.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if err := slow.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{
		{Name: "order.created", Payload: []byte(`{"n": 3}`)}, {Name: "order.created", Payload: []byte(`{"n": 4}`)},
		{Name: "order.created", Payload: []byte(`{"n": 5}`)}, {Name: "order.created", Payload: []byte(`{"n": 6}`)},
	}); err != nil {
		t.Fatal(err)
	}
	out := r.waitAllDelivered(t, time.Now(), nil, time.Minute)
	if out.duplicates != 0 {
		t.Fatalf("%d deliveries sent twice: a slow or briefly paused process's jobs were taken from it", out.duplicates)
	}
}

func countStatus(t *testing.T, b *testBundle, status delivery.Status) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()+
		" WHERE status = $1", string(status)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
