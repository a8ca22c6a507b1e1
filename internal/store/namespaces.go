package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// NamespaceSummary is a namespace and what it holds.
type NamespaceSummary struct {
	Namespace      string
	Webhooks       int // live ones
	PausedWebhooks int
	Subscriptions  int
	LastEventAt    time.Time // zero: no event
}

// NamespaceSummarize summarizes the namespaces named, each listed even when
// nothing uses it, or, with none named, every namespace in use (a live
// webhook, a subscription or an event), in byte order of their names.
//
// It never counts events: their namespaces are found by a loose index scan
// of sparrow_event_namespace_idx (one probe per namespace, not one row per
// event), and each one's latest event by one more probe.
func NamespaceSummarize(ctx context.Context, db dbutil.DB, only []string) ([]NamespaceSummary, error) {
	if only != nil && len(only) == 0 {
		return []NamespaceSummary{}, nil
	}
	rows, err := db.Query(ctx, namespaceSummarizeSQL, only)
	if err != nil {
		return nil, dbutil.Interpret("summarize namespaces", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (NamespaceSummary, error) {
		var s NamespaceSummary
		var lastEventAt *time.Time
		err := row.Scan(&s.Namespace, &s.Webhooks, &s.PausedWebhooks, &s.Subscriptions, &lastEventAt)
		s.LastEventAt = deref(lastEventAt)
		return s, err
	})
	return out, dbutil.Interpret("summarize namespaces", err)
}

// namespaceSummarizeSQL is NamespaceSummarize's statement, $1 the names
// asked for (NULL: every namespace in use). Events' namespaces come from a
// loose index scan: each step jumps to the first namespace after the last
// one found.
const namespaceSummarizeSQL = `
WITH RECURSIVE event_namespaces AS (
    (SELECT namespace FROM /*schema*/sparrow_event WHERE $1::text[] IS NULL ORDER BY namespace LIMIT 1)
    UNION ALL
    SELECT (SELECT e.namespace FROM /*schema*/sparrow_event e WHERE e.namespace > n.namespace ORDER BY e.namespace LIMIT 1)
    FROM event_namespaces n WHERE n.namespace IS NOT NULL
), webhooks AS (
    SELECT namespace, count(*) AS webhooks, count(*) FILTER (WHERE state = 'paused') AS paused
    FROM /*schema*/sparrow_webhook
    WHERE deleted_at IS NULL AND ($1::text[] IS NULL OR namespace = ANY($1::text[]))
    GROUP BY namespace
), subscriptions AS (
    SELECT namespace, count(*) AS subscriptions
    FROM /*schema*/sparrow_subscription
    WHERE $1::text[] IS NULL OR namespace = ANY($1::text[])
    GROUP BY namespace
), names AS (
    SELECT unnest($1::text[]) AS namespace
    UNION SELECT namespace FROM event_namespaces WHERE namespace IS NOT NULL
    UNION SELECT namespace FROM webhooks
    UNION SELECT namespace FROM subscriptions
)
SELECT n.namespace, coalesce(w.webhooks, 0), coalesce(w.paused, 0), coalesce(s.subscriptions, 0),
    (SELECT e.created_at FROM /*schema*/sparrow_event e WHERE e.namespace = n.namespace ORDER BY e.id DESC LIMIT 1)
FROM names n
LEFT JOIN webhooks w ON w.namespace = n.namespace
LEFT JOIN subscriptions s ON s.namespace = n.namespace
ORDER BY n.namespace COLLATE "C"`
