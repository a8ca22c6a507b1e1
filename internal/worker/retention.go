package worker

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/config"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// RetentionInterval is how often the retention job runs.
const RetentionInterval = time.Hour

// RetentionBatch bounds the rows one retention statement deletes, so that
// no statement holds its locks for long.
const RetentionBatch = 1000

// retentionWorker deletes finished deliveries with their attempts, events
// left without deliveries, webhooks deleted long ago, ordering keys unused
// since, ended recoveries, and old health history, oldest first, batch by
// batch.
type retentionWorker struct {
	river.WorkerDefaults[riverworkers.RetentionArgs]
	db        database
	retention config.Retention
	// healthWindow is the window health is rated over: health history
	// younger than it stays.
	healthWindow time.Duration
	now          func() time.Time
	logger       *slog.Logger
}

// Timeout leaves room for a first run over a large history; a run cut short
// has still committed every batch it finished.
func (w *retentionWorker) Timeout(*river.Job[riverworkers.RetentionArgs]) time.Duration {
	return 30 * time.Minute
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[riverworkers.RetentionArgs]) error {
	now := w.now()
	overridden := slices.Sorted(maps.Keys(w.retention.Namespaces))
	var deleted retentionCounts
	for _, ns := range overridden {
		if keep := w.retention.Namespaces[ns]; keep > 0 {
			if err := w.pruneNamespaces(ctx, dbutil.Namespaces{Only: ns}, now.Add(-keep), &deleted); err != nil {
				return err
			}
		}
	}
	if keep := w.retention.Default; keep > 0 {
		if err := w.pruneNamespaces(ctx, dbutil.Namespaces{Except: overridden}, now.Add(-keep), &deleted); err != nil {
			return err
		}
		// Health history has no namespace of its own: it follows the default,
		// and never goes before the window health is rated over.
		n, err := pruneBatches(ctx, func(ctx context.Context) (int64, error) {
			return store.HealthPrune(ctx, w.db.db(), now.Add(-max(keep, w.healthWindow)), RetentionBatch)
		})
		deleted.health += n
		if err != nil {
			return err
		}
	}
	if deleted != (retentionCounts{}) {
		w.logger.InfoContext(ctx, "sparrow: deleted history past its retention",
			slog.Int64("deliveries", deleted.deliveries), slog.Int64("events", deleted.events),
			slog.Int64("webhooks", deleted.webhooks), slog.Int64("health_rows", deleted.health),
			slog.Int64("ordering_keys", deleted.orderingKeys), slog.Int64("recoveries", deleted.recoveries))
	}
	return nil
}

type retentionCounts struct {
	deliveries, events, webhooks, health, orderingKeys, recoveries int64
}

// pruneNamespaces deletes the history of ns finished before cutoff.
// Deliveries go first: events and webhooks go only once no delivery needs
// them.
func (w *retentionWorker) pruneNamespaces(ctx context.Context, ns dbutil.Namespaces, cutoff time.Time, deleted *retentionCounts) error {
	db := w.db.db()
	for _, step := range []struct {
		prune func(context.Context, dbutil.DB, dbutil.Namespaces, time.Time, int) (int64, error)
		count *int64
	}{
		{store.DeliveryPrune, &deleted.deliveries},
		{store.EventPrune, &deleted.events},
		{store.WebhookPrune, &deleted.webhooks},
		{store.OrderingPrune, &deleted.orderingKeys},
		{store.RecoveryPrune, &deleted.recoveries},
	} {
		n, err := pruneBatches(ctx, func(ctx context.Context) (int64, error) { return step.prune(ctx, db, ns, cutoff, RetentionBatch) })
		*step.count += n
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneBatches runs prune, one statement and transaction per batch, until a
// batch comes back short.
func pruneBatches(ctx context.Context, prune func(context.Context) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := prune(ctx)
		total += n
		if err != nil || n < RetentionBatch {
			return total, err
		}
	}
}
