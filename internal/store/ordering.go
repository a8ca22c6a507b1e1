package store

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// Ordering per key runs in three steps. A push numbers the events of each
// key in commit order (sparrow_ordering_push). Fan-out takes a key's events
// in number order (OrderingAdmit), whatever order their fan-outs run in.
// Each new delivery of a key to a webhook waits for the one before it
// still pending (OrderingLink), and is given a job when that one ends
// (OrderingRelease).

// orderingNumber numbers one event of key $11 in namespace $2, pushed at
// $7 (EventInsert's arguments).
const orderingNumber = `INSERT INTO /*schema*/sparrow_ordering_push AS p (namespace, ordering_key, pushed, pushed_at)
VALUES ($2, $11, 1, $7)
ON CONFLICT (namespace, ordering_key) DO UPDATE SET pushed = p.pushed + 1, pushed_at = excluded.pushed_at
RETURNING pushed`

// eventKey names the events of one ordering key.
type eventKey struct{ namespace, key string }

func compareEventKeys(a, b eventKey) int {
	return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.key, b.key))
}

// orderingNumberMany numbers the events of evs that have an ordering key,
// in evs' order, and returns their numbers (nil for the others).
func orderingNumberMany(ctx context.Context, db dbutil.DB, evs []*event.Event) ([]*int64, error) {
	counts := map[eventKey]int64{}
	for _, ev := range evs {
		if ev.OrderingKey != "" {
			counts[eventKey{ev.Namespace, ev.OrderingKey}]++
		}
	}
	if len(counts) == 0 {
		return make([]*int64, len(evs)), nil
	}
	// In one order, so that two batches numbering the same keys can't
	// deadlock.
	keys := slices.SortedFunc(func(yield func(eventKey) bool) {
		for k := range counts {
			if !yield(k) {
				return
			}
		}
	}, compareEventKeys)
	namespaces, names, n := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		namespaces[i], names[i], n[i] = k.namespace, k.key, counts[k]
	}
	rows, err := db.Query(ctx, `INSERT INTO /*schema*/sparrow_ordering_push AS p (namespace, ordering_key, pushed, pushed_at)
SELECT namespace, ordering_key, n, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS input (namespace, ordering_key, n)
ON CONFLICT (namespace, ordering_key) DO UPDATE SET pushed = p.pushed + excluded.pushed, pushed_at = excluded.pushed_at
RETURNING namespace, ordering_key, pushed`, namespaces, names, n, evs[0].CreatedAt)
	if err != nil {
		return nil, dbutil.Interpret("number events", err)
	}
	next := make(map[eventKey]int64, len(keys))
	var k eventKey
	var last int64
	if _, err := pgx.ForEachRow(rows, []any{&k.namespace, &k.key, &last}, func() error {
		next[k] = last - counts[k] + 1
		return nil
	}); err != nil {
		return nil, dbutil.Interpret("number events", err)
	}
	seqs := make([]*int64, len(evs))
	for i, ev := range evs {
		if ev.OrderingKey != "" {
			k := eventKey{ev.Namespace, ev.OrderingKey}
			seq := next[k]
			seqs[i], next[k] = &seq, seq+1
		}
	}
	return seqs, nil
}

