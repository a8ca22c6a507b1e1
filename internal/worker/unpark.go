package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// unparkBatch bounds the deliveries released per transaction, so resuming a
// webhook with a large backlog never holds long locks.
const unparkBatch = 1000

// unparkWorker gives each waiting delivery of a resumed webhook a job, in
// batches, until none waits or the webhook stops being active again.
type unparkWorker struct {
	river.WorkerDefaults[riverworkers.UnparkArgs]
	db    database
	queue string
	now   func() time.Time
}

func (w *unparkWorker) Work(ctx context.Context, job *river.Job[riverworkers.UnparkArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	for {
		var released int
		err := w.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
			active, err := store.WebhookIsActive(ctx, db, job.Args.WebhookID)
			if err != nil || !active {
				return err
			}
			unparked, err := store.DeliveryUnpark(ctx, db, job.Args.WebhookID, unparkBatch, w.now())
			if err != nil || len(unparked) == 0 {
				return err
			}
			released = len(unparked)
			if _, err := client.InsertManyFastTx(ctx, tx, DeliverJobs(telemetry.FromJob(ctx, job.Metadata), w.queue, unparked, time.Time{})); err != nil {
				return fmt.Errorf("insert delivery jobs: %w", err)
			}
			return nil
		})
		if err != nil || released < unparkBatch {
			return err
		}
	}
}
