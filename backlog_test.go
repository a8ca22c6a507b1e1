package sparrow_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// warnings records the warnings an engine logs.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) stalled() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if strings.Contains(m, "no process runs Sparrow's workers") {
			n++
		}
	}
	return n
}

const testStallThreshold = 500 * time.Millisecond

// TestStallWarning: a host that pushes but never starts a River client
// with Sparrow's workers hears of it: a warning naming the likely cause
// within a few thresholds, Ready's ErrNoWorkers, and the backlog.
func TestStallWarning(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	logged := &warnings{}
	b := setup(t, sparrow.WithLogger(slog.New(logged)), sparrow.WithStallThreshold(testStallThreshold))
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: newReceiver(t, nil).URL, Events: []string{"order.created"}})
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := b.eng.Ready(ctx); err != nil {
		t.Fatalf("Ready before the threshold: %v", err)
	}
	deadline := time.Now().Add(20 * testStallThreshold)
	for logged.stalled() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no warning %s after the push", 20*testStallThreshold)
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := b.eng.Ready(ctx)
	if !errors.Is(err, sparrow.ErrNoWorkers) || !strings.Contains(err.Error(), "Engine.Install") {
		t.Fatalf("Ready = %v, want ErrNoWorkers saying what to do", err)
	}
	backlog, err := b.eng.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if backlog.QueuedEvents != 1 || backlog.DueJobs != 1 || backlog.WorkersAlive != 0 || backlog.OldestWait < testStallThreshold || backlog.Idle() {
		t.Fatalf("backlog %+v, want the single push queued, the batch's fan-out job due, no worker, waiting past the threshold", backlog)
	}

	// Once a worker runs, the work goes and so does the stall.
	b.start(t)
	deadline = time.Now().Add(20 * time.Second)
	for {
		backlog, err := b.eng.Backlog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if backlog.QueuedEvents == 0 && backlog.WorkersAlive == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %+v after the start, want the queue taken and one worker alive", backlog)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.eng.Ready(ctx); err != nil {
		t.Fatalf("Ready with a worker: %v", err)
	}
}

// TestNoStallWarningWithWorkers: an engine that only pushes, while another
// process on the database runs the workers, never warns; nor does one
// whose own client runs them.
func TestNoStallWarningWithWorkers(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	logged := &warnings{}
	worker, rcv := subscribedBundle(t)
	worker.start(t)
	pusher, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(worker.schema), sparrow.WithLogger(slog.New(logged)),
		sparrow.WithStallThreshold(testStallThreshold))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := pusher.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		rcv.waitRequests(t, i+1)
	}
	time.Sleep(4 * testStallThreshold)
	if n := logged.stalled(); n != 0 {
		t.Fatalf("%d stall warnings with a worker alive", n)
	}
	if err := pusher.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	// River marks finished jobs completed in batches, so a busy machine
	// can show the last deliveries running for a moment after they ended.
	deadline := time.Now().Add(10 * time.Second)
	for {
		backlog, err := pusher.Backlog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if backlog.WorkersAlive == 1 && backlog.Idle() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %+v, want one worker alive and nothing waiting", backlog)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