// OrderingAdmit is given the events just claimed for their first fan-out,
// and returns those to fan out now, in the order to link their deliveries:
// the events without an ordering key, then each key's in number order. A
// keyed event goes once every event of its key numbered before it is
// fanned out, or goes with it: the fan-out of a key also takes the events
// of the key deferred before. Events whose turn has not come are deferred,
// for the fan-out that takes the one before them. It runs in the
// transaction of the fan-out, which holds the keys until it ends.
func OrderingAdmit(ctx context.Context, db dbutil.DB, claimed []*event.Event) ([]*event.Event, error) {
	var admitted []*event.Event
	byKey := map[eventKey][]*event.Event{}
	for _, ev := range claimed {
		if ev.OrderingKey == "" {
			admitted = append(admitted, ev)
			continue
		}
		k := eventKey{ev.Namespace, ev.OrderingKey}
		byKey[k] = append(byKey[k], ev)
	}
	if len(byKey) == 0 {
		return claimed, nil
	}
	keys := make([]eventKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareEventKeys)
	namespaces, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		namespaces[i], names[i] = k.namespace, k.key
	}
	fanned, err := lockFanout(ctx, db, namespaces, names)
	if err != nil {
		return nil, err
	}
	deferred, err := takeDeferred(ctx, db, namespaces, names)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ev := range deferred {
		k := eventKey{ev.Namespace, ev.OrderingKey}
		byKey[k] = append(byKey[k], ev)
	}
	for _, evs := range byKey {
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
	}
	seqs, gaps, err := orderingGaps(ctx, db, namespaces, names, fanned, ids)
	if err != nil {
		return nil, err
	}
	var deferIDs, deferNamespaces, deferNames []string
	for i, k := range keys {
		evs := byKey[k]
		slices.SortFunc(evs, func(a, b *event.Event) int { return cmp.Compare(seqs[a.ID], seqs[b.ID]) })
		evs = slices.CompactFunc(evs, func(a, b *event.Event) bool { return a.ID == b.ID })
		for _, ev := range evs {
			gap, blocked := gaps[k]
			if blocked && seqs[ev.ID] > gap {
				deferIDs, deferNamespaces, deferNames = append(deferIDs, ev.ID), append(deferNamespaces, k.namespace), append(deferNames, k.key)
				continue
			}
			admitted = append(admitted, ev)
			fanned[i] = max(fanned[i], seqs[ev.ID])
		}
		if gap, blocked := gaps[k]; blocked {
			fanned[i] = gap - 1
		}
	}
	if _, err := db.Exec(ctx, `
WITH deferred AS (
    INSERT INTO /*schema*/sparrow_ordering_deferred (event_id, namespace, ordering_key)
    SELECT * FROM unnest($4::text[], $5::text[], $6::text[])
)
UPDATE /*schema*/sparrow_ordering_fanout f SET fanned = n.fanned
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS n (namespace, ordering_key, fanned)
WHERE f.namespace = n.namespace AND f.ordering_key = n.ordering_key`,
		namespaces, names, fanned, deferIDs, deferNamespaces, deferNames); err != nil {
		return nil, dbutil.Interpret("admit ordered events", err)
	}
	return admitted, nil
}

// lockFanout locks the fan-out rows of the keys (sorted), creating missing
// ones, and returns each one's fanned mark.
func lockFanout(ctx context.Context, db dbutil.DB, namespaces, names []string) ([]int64, error) {
	// A row another transaction is creating is waited for here.
	if _, err := db.Exec(ctx, `INSERT INTO /*schema*/sparrow_ordering_fanout (namespace, ordering_key, fanned)
SELECT namespace, ordering_key, 0 FROM unnest($1::text[], $2::text[]) AS want (namespace, ordering_key)
ON CONFLICT DO NOTHING`, namespaces, names); err != nil {
		return nil, dbutil.Interpret("lock ordering keys", err)
	}
	rows, err := db.Query(ctx, `SELECT f.fanned
FROM unnest($1::text[], $2::text[]) AS want (namespace, ordering_key)
JOIN /*schema*/sparrow_ordering_fanout f USING (namespace, ordering_key)
ORDER BY f.namespace, f.ordering_key FOR UPDATE OF f`, namespaces, names)
	if err != nil {
		return nil, dbutil.Interpret("lock ordering keys", err)
	}
	fanned, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return fanned, dbutil.Interpret("lock ordering keys", err)
}

// takeDeferred deletes and returns, payloads included, the events of the
// keys deferred by earlier fan-outs.
func takeDeferred(ctx context.Context, db dbutil.DB, namespaces, names []string) ([]*event.Event, error) {
	rows, err := db.Query(ctx, `
WITH taken AS (
    DELETE FROM /*schema*/sparrow_ordering_deferred d
    USING unnest($1::text[], $2::text[]) AS want (namespace, ordering_key)
    WHERE d.namespace = want.namespace AND d.ordering_key = want.ordering_key
    RETURNING d.event_id
)
SELECT `+eventColumns+`, payload FROM /*schema*/sparrow_event WHERE id IN (SELECT event_id FROM taken)`, namespaces, names)
	if err != nil {
		return nil, dbutil.Interpret("take deferred events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*event.Event, error) {
		var payload json.RawMessage
		return scanEvent(row, &payload)
	})
	return events, dbutil.Interpret("take deferred events", err)
}

