package riverworkers

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/store"
)

// resealWorker re-seals webhook secrets in the clear or under an older key
// with the engine's current key, after keys were added or rotated.
type resealWorker struct {
	river.WorkerDefaults[ResealArgs]
	*base
}

func (w *resealWorker) Work(ctx context.Context, _ *river.Job[ResealArgs]) error {
	if w.secretKeys == nil {
		return nil
	}
	n, err := store.WebhookSecretResealAll(ctx, w.pool, w.schema, w.secretKeys, ResealBatch)
	if n > 0 {
		w.logger.InfoContext(ctx, "sparrow: re-sealed webhook secrets", slog.Int("secrets", n), slog.String("key_id", w.secretKeys.Current()))
	}
	return err
}
