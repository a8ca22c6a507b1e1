package sparrow_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// Environment of the child process TestCrashRecovery kills.
const (
	crashChildSchema = "SPARROW_CRASH_CHILD_SCHEMA"
	crashChildURL    = "SPARROW_CRASH_CHILD_DATABASE_URL"
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
	eng, err := sparrow.New(pool, sparrow.WithSchema(schema), sparrow.WithAllowPrivateNetworks(), sparrow.WithMaxWorkers(10),
		// Ten attempts at a time: the kill lands with some deliveries
		// recorded and some not.
		sparrow.WithMaxConcurrentPerWebhook(10), sparrow.WithLogger(logger))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := eng.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

// TestCrashRecovery kills a process in the middle of delivering (SIGKILL:
// no shutdown, jobs left running) and starts another: every delivery must
// arrive, and a delivery may arrive twice only if its attempt was under way
// when the process died (received, but not recorded as succeeded).
func TestCrashRecovery(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const events = 200
	b := setup(t)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildSchema+"="+b.schema, crashChildURL+"="+pgtest.URL(t))
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < 40; {
		if time.Now().After(deadline) {
			t.Fatalf("the child recorded %d deliveries in 20s", countStatus(t, b, delivery.StatusSucceeded))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	receivedBeforeKill := map[string]bool{}
	for _, req := range rcv.received() {
		receivedBeforeKill[req.Header.Get("Webhook-Id")] = true
	}
	succeededAtKill := map[string]bool{}
	rows, err := b.pool.Query(ctx, "SELECT id FROM "+pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()+" WHERE status = 'succeeded'")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		succeededAtKill[id] = true
	}
	if len(succeededAtKill) == 0 || len(succeededAtKill) >= events {
		t.Fatalf("%d deliveries succeeded before the kill: the kill did not land mid-run", len(succeededAtKill))
	}

	// The dead process's jobs stay running until River's rescuer retries
	// them, once they have run longer than their worker's timeout (90s for a
	// delivery). Do what the rescuer does, now, rather than wait.
	if _, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
		" SET state = 'available', scheduled_at = now() WHERE state = 'running'"); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if countStatus(t, b, delivery.StatusSucceeded) == events {
			break
		}
		if time.Now().After(deadline) {
			rows, _ := b.pool.Query(ctx, fmt.Sprintf(`SELECT d.id, d.status, d.attempt_count, d.parked, coalesce(j.state::text, 'none'), coalesce(j.attempt, -1), coalesce(j.errors::text, ''), j.scheduled_at
FROM %[1]s.sparrow_delivery d LEFT JOIN %[1]s.river_job j ON j.args->'delivery_ids' ? d.id WHERE d.status <> 'succeeded'`, b.schema))
			for rows.Next() {
				vals, _ := rows.Values()
				t.Log(vals...)
			}
			t.Fatalf("%d of %d deliveries succeeded after the restart", countStatus(t, b, delivery.StatusSucceeded), events)
		}
		time.Sleep(100 * time.Millisecond)
	}

	times := map[string]int{}
	for _, req := range rcv.received() {
		times[req.Header.Get("Webhook-Id")]++
	}
	if len(times) != events {
		t.Fatalf("the receiver saw %d distinct deliveries, want %d", len(times), events)
	}
	duplicates := 0
	for id, n := range times {
		if n == 1 {
			continue
		}
		duplicates++
		if n > 2 || !receivedBeforeKill[id] || succeededAtKill[id] {
			t.Errorf("delivery %s arrived %d times without having been in flight at the kill", id, n)
		}
	}
	var maxAttempts int
	if err := b.pool.QueryRow(ctx, "SELECT max(attempt_count) FROM "+pgx.Identifier{b.schema, "sparrow_delivery"}.Sanitize()).Scan(&maxAttempts); err != nil {
		t.Fatal(err)
	}
	if maxAttempts != 1 {
		t.Fatalf("a delivery recorded %d attempts; a re-run must record the interrupted attempt once", maxAttempts)
	}
	t.Logf("%d deliveries succeeded before the kill, %d arrived twice (in flight at the kill)", len(succeededAtKill), duplicates)
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
