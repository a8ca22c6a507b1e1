package sparrow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/puddle/v2"

	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
)

// ErrNoWorkers is returned by Ready when work has waited longer than the
// stall threshold (WithStallThreshold) and no process runs Sparrow's
// workers: pushed events will not be delivered until one does.
var ErrNoWorkers = errors.New("sparrow: events are waiting and no process runs Sparrow's workers")

// Backlog is what waits for Sparrow's workers, across every process on the
// database.
type Backlog struct {
	// QueuedEvents counts pushed events waiting for fan-out.
	QueuedEvents int64
	// DueJobs counts Sparrow's River jobs (batch fan-outs, deliveries) due
	// now and not yet running; RunningJobs those running.
	DueJobs     int64
	RunningJobs int64
	// OldestWait is how long the event or job that has waited longest has
	// waited; zero when nothing waits.
	OldestWait time.Duration
	// WorkersAlive counts the processes running Sparrow's workers (a River
	// client with Install's configuration, or Start's) whose heartbeat is
	// recent.
	WorkersAlive int64
}

// Idle reports whether nothing waits or runs: every event pushed so far is
// fanned out and every delivery due so far attempted.
func (b *Backlog) Idle() bool { return b.QueuedEvents == 0 && b.DueJobs == 0 && b.RunningJobs == 0 }

// Backlog reads what waits for Sparrow's workers.
func (e *Engine) Backlog(ctx context.Context) (*Backlog, error) {
	b, err := store.BacklogRead(ctx, e.db(nil), e.config.Queue, worker.AliveWithin)
	if err != nil {
		return nil, fmt.Errorf("sparrow: backlog: %w", err)
	}
	out := &Backlog{QueuedEvents: b.QueuedEvents, DueJobs: b.DueJobs, RunningJobs: b.RunningJobs, WorkersAlive: b.WorkersAlive}
	if !b.OldestQueued.IsZero() {
		out.OldestWait = max(e.now().Sub(b.OldestQueued), 0)
	}
	return out, nil
}

// stalled returns ErrNoWorkers, explained, when b has waited past the stall
// threshold with no worker alive.
func (e *Engine) stalled(b *Backlog) error {
	if b.WorkersAlive > 0 || b.OldestWait < e.config.StallThreshold {
		return nil
	}
	return fmt.Errorf("%w: %d events wait for fan-out and %d jobs are due, the oldest for %s; start a River client configured by Engine.Install, or call Engine.Start",
		ErrNoWorkers, b.QueuedEvents, b.DueJobs, b.OldestWait.Round(time.Second))
}

// Ready reports whether the engine can do its work: its database answers,
// the River client Start runs (if any) is running, and work is not stalled
// for want of workers (ErrNoWorkers). Readiness probes call it.
func (e *Engine) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := e.pool.Ping(ctx); err != nil {
		return fmt.Errorf("sparrow: database: %w", err)
	}
	if client := e.RiverClient(); client != nil {
		select {
		case <-client.Stopped():
			return errors.New("sparrow: workers stopped")
		default:
		}
	}
	b, err := e.Backlog(ctx)
	if err != nil {
		return err
	}
	return e.stalled(b)
}

// stallWatch checks, a stall threshold after work was scheduled, that some
// process took it, and warns when none runs Sparrow's workers: a host that
// pushes but never started its River client (or never gave it Install's
// configuration) would otherwise deliver nothing and hear nothing. It
// costs nothing while no work is scheduled: one timer at a time, armed by
// the work and kept only while work waits.
type stallWatch struct {
	mu    sync.Mutex
	armed bool
}

// watch arms the check unless it is armed.
func (e *Engine) watchForStall() {
	e.stall.mu.Lock()
	defer e.stall.mu.Unlock()
	if !e.stall.armed {
		e.stall.armed = true
		time.AfterFunc(e.config.StallThreshold, e.checkStall)
	}
}

// checkStall warns when work is stalled, and checks again later while any
// waits.
func (e *Engine) checkStall() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := e.Backlog(ctx)
	e.stall.mu.Lock()
	e.stall.armed = false
	e.stall.mu.Unlock()
	switch {
	case errors.Is(err, puddle.ErrClosedPool):
		return // the host closed the pool: the engine is done
	case err != nil:
		// The next scheduled work arms the check again.
		e.config.Logger.Warn("sparrow: checking for workers", slog.Any("error", err))
		return
	case b.Idle():
		return
	default:
		if err := e.stalled(b); err != nil {
			e.config.Logger.Warn(err.Error(), slog.Int64("queued_events", b.QueuedEvents), slog.Int64("due_jobs", b.DueJobs),
				slog.Duration("oldest_wait", b.OldestWait))
		}
	}
	e.watchForStall()
}
