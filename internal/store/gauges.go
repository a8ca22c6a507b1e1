package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/webhook"
)

// Gauges are the engine's figures that only the database knows.
type Gauges struct {
	// PendingDeliveries counts deliveries not finished yet, waiting ones
	// included.
	PendingDeliveries int64
	// QueueLag is how long the oldest job due in queue, or event waiting
	// for fan-out, has waited.
	QueueLag time.Duration
	// WebhooksByState counts live webhooks per health state, paused ones
	// as health.StatePaused, as GetWebhookHealth reports them.
	WebhooksByState map[string]int64
}

// GaugesRead reads the gauges, with queue Sparrow's River queue.
func GaugesRead(ctx context.Context, db dbutil.DB, queue string) (*Gauges, error) {
	g := &Gauges{WebhooksByState: map[string]int64{}}
	var lagSeconds float64
	if err := db.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM /*schema*/sparrow_delivery WHERE status IN ('pending', 'retrying')),
    coalesce(extract(epoch FROM now() - least(
        (SELECT min(scheduled_at) FROM /*schema*/river_job WHERE queue = $1 AND state = 'available'),
        (SELECT queued_at FROM /*schema*/sparrow_fanout_queue ORDER BY event_id LIMIT 1))), 0)::float8`, queue).
		Scan(&g.PendingDeliveries, &lagSeconds); err != nil {
		return nil, dbutil.Interpret("read gauges", err)
	}
	g.QueueLag = time.Duration(max(lagSeconds, 0) * float64(time.Second))
	rows, err := db.Query(ctx, `SELECT CASE WHEN w.state = $1 THEN $2 ELSE coalesce(h.state, $3) END, count(*)
FROM /*schema*/sparrow_webhook w LEFT JOIN /*schema*/sparrow_webhook_health h ON h.webhook_id = w.id
WHERE w.deleted_at IS NULL GROUP BY 1`, webhook.StatePaused, health.StatePaused, health.StateUnknown)
	if err != nil {
		return nil, dbutil.Interpret("read gauges", err)
	}
	var state string
	var count int64
	_, err = pgx.ForEachRow(rows, []any{&state, &count}, func() error {
		g.WebhooksByState[state] = count
		return nil
	})
	return g, dbutil.Interpret("read gauges", err)
}
