package worker

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// resealWorker re-seals webhook secrets and custom headers in the clear or
// under an older key with the engine's current key, after keys were added
// or rotated.
type resealWorker struct {
	river.WorkerDefaults[riverworkers.ResealArgs]
	db     database
	keys   *secretbox.Keyring
	logger *slog.Logger
}

// ResealBatch bounds the rows one reseal transaction seals.
const ResealBatch = 500

func (w *resealWorker) Work(ctx context.Context, _ *river.Job[riverworkers.ResealArgs]) error {
	if w.keys == nil {
		return nil
	}
	secrets, headers, err := Reseal(ctx, w.db.pool, w.db.schema, w.keys)
	if secrets+headers > 0 {
		w.logger.InfoContext(ctx, "sparrow: re-sealed webhook secrets", slog.Int("secrets", secrets),
			slog.Int("webhook_headers", headers), slog.String("key_id", w.keys.Current()))
	}
	return err
}

// Reseal seals with keys' current key every webhook secret, and every
// webhook's custom headers, stored in the clear or under an older key, and
// returns how many secrets and how many webhooks' headers it sealed. The
// headers are sealed even if a secret fails to open: neither should keep
// the other in the clear.
func Reseal(ctx context.Context, pool *pgxpool.Pool, schema dbutil.Schema, keys *secretbox.Keyring) (secrets, headers int, err error) {
	secrets, secretsErr := store.WebhookSecretResealAll(ctx, pool, schema, keys, ResealBatch)
	headers, headersErr := store.WebhookHeadersResealAll(ctx, pool, schema, keys, ResealBatch)
	return secrets, headers, errors.Join(secretsErr, headersErr)
}
