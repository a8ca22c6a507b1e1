package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/webhook"
)

// RecoverBatchDefault is the events one batch of a recovery considers: one
// job, one transaction with their deliveries and the recovery's progress.
const RecoverBatchDefault = 500

// recoverWait is how long a batch that found only events not yet fanned out
// waits before looking again.
const recoverWait = time.Second

// recoverRound makes fanOuter.deliveries address the subscriptions as they
// are now, as a repush does, whenever they were created.
const recoverRound = 1

// RecoverJob returns the job performing batch `batch` of recovery id,
// carrying ctx's trace context so that the batches and their deliveries
// join it.
func RecoverJob(ctx context.Context, queue, id string, batch, batchSize int) river.InsertManyParams {
	return river.InsertManyParams{
		Args:       riverworkers.RecoverArgs{RecoveryID: id, Batch: batch, BatchSize: batchSize},
		InsertOpts: &river.InsertOpts{Queue: queue, Metadata: telemetry.JobMetadata(ctx)},
	}
}

// recoverWorker performs a recovery batch by batch, a job each: it takes
// the next events of the recovery's range and types after its cursor,
// oldest first, and gives the webhook a new delivery of each it missed (no
// delivery of it that succeeded or is under way), through its subscriptions
// as they are now. The deliveries, their jobs, the cursor, the progress and
// the next batch's job are one transaction: a crash loses or repeats no
// batch, and a job River runs twice finds its batch done.
type recoverWorker struct {
	river.WorkerDefaults[riverworkers.RecoverArgs]
	db       database
	fanOuter *fanOuter
	// turns are fan-out's (see maxFanouts): a recovery's batches are
	// fan-outs too, and take their share of the cores with the others.
	turns   *semaphore.Weighted
	now     func() time.Time
	logger  *slog.Logger
	tracer  trace.Tracer
	clients *clients
}

func (w *recoverWorker) Work(ctx context.Context, job *river.Job[riverworkers.RecoverArgs]) (err error) {
	client, err := w.clients.fromJob(ctx)
	if err != nil {
		return err
	}
	ctx, span := w.tracer.Start(telemetry.FromJob(ctx, job.Metadata), "sparrow.recover", trace.WithSpanKind(trace.SpanKindConsumer))
	defer func() { endSpan(span, err) }()
	release, err := fanoutTurn(ctx, w.turns, fanoutWait)
	if err != nil {
		return err
	}
	defer release()
	now := w.now()
	var b *recoverBatch
	err = w.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
		r, err := store.RecoveryLock(ctx, db, job.Args.RecoveryID)
		if err != nil || r == nil || r.Batches != job.Args.Batch {
			// Ended (cancelled, say), or this batch is done: River ran the
			// job again after it committed.
			return err
		}
		if b, err = w.batch(ctx, tx, client, r, job.Args.BatchSize, now); err != nil {
			return err
		}
		if b.progress.Status != webhook.RecoveryRunning {
			return nil
		}
		next := RecoverJob(ctx, w.fanOuter.queue, r.ID, job.Args.Batch+1, job.Args.BatchSize)
		if _, err := client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{next}); err != nil {
			return fmt.Errorf("insert next recovery job: %w", err)
		}
		return nil
	})
	if err != nil || b == nil {
		return err
	}
	w.fanOuter.fannedOut(ctx, span, b.created)
	w.report(ctx, job.Args, b)
	return nil
}

// recoverBatch is what one batch did.
type recoverBatch struct {
	recovery *store.RecoveryWork
	progress store.RecoveryProgress
	created  []*delivery.Delivery
}

