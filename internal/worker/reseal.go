package worker

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// resealWorker re-seals webhook secrets in the clear or under an older key
// with the engine's current key, after keys were added or rotated.
type resealWorker struct {
	river.WorkerDefaults[riverworkers.ResealArgs]
	db     database
	keys   *secretbox.Keyring
	logger *slog.Logger
}

// ResealBatch bounds the secrets one reseal transaction seals.
const ResealBatch = 500

func (w *resealWorker) Work(ctx context.Context, _ *river.Job[riverworkers.ResealArgs]) error {
	if w.keys == nil {
		return nil
	}
	n, err := store.WebhookSecretResealAll(ctx, w.db.pool, w.db.schema, w.keys, ResealBatch)
	if n > 0 {
		w.logger.InfoContext(ctx, "sparrow: re-sealed webhook secrets", slog.Int("secrets", n), slog.String("key_id", w.keys.Current()))
	}
	return err
}
