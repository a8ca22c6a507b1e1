package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// HistoryResult compares the engine on empty tables with the engine on
// tables holding Rows finished deliveries (with their events and attempts).
type HistoryResult struct {
	Rows           int            `json:"rows"`
	PrefillSeconds float64        `json:"prefill_seconds"`
	Empty          HistoryFigures `json:"empty"`
	Full           HistoryFigures `json:"full"`
	// Queries are the ListDeliveries calls timed, by kind.
	Queries []ListQuery `json:"list_deliveries"`
}

// HistoryFigures are one condition's rates and listing latency.
type HistoryFigures struct {
	PushTxPerSec     float64 `json:"push_event_tx_c8_per_s"`
	DeliveriesPerSec float64 `json:"deliveries_per_s"`
	ListP99          float64 `json:"list_deliveries_p99_ms"`
}

// ListQuery is one kind of ListDeliveries call, timed in both conditions.
type ListQuery struct {
	Name  string    `json:"name"`
	Empty quantiles `json:"empty"`
	Full  quantiles `json:"full"`
}

const (
	historyWebhooks = 10
	// historyFailedEvery: one history delivery in this many failed.
	historyFailedEvery = 50
	historySpan        = 30 * 24 * time.Hour
	historyPushConc    = 8
)

// history measures end-to-end deliveries/s, PushEventTx at concurrency 8
// and ListDeliveries latency twice, back to back: on empty tables, then on
// tables pre-filled with -history finished deliveries to the same webhooks.
func (b *bench) history(ctx context.Context) (string, error) {
	res := &HistoryResult{Rows: b.cfg.History}
	lists := map[string][2][]time.Duration{}
	var names []string
	for i, rows := range []int{0, b.cfg.History} {
		figs, byKind, err := b.historyCondition(ctx, rows, res)
		if err != nil {
			return "", err
		}
		if i == 0 {
			res.Empty = figs
		} else {
			res.Full = figs
		}
		for _, q := range byKind {
			pair, seen := lists[q.name]
			if !seen {
				names = append(names, q.name)
			}
			pair[i] = q.samples
			lists[q.name] = pair
		}
	}
	for _, name := range names {
		res.Queries = append(res.Queries, ListQuery{Name: name, Empty: quantilesOf(lists[name][0]), Full: quantilesOf(lists[name][1])})
	}
	b.res.History = res
	rowsLabel := thousands(float64(res.Rows)) + " rows"
	b.res.add("history_prefill", SectionHistory, "history pre-fill", float64(res.Rows)/res.PrefillSeconds, "rows/s")
	b.res.add("history_push_tx_empty", SectionHistory, "insert+PushEventTx+commit, c8, empty tables", res.Empty.PushTxPerSec, "tx/s")
	b.res.add("history_push_tx_full", SectionHistory, "insert+PushEventTx+commit, c8, "+rowsLabel, res.Full.PushTxPerSec, "tx/s")
	b.res.add("history_e2e_empty", SectionHistory, "end-to-end, 10 webhooks, empty tables", res.Empty.DeliveriesPerSec, "deliveries/s")
	b.res.add("history_e2e_full", SectionHistory, "end-to-end, 10 webhooks, "+rowsLabel, res.Full.DeliveriesPerSec, "deliveries/s")
	b.res.add("history_list_p99_empty", SectionHistory, "ListDeliveries p99, empty tables", res.Empty.ListP99, "ms")
	b.res.add("history_list_p99_full", SectionHistory, "ListDeliveries p99, "+rowsLabel, res.Full.ListP99, "ms")
	return fmt.Sprintf("deliveries %s → %s/s, ListDeliveries p99 %.1f → %.1f ms",
		thousands(res.Empty.DeliveriesPerSec), thousands(res.Full.DeliveriesPerSec), res.Empty.ListP99, res.Full.ListP99), nil
}

type listSamples struct {
	name    string
	samples []time.Duration
}

