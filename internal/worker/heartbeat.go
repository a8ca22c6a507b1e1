package worker

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/store"
)

// HeartbeatInterval is how often a process working Sparrow's queue records,
// in sparrow_worker, that its River client is alive.
const HeartbeatInterval = 3 * time.Second

// AliveWithin is how recent a worker's last heartbeat must be for it to
// count as alive: a few intervals, so that a busy database or a long pause
// of the collector is not taken for death.
const AliveWithin = 4 * HeartbeatInterval

// rescue hands back the running jobs of workers that stopped beating, so
// that what a killed process was doing resumes within seconds rather than
// after River's rescue (which must wait out the job's timeout). A worker
// that only runs slowly keeps beating and keeps its jobs.
func (c *clients) rescue(ctx context.Context) error {
	rescued, err := store.WorkerRescueDead(ctx, c.db.db(), c.queue, AliveWithin)
	for _, r := range rescued {
		c.logger.InfoContext(ctx, "sparrow: handed back the running jobs of a worker that stopped",
			slog.String("client_id", r.ClientID), slog.Int("jobs", r.Jobs))
	}
	return err
}

// heartbeat keeps client's row fresh until ctx is done, then removes it,
// and hands back the jobs of workers that died.
func (c *clients) heartbeat(ctx context.Context, client *river.Client[pgx.Tx]) {
	hostname, _ := os.Hostname()
	w := &store.Worker{ClientID: client.ID(), Queue: c.queue, Hostname: hostname, PID: os.Getpid(), StartedAt: time.Now()}
	ticker := time.NewTicker(HeartbeatInterval)
	defer ticker.Stop()
	for {
		beatCtx, cancel := context.WithTimeout(ctx, HeartbeatInterval)
		err := store.WorkerHeartbeat(beatCtx, c.db.db(), w)
		if err == nil {
			err = c.rescue(beatCtx)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			c.logger.WarnContext(ctx, "sparrow: worker heartbeat failed", slog.String("client_id", w.ClientID), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			// Stopped: others need not wait for the row to go stale.
			deleteCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := store.WorkerDelete(deleteCtx, c.db.db(), w.ClientID); err != nil {
				c.logger.WarnContext(ctx, "sparrow: removing a stopped worker's heartbeat", slog.String("client_id", w.ClientID), slog.Any("error", err))
			}
			return
		case <-ticker.C:
		}
	}
}