// batch performs the next batch of r in tx and records its progress. It
// stops at the first event not yet fanned out: its deliveries may be on
// their way, and whether the webhook received it is not known until they
// are seen. A batch that would start there snoozes, committing nothing.
func (w *recoverWorker) batch(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], r *store.RecoveryWork, size int, now time.Time) (*recoverBatch, error) {
	db := w.db.schema.On(tx)
	b := &recoverBatch{recovery: r, progress: store.RecoveryProgress{Status: webhook.RecoveryRunning}}
	if _, err := store.WebhookGet(ctx, db, r.Namespace, r.WebhookID, false); errors.Is(err, errs.ErrNotFound) {
		b.progress.Status, b.progress.Error = webhook.RecoveryFailed, "the webhook was deleted"
		return b, store.RecoveryAdvance(ctx, db, r.ID, b.progress, now)
	} else if err != nil {
		return nil, err
	}
	until := cmp.Or(r.Until, r.CreatedAt)
	if !r.Counted {
		total, err := store.RecoveryCount(ctx, db, r.Namespace, r.EventNames, r.Since, until)
		if err != nil {
			return nil, err
		}
		b.progress.Total = &total
	}
	size = cmp.Or(size, RecoverBatchDefault)
	evs, err := store.RecoveryEvents(ctx, db, store.RecoveryEventsParams{
		Namespace: r.Namespace, WebhookID: r.WebhookID, Names: r.EventNames,
		From: cmp.Or(r.CursorAt, r.Since), AfterID: r.CursorID, Until: until, Limit: size, Now: now,
	})
	if err != nil {
		return nil, err
	}
	considered := evs
	for i, re := range evs {
		if !re.FannedOut {
			considered = evs[:i]
			break
		}
	}
	if len(evs) > 0 && len(considered) == 0 {
		return nil, river.JobSnooze(recoverWait)
	}
	var missed []*event.Event
	for _, re := range considered {
		if re.Missed {
			missed = append(missed, re.Event)
		}
	}
	if b.created, err = w.resend(ctx, tx, client, r, missed, now); err != nil {
		return nil, err
	}
	b.progress.Done = int64(len(considered))
	for _, d := range b.created {
		if !d.Status.Final() { // not ended at birth by a failing template
			b.progress.Resent++
		}
	}
	if len(considered) > 0 {
		last := considered[len(considered)-1].Event
		b.progress.CursorAt, b.progress.CursorID = last.CreatedAt, last.ID
	}
	if len(evs) < size && len(considered) == len(evs) {
		b.progress.Status = webhook.RecoverySucceeded
	}
	return b, store.RecoveryAdvance(ctx, db, r.ID, b.progress, now)
}

// resend creates in tx the deliveries of events to r's webhook, through its
// active subscriptions now and their filters and templates, as a repush
// does, and the jobs of those to be sent.
func (w *recoverWorker) resend(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], r *store.RecoveryWork, events []*event.Event, now time.Time) ([]*delivery.Delivery, error) {
	if len(events) == 0 {
		return nil, nil
	}
	db := w.db.schema.On(tx)
	namespaces := make([]string, len(r.EventNames))
	for i := range namespaces {
		namespaces[i] = r.Namespace
	}
	subscribers, err := store.SubscriptionListSubscribers(ctx, db, namespaces, r.EventNames)
	if err != nil {
		return nil, err
	}
	var targets []store.Subscriber
	for _, t := range subscribers {
		if t.WebhookID == r.WebhookID {
			targets = append(targets, t)
		}
	}
	deliveries := w.fanOuter.deliveries(events, targets, recoverRound, now)
	if err := w.fanOuter.insert(ctx, tx, db, client, deliveries, now); err != nil {
		return nil, err
	}
	return deliveries, nil
}

// report logs a batch, and the end of a recovery.
func (w *recoverWorker) report(ctx context.Context, args riverworkers.RecoverArgs, b *recoverBatch) {
	r, p := b.recovery, b.progress
	w.logger.DebugContext(ctx, "sparrow: recovery batch", slog.String("recovery_id", r.ID), slog.Int("batch", args.Batch),
		slog.Int64("considered", p.Done), slog.Int64("resent", p.Resent))
	if p.Status == webhook.RecoveryRunning {
		return
	}
	w.logger.InfoContext(ctx, "sparrow: recovery "+string(p.Status), slog.String("recovery_id", r.ID),
		slog.String("webhook_id", r.WebhookID), slog.Int64("considered", r.Done+p.Done), slog.Int64("resent", r.Resent+p.Resent),
		slog.String("error", p.Error))
}