// historyCondition measures one condition in a schema of its own.
func (b *bench) historyCondition(ctx context.Context, rows int, res *HistoryResult) (HistoryFigures, []listSamples, error) {
	var figs HistoryFigures
	recv := newReceiver(false)
	defer recv.close()
	c, err := b.newCluster(ctx, "history", 1)
	if err != nil {
		return figs, nil, err
	}
	defer c.close()
	webhookIDs, err := c.register(ctx, recv, historyWebhooks)
	if err != nil {
		return figs, nil, err
	}
	if rows > 0 {
		start := time.Now()
		if err := b.prefillHistory(ctx, c, rows); err != nil {
			return figs, nil, fmt.Errorf("pre-fill history: %w", err)
		}
		res.PrefillSeconds = time.Since(start).Seconds()
	}
	// As autovacuum would have by the time such history exists.
	if _, err := c.pools[0].Exec(ctx, "VACUUM ANALYZE sparrow_event, sparrow_delivery, sparrow_delivery_attempt"); err != nil {
		return figs, nil, err
	}
	step := "end-to-end, 10 webhooks, empty tables"
	if rows > 0 {
		step = fmt.Sprintf("end-to-end, 10 webhooks, %s rows of history", thousands(float64(rows)))
	}
	if figs.DeliveriesPerSec, err = b.deliverBacklog(ctx, step, c, recv, historyWebhooks, 0); err != nil {
		return figs, nil, err
	}
	byKind, err := b.timeListDeliveries(ctx, c.engine(), webhookIDs)
	if err != nil {
		return figs, nil, err
	}
	var all []time.Duration
	for _, k := range byKind {
		all = append(all, k.samples...)
	}
	figs.ListP99 = quantilesOf(all).P99
	if figs.PushTxPerSec, err = b.measurePushTx(ctx, c, historyPushConc); err != nil {
		return figs, nil, err
	}
	return figs, byKind, nil
}

// prefillHistory writes rows finished deliveries over the last 30 days,
// spread over the cluster's webhooks, one in historyFailedEvery failed: the
// events by COPY, their deliveries and attempts by INSERT .. SELECT.
func (b *bench) prefillHistory(ctx context.Context, c *cluster, rows int) error {
	pool := c.pools[0]
	var webhookIDs, subscriptionIDs []string
	subs, err := pool.Query(ctx, "SELECT webhook_id, id FROM sparrow_subscription ORDER BY webhook_id")
	if err != nil {
		return err
	}
	var webhookID, subscriptionID string
	if _, err := pgx.ForEachRow(subs, []any{&webhookID, &subscriptionID}, func() error {
		webhookIDs, subscriptionIDs = append(webhookIDs, webhookID), append(subscriptionIDs, subscriptionID)
		return nil
	}); err != nil {
		return err
	}

	var done atomic.Int64
	b.prog.track(countTracker(done.Load, int64(rows), "history events"))
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	step := historySpan / time.Duration(rows)
	entropy := ulid.DefaultEntropy()
	body := json.RawMessage(`{"order_id":"ord_history","customer":"ada","total":49.99,"items":[{"sku":"A-1","qty":2}]}`)
	labels := map[string]string{}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == rows {
			return nil, nil
		}
		at := now.Add(-historySpan + time.Duration(i)*step)
		i++
		if i%10000 == 0 {
			done.Store(int64(i))
		}
		id := "evt_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(at), entropy).String())
		return []any{id, "default", eventName, body, labels, at}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"sparrow_event"},
		[]string{"id", "namespace", "name", "payload", "labels", "created_at"}, src); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, "INSERT INTO sparrow_event_fanout (event_id, round, at) SELECT id, 0, created_at FROM sparrow_event"); err != nil {
		return err
	}
	done.Store(int64(rows))
	if _, err := pool.Exec(ctx, `
INSERT INTO sparrow_delivery (id, namespace, webhook_id, event_id, event_name, subscription_id, status, attempt_count,
    max_attempts, last_attempt_at, last_status_code, last_error_class, last_error, created_at, updated_at, completed_at)
SELECT 'dlv_' || substr(e.id, 5), e.namespace, ($1::text[])[e.k], e.id, e.name, ($2::text[])[e.k],
    CASE WHEN e.failed THEN 'failed' ELSE 'succeeded' END, 1, 8, e.created_at + interval '20 ms',
    CASE WHEN e.failed THEN 400 ELSE 200 END, CASE WHEN e.failed THEN 'http_4xx' ELSE '' END,
    CASE WHEN e.failed THEN 'the endpoint answered 400' ELSE '' END,
    e.created_at, e.created_at + interval '20 ms', e.created_at + interval '20 ms'
FROM (
    SELECT id, namespace, name, created_at, 1 + (hashtext(id) & 2147483647) % $3 AS k,
        (hashtext(id) & 2147483647) % $4 = 0 AS failed
    FROM sparrow_event
) e`, webhookIDs, subscriptionIDs, len(webhookIDs), historyFailedEvery); err != nil {
		return err
	}
	_, err = pool.Exec(ctx, `
INSERT INTO sparrow_delivery_attempt (delivery_id, attempt, webhook_id, started_at, duration_us, status_code,
    error_class, error, request_headers, response_headers)
SELECT id, 1, webhook_id, last_attempt_at, 15000, last_status_code, last_error_class, last_error,
    '{"Content-Type": "application/json"}', '{"Content-Length": "0"}'
FROM sparrow_delivery`)
	return err
}

