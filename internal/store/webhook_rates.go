package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// WebhookRateReserve reserves n requests to webhook webhookID at perSecond
// requests a second, for every engine on the database together (the generic
// cell rate algorithm: the webhook's row holds when its next request may
// go). It reserves only when the first would go within horizon: then it
// returns that time and true, the others following 1/perSecond apart.
// Otherwise it reserves nothing and returns when the next request may go,
// and false. A webhook idle for a while may send at once, but never
// reserves the past, so an idle spell saves no burst.
func WebhookRateReserve(ctx context.Context, db dbutil.DB, webhookID string, perSecond, n int, horizon time.Duration) (time.Time, bool, error) {
	span := time.Duration(n) * (time.Second / time.Duration(perSecond))
	var first time.Time
	err := db.QueryRow(ctx, `
INSERT INTO /*schema*/sparrow_webhook_rate AS r (webhook_id, next_at) VALUES ($1, clock_timestamp() + $2::interval)
ON CONFLICT (webhook_id) DO UPDATE SET next_at = greatest(r.next_at, clock_timestamp()) + $2::interval
    WHERE r.next_at <= clock_timestamp() + $3::interval
RETURNING next_at - $2::interval`, webhookID, span, horizon).Scan(&first)
	if err == nil {
		return first, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, dbutil.Interpret("reserve rate", err)
	}
	err = db.QueryRow(ctx, `SELECT next_at FROM /*schema*/sparrow_webhook_rate WHERE webhook_id = $1`, webhookID).Scan(&first)
	return first, false, dbutil.Interpret("reserve rate", err)
}
