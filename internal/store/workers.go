package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// Worker is a process working Sparrow's queue, as its heartbeat row has it.
type Worker struct {
	ClientID  string
	Queue     string
	Hostname  string
	PID       int
	StartedAt time.Time
}

// WorkerHeartbeat records that w is alive now (the database's now, which
// every process shares), creating its row on the first beat.
func WorkerHeartbeat(ctx context.Context, db dbutil.DB, w *Worker) error {
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_worker (client_id, queue, hostname, pid, started_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (client_id) DO UPDATE SET heartbeat_at = now()`, w.ClientID, w.Queue, w.Hostname, w.PID, w.StartedAt)
	return dbutil.Interpret("worker heartbeat", err)
}

// WorkerDelete removes the row of a worker that stopped.
func WorkerDelete(ctx context.Context, db dbutil.DB, clientID string) error {
	_, err := db.Exec(ctx, `DELETE FROM /*schema*/sparrow_worker WHERE client_id = $1`, clientID)
	return dbutil.Interpret("delete worker", err)
}

// Backlog is what waits for Sparrow's workers, and how many are alive.
type Backlog struct {
	// QueuedEvents counts pushed events waiting for fan-out.
	QueuedEvents int64
	// DueJobs counts Sparrow's River jobs due now and not yet running;
	// RunningJobs those running.
	DueJobs, RunningJobs int64
	// OldestQueued is when the event or job that has waited longest became
	// due; zero when nothing waits.
	OldestQueued time.Time
	// WorkersAlive counts the processes working queue whose heartbeat is
	// younger than aliveWithin.
	WorkersAlive int64
}

// BacklogRead reads the backlog of Sparrow's River queue `queue`.
func BacklogRead(ctx context.Context, db dbutil.DB, queue string, aliveWithin time.Duration) (*Backlog, error) {
	var b Backlog
	var oldest *time.Time
	err := db.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM /*schema*/sparrow_fanout_queue),
    (SELECT count(*) FILTER (WHERE state = 'available') FROM /*schema*/river_job WHERE queue = $1 AND state IN ('available', 'running')),
    (SELECT count(*) FILTER (WHERE state = 'running') FROM /*schema*/river_job WHERE queue = $1 AND state IN ('available', 'running')),
    least(
        (SELECT min(scheduled_at) FROM /*schema*/river_job WHERE queue = $1 AND state = 'available'),
        (SELECT queued_at FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT 1)),
    (SELECT count(*) FROM /*schema*/sparrow_worker WHERE queue = $1 AND heartbeat_at > now() - $2::interval)`,
		queue, aliveWithin).Scan(&b.QueuedEvents, &b.DueJobs, &b.RunningJobs, &oldest, &b.WorkersAlive)
	b.OldestQueued = deref(oldest)
	return &b, dbutil.Interpret("read backlog", err)
}

// Rescued is a worker found dead and how many of its running jobs were
// handed back.
type Rescued struct {
	ClientID string
	Jobs     int
}

// WorkerRescueDead hands back, due at once, the running jobs of queue whose
// River client (the last of their attempted_by) stopped beating more than
// aliveWithin ago, or never beat though the job started that long ago, and
// forgets those clients. River's own rescue waits for a job's timeout to
// pass; this takes the heartbeat's few seconds.
func WorkerRescueDead(ctx context.Context, db dbutil.DB, queue string, aliveWithin time.Duration) ([]Rescued, error) {
	rows, err := db.Query(ctx, `
WITH dead AS (
    DELETE FROM /*schema*/sparrow_worker
    WHERE queue = $1 AND heartbeat_at < now() - $2::interval
    RETURNING client_id
), rescued AS (
    UPDATE /*schema*/river_job j SET state = 'available', scheduled_at = now()
    WHERE j.state = 'running' AND j.queue = $1
      AND (j.attempted_by[array_length(j.attempted_by, 1)] IN (SELECT client_id FROM dead)
        OR (j.attempted_at < now() - $2::interval AND NOT EXISTS (
            SELECT FROM /*schema*/sparrow_worker w WHERE w.client_id = j.attempted_by[array_length(j.attempted_by, 1)])))
    RETURNING j.attempted_by[array_length(j.attempted_by, 1)] AS client_id
)
SELECT client_id, count(*) FROM rescued GROUP BY client_id ORDER BY client_id`, queue, aliveWithin)
	if err != nil {
		return nil, dbutil.Interpret("rescue jobs", err)
	}
	rescued, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Rescued])
	return rescued, dbutil.Interpret("rescue jobs", err)
}
