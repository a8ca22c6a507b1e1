package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/secretbox"
)

// WebhookSecret is one signing secret of a webhook, as stored: in the clear, or
// sealed when the engine has keys (sparrow.WithSecretKeys).
type WebhookSecret struct {
	secretbox.Stored
	CreatedAt time.Time
	// ExpiresAt is when a rotated-out secret stops signing; zero for the
	// current secret.
	ExpiresAt time.Time
	// PublicKey is an ed25519 secret's "whpk_" key, stored beside it so
	// that reads need not open the secret; empty for HMAC.
	PublicKey string
}

// WebhookSecretRotate makes secret the webhook's current one. The secrets it
// replaces keep signing until graceUntil; secrets already expired are
// removed.
func WebhookSecretRotate(ctx context.Context, db dbutil.DB, webhookID string, secret WebhookSecret, graceUntil time.Time) error {
	_, err := db.Exec(ctx, `
WITH expired AS (
    DELETE FROM /*schema*/sparrow_webhook_secret WHERE webhook_id = $1 AND expires_at <= $4
), retired AS (
    UPDATE /*schema*/sparrow_webhook_secret SET expires_at = $5
    WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $5)
)
INSERT INTO /*schema*/sparrow_webhook_secret (webhook_id, id, secret, key_id, sealed, created_at, public_key)
VALUES ($1, $2, $3, $6, $7, $4, $8)`,
		webhookID, secret.ID, plainOrNull(secret), secret.CreatedAt, graceUntil, nullString(secret.KeyID), secret.Sealed,
		nullString(secret.PublicKey))
	return dbutil.Interpret("rotate webhook secret", err)
}

// WebhookSecretListActive returns the secrets that sign at time now, newest first, as
// stored.
func WebhookSecretListActive(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) ([]WebhookSecret, error) {
	rows, err := db.Query(ctx, `
SELECT id, coalesce(secret, ''), coalesce(key_id, ''), sealed, created_at, expires_at FROM /*schema*/sparrow_webhook_secret
WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $2)
ORDER BY created_at DESC, id DESC`, webhookID, now)
	if err != nil {
		return nil, dbutil.Interpret("get webhook secrets", err)
	}
	secrets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WebhookSecret, error) {
		var s WebhookSecret
		var expires *time.Time
		err := row.Scan(&s.ID, &s.Plain, &s.KeyID, &s.Sealed, &s.CreatedAt, &expires)
		if expires != nil {
			s.ExpiresAt = *expires
		}
		return s, err
	})
	return secrets, dbutil.Interpret("get webhook secrets", err)
}

// WebhookSecretReseal seals up to limit secrets that are in the clear or sealed with a
// key other than ring's current one, and returns how many it did. Call it
// until it returns fewer than limit. Rows being resealed elsewhere are
// skipped, so several processes can share the work.
func WebhookSecretReseal(ctx context.Context, db dbutil.DB, ring *secretbox.Keyring, limit int) (int, error) {
	rows, err := db.Query(ctx, `
SELECT webhook_id, id, coalesce(secret, ''), coalesce(key_id, ''), sealed FROM /*schema*/sparrow_webhook_secret
WHERE key_id IS DISTINCT FROM $1
ORDER BY webhook_id, id LIMIT $2 FOR UPDATE SKIP LOCKED`, ring.Current(), limit)
	if err != nil {
		return 0, dbutil.Interpret("reseal secrets", err)
	}
	type stale struct {
		webhookID string
		secretbox.Stored
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stale, error) {
		var s stale
		err := row.Scan(&s.webhookID, &s.ID, &s.Plain, &s.KeyID, &s.Sealed)
		return s, err
	})
	if err != nil {
		return 0, dbutil.Interpret("reseal secrets", err)
	}
	for _, s := range found {
		plain, err := secretbox.Reveal(ring, s.webhookID, s.Stored)
		if err != nil {
			return 0, fmt.Errorf("reseal secret %s of %s: %w", s.ID, s.webhookID, err)
		}
		keyID, sealed := ring.Seal([]byte(plain), secretbox.AAD(s.webhookID, s.ID))
		if _, err := db.Exec(ctx, `UPDATE /*schema*/sparrow_webhook_secret SET secret = NULL, key_id = $3, sealed = $4
WHERE webhook_id = $1 AND id = $2`, s.webhookID, s.ID, keyID, sealed); err != nil {
			return 0, dbutil.Interpret("reseal secrets", err)
		}
	}
	return len(found), nil
}

// WebhookSecretResealAll runs WebhookSecretReseal in transactions of batch secrets until none is left
// to reseal, and returns how many it resealed.
func WebhookSecretResealAll(ctx context.Context, pool *pgxpool.Pool, schema dbutil.Schema, ring *secretbox.Keyring, batch int) (int, error) {
	return resealAll(ctx, pool, schema, ring, batch, WebhookSecretReseal)
}

// resealAll runs reseal in transactions of batch rows until it reseals
// fewer, and returns how many it resealed.
func resealAll(ctx context.Context, pool *pgxpool.Pool, schema dbutil.Schema, ring *secretbox.Keyring, batch int,
	reseal func(context.Context, dbutil.DB, *secretbox.Keyring, int) (int, error)) (int, error) {
	total := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			n, err = reseal(ctx, schema.On(tx), ring, batch)
			return err
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

func plainOrNull(s WebhookSecret) *string {
	if s.Sealed != nil {
		return nil
	}
	return &s.Plain
}

// SecretKeyIDsInUse returns the ids of the keys that sealed the stored
// secrets and custom headers, "" standing for those in the clear.
func SecretKeyIDsInUse(ctx context.Context, db dbutil.DB) ([]string, error) {
	rows, err := db.Query(ctx, `
SELECT coalesce(key_id, '') FROM /*schema*/sparrow_webhook_secret
UNION
SELECT headers_key_id FROM /*schema*/sparrow_webhook WHERE headers_key_id IS NOT NULL
ORDER BY 1`)
	if err != nil {
		return nil, dbutil.Interpret("secret key ids", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, dbutil.Interpret("secret key ids", err)
}