// orderingGaps returns the numbers of the events ids, and for each key
// that has one, the number of its first event after its fanned mark that
// is neither fanned out nor one of ids: an event some other fan-out has yet
// to take (or has taken, uncommitted).
func orderingGaps(ctx context.Context, db dbutil.DB, namespaces, names []string, fanned []int64, ids []string) (map[string]int64, map[eventKey]int64, error) {
	rows, err := db.Query(ctx, `SELECT id, ordering_seq FROM /*schema*/sparrow_event WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, nil, dbutil.Interpret("ordering numbers", err)
	}
	seqs := make(map[string]int64, len(ids))
	var id string
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
		seqs[id] = seq
		return nil
	}); err != nil {
		return nil, nil, dbutil.Interpret("ordering numbers", err)
	}
	rows, err = db.Query(ctx, `SELECT want.namespace, want.ordering_key, gap.seq
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS want (namespace, ordering_key, fanned),
LATERAL (
    SELECT e.ordering_seq AS seq FROM /*schema*/sparrow_event e
    WHERE e.namespace = want.namespace AND e.ordering_key = want.ordering_key AND e.ordering_seq > want.fanned
      AND e.id <> ALL($4)
      AND NOT EXISTS (SELECT FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id)
    ORDER BY e.ordering_seq LIMIT 1
) gap`, namespaces, names, fanned, ids)
	if err != nil {
		return nil, nil, dbutil.Interpret("ordering gaps", err)
	}
	gaps := map[eventKey]int64{}
	var k eventKey
	if _, err := pgx.ForEachRow(rows, []any{&k.namespace, &k.key, &seq}, func() error {
		gaps[k] = seq
		return nil
	}); err != nil {
		return nil, nil, dbutil.Interpret("ordering gaps", err)
	}
	return seqs, gaps, nil
}

// chainKey names a key's chain of deliveries to one webhook.
type chainKey struct{ webhookID, key string }

func compareChainKeys(a, b chainKey) int {
	return cmp.Or(cmp.Compare(a.webhookID, b.webhookID), cmp.Compare(a.key, b.key))
}

// lockChains locks the chain rows of keys, creating missing ones, in one
// order so that transactions locking several can't deadlock, and returns
// each chain's newest delivery ("" for none).
func lockChains(ctx context.Context, db dbutil.DB, keys []chainKey, namespaces map[chainKey]string, now time.Time) (map[chainKey]string, error) {
	slices.SortFunc(keys, compareChainKeys)
	keys = slices.Compact(keys)
	webhooks, names, nss := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		webhooks[i], names[i], nss[i] = k.webhookID, k.key, namespaces[k]
	}
	// A row another transaction is creating is waited for here, so two
	// fan-outs of a new key can't both find it empty.
	if _, err := db.Exec(ctx, `INSERT INTO /*schema*/sparrow_ordering (webhook_id, ordering_key, namespace, last_delivery_id, linked_at)
SELECT webhook_id, ordering_key, namespace, '', $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS want (webhook_id, ordering_key, namespace)
ON CONFLICT DO NOTHING`, webhooks, names, nss, now); err != nil {
		return nil, dbutil.Interpret("lock ordering", err)
	}
	rows, err := db.Query(ctx, `SELECT o.webhook_id, o.ordering_key, o.last_delivery_id
FROM unnest($1::text[], $2::text[]) AS want (webhook_id, ordering_key)
JOIN /*schema*/sparrow_ordering o USING (webhook_id, ordering_key)
ORDER BY o.webhook_id, o.ordering_key FOR UPDATE OF o`, webhooks, names)
	if err != nil {
		return nil, dbutil.Interpret("lock ordering", err)
	}
	last := make(map[chainKey]string, len(keys))
	var k chainKey
	var id string
	_, err = pgx.ForEachRow(rows, []any{&k.webhookID, &k.key, &id}, func() error {
		last[k] = id
		return nil
	})
	return last, dbutil.Interpret("lock ordering", err)
}

// OrderingLink puts new deliveries behind those of their ordering key to
// their webhook, in ds's order: each pending one waits for (WaitsFor) the
// one before it still pending, if any, and becomes the newest of its key.
// Deliveries without a key, or ended already (expired at birth), are left
// as they are. It runs in the transaction that inserts ds, which holds the
// keys' rows until it ends.
func OrderingLink(ctx context.Context, db dbutil.DB, ds []*delivery.Delivery, now time.Time) error {
	var keys []chainKey
	namespaces := map[chainKey]string{}
	for _, d := range ds {
		if d.OrderingKey != "" {
			k := chainKey{d.WebhookID, d.OrderingKey}
			keys, namespaces[k] = append(keys, k), d.Namespace
		}
	}
	if len(keys) == 0 {
		return nil
	}
	last, err := lockChains(ctx, db, keys, namespaces, now)
	if err != nil {
		return err
	}
	// Read once the rows are locked: a delivery that ended before is seen
	// ended, and one that ends after releases what waits for it.
	pending, err := deliveriesPending(ctx, db, last)
	if err != nil {
		return err
	}
	tail := map[chainKey]string{}
	for k, id := range last {
		if pending[id] {
			tail[k] = id
		}
	}
	for _, d := range ds {
		if d.OrderingKey == "" || d.Status.Final() {
			continue
		}
		k := chainKey{d.WebhookID, d.OrderingKey}
		d.WaitsFor = tail[k]
		tail[k] = d.ID
	}
	webhooks, names, newest := make([]string, 0, len(tail)), make([]string, 0, len(tail)), make([]string, 0, len(tail))
	for k, id := range tail {
		if id != last[k] {
			webhooks, names, newest = append(webhooks, k.webhookID), append(names, k.key), append(newest, id)
		}
	}
	_, err = db.Exec(ctx, `UPDATE /*schema*/sparrow_ordering o SET last_delivery_id = n.id, linked_at = $4
FROM unnest($1::text[], $2::text[], $3::text[]) AS n (webhook_id, ordering_key, id)
WHERE o.webhook_id = n.webhook_id AND o.ordering_key = n.ordering_key`, webhooks, names, newest, now)
	return dbutil.Interpret("link ordering", err)
}

// deliveriesPending returns which of ids' deliveries are pending.
func deliveriesPending(ctx context.Context, db dbutil.DB, ids map[chainKey]string) (map[string]bool, error) {
	var list []string
	for _, id := range ids {
		if id != "" {
			list = append(list, id)
		}
	}
	rows, err := db.Query(ctx, `SELECT id FROM /*schema*/sparrow_delivery WHERE id = ANY($1) AND status IN ('pending', 'retrying')`, list)
	if err != nil {
		return nil, dbutil.Interpret("ordering tails", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	pending := make(map[string]bool, len(found))
	for _, id := range found {
		pending[id] = true
	}
	return pending, dbutil.Interpret("ordering tails", err)
}

// Ended is a delivery of an ordering key that ended (succeeded, failed,
// expired or cancelled).
type Ended struct {
	ID, WebhookID, Namespace, OrderingKey string
}

// OrderingRelease lets go the deliveries waiting for any of ended, due at
// now, and returns them for the caller to give them jobs in the same
// transaction, which must be the one recording their ends.
func OrderingRelease(ctx context.Context, db dbutil.DB, ended []Ended, now time.Time) ([]DeliveryRef, error) {
	if len(ended) == 0 {
		return nil, nil
	}
	keys := make([]chainKey, len(ended))
	namespaces := make(map[chainKey]string, len(ended))
	ids := make([]string, len(ended))
	for i, e := range ended {
		keys[i], ids[i] = chainKey{e.WebhookID, e.OrderingKey}, e.ID
		namespaces[keys[i]] = e.Namespace
	}
	// Locked first: a fan-out linking a delivery behind one of these either
	// finished first (its delivery is released here) or sees them ended.
	if _, err := lockChains(ctx, db, keys, namespaces, now); err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `UPDATE /*schema*/sparrow_delivery SET waits_for = NULL, next_attempt_at = $2, updated_at = $2
WHERE waits_for = ANY($1) AND status IN ('pending', 'retrying')
RETURNING id, webhook_id, attempt_count`, ids, now)
	if err != nil {
		return nil, dbutil.Interpret("release ordering", err)
	}
	released, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryRef])
	return released, dbutil.Interpret("release ordering", err)
}

// OrderingPrune forgets the ordering keys of ns last used before cutoff:
// numbering starts again at 1, which is safe once the key's events are
// all fanned out, and a chain whose newest delivery ended holds nothing.
// A key used again meanwhile updates its row, which the delete then
// passes over.
func OrderingPrune(ctx context.Context, db dbutil.DB, ns dbutil.Namespaces, cutoff time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
WITH doomed AS (
    SELECT namespace, ordering_key FROM /*schema*/sparrow_ordering_push p
    WHERE `+dbutil.NamespacesWhere("namespace")+` AND pushed_at < $3
      AND NOT EXISTS (SELECT FROM /*schema*/sparrow_ordering_deferred d WHERE d.namespace = p.namespace AND d.ordering_key = p.ordering_key)
    LIMIT $4 FOR UPDATE SKIP LOCKED
), fanout AS (
    DELETE FROM /*schema*/sparrow_ordering_fanout f USING doomed
    WHERE f.namespace = doomed.namespace AND f.ordering_key = doomed.ordering_key
)
DELETE FROM /*schema*/sparrow_ordering_push p USING doomed
WHERE p.namespace = doomed.namespace AND p.ordering_key = doomed.ordering_key`, append(ns.Args(), cutoff, limit)...)
	if err != nil {
		return 0, dbutil.Interpret("prune ordering keys", err)
	}
	chains, err := db.Exec(ctx, `
DELETE FROM /*schema*/sparrow_ordering o WHERE (webhook_id, ordering_key) IN (
    SELECT webhook_id, ordering_key FROM /*schema*/sparrow_ordering c
    WHERE `+dbutil.NamespacesWhere("namespace")+` AND linked_at < $3
      AND NOT EXISTS (SELECT FROM /*schema*/sparrow_delivery d WHERE d.id = c.last_delivery_id AND d.status IN ('pending', 'retrying'))
    LIMIT $4 FOR UPDATE SKIP LOCKED
)`, append(ns.Args(), cutoff, limit)...)
	return tag.RowsAffected() + chains.RowsAffected(), dbutil.Interpret("prune ordering chains", err)
}