// timeListDeliveries times the listings a dashboard makes, -list-calls
// times each, round-robin over the webhooks.
func (b *bench) timeListDeliveries(ctx context.Context, eng *sparrow.Engine, webhookIDs []string) ([]listSamples, error) {
	// A cursor 1,000 deliveries deep into the first webhook's listing, if
	// it has that many.
	var deep string
	for range 10 {
		page, err := eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: webhookIDs[0], Limit: 100, Cursor: deep})
		if err != nil {
			return nil, err
		}
		if deep = page.NextCursor; deep == "" {
			break
		}
	}
	kinds := []struct {
		name   string
		params func(webhookID string) sparrow.ListDeliveriesParams
	}{
		{"a webhook's newest", func(id string) sparrow.ListDeliveriesParams {
			return sparrow.ListDeliveriesParams{WebhookID: id}
		}},
		{"the namespace's newest", func(string) sparrow.ListDeliveriesParams {
			return sparrow.ListDeliveriesParams{}
		}},
		{"a webhook's failed", func(id string) sparrow.ListDeliveriesParams {
			return sparrow.ListDeliveriesParams{WebhookID: id, Status: delivery.StatusFailed}
		}},
		{"a webhook's, 1,000 deep", func(string) sparrow.ListDeliveriesParams {
			return sparrow.ListDeliveriesParams{WebhookID: webhookIDs[0], Cursor: deep}
		}},
		{"the namespace's last day", func(string) sparrow.ListDeliveriesParams {
			return sparrow.ListDeliveriesParams{Since: time.Now().Add(-24 * time.Hour)}
		}},
	}
	out := make([]listSamples, len(kinds))
	var done atomic.Int64
	rounds := b.cfg.ListCalls
	total := int64(rounds * len(kinds))
	b.prog.track(countTracker(done.Load, total, "listings"))
	for i, k := range kinds {
		out[i].name = k.name
		// Once untimed: the statement gets prepared, its pages cached.
		if _, err := eng.ListDeliveries(ctx, k.params(webhookIDs[0])); err != nil {
			return nil, fmt.Errorf("ListDeliveries, %s: %w", k.name, err)
		}
		for round := range rounds {
			params := k.params(webhookIDs[round%len(webhookIDs)])
			start := time.Now()
			if _, err := eng.ListDeliveries(ctx, params); err != nil {
				return nil, fmt.Errorf("ListDeliveries, %s: %w", k.name, err)
			}
			out[i].samples = append(out[i].samples, time.Since(start))
			done.Add(1)
		}
	}
	return out, nil
}
