package store

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
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
	gaps, err := orderingGaps(ctx, db, namespaces, names, fanned)
	if err != nil {
		return nil, err
	}
	// The deferred events whose turn has come: those before the gap, or all
	// when there is none. The others stay deferred.
	limits := make([]*int64, len(keys))
	for i, k := range keys {
		if gap, ok := gaps[k]; ok {
			limits[i] = &gap
		}
	}
	deferred, err := takeDeferred(ctx, db, namespaces, names, limits)
	if err != nil {
		return nil, err
	}
	for _, d := range deferred {
		k := eventKey{d.event.Namespace, d.event.OrderingKey}
		byKey[k] = append(byKey[k], d.event)
	}
	seqs, err := orderingNumbers(ctx, db, claimed)
	if err != nil {
		return nil, err
	}
	for _, d := range deferred {
		seqs[d.event.ID] = d.seq
	}
	var deferIDs, deferNamespaces, deferNames []string
	var deferSeqs []int64
	for i, k := range keys {
		evs := byKey[k]
		slices.SortFunc(evs, func(a, b *event.Event) int { return cmp.Compare(seqs[a.ID], seqs[b.ID]) })
		gap, blocked := gaps[k]
		for _, ev := range evs {
			if blocked && seqs[ev.ID] > gap {
				deferIDs, deferNamespaces, deferNames = append(deferIDs, ev.ID), append(deferNamespaces, k.namespace), append(deferNames, k.key)
				deferSeqs = append(deferSeqs, seqs[ev.ID])
				continue
			}
			admitted = append(admitted, ev)
			fanned[i] = max(fanned[i], seqs[ev.ID])
		}
		if blocked {
			fanned[i] = gap - 1
		}
	}
	if _, err := db.Exec(ctx, `
WITH deferred AS (
    INSERT INTO /*schema*/sparrow_ordering_deferred (event_id, namespace, ordering_key, ordering_seq)
    SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[])
)
UPDATE /*schema*/sparrow_ordering_fanout f SET fanned = n.fanned
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS n (namespace, ordering_key, fanned)
WHERE f.namespace = n.namespace AND f.ordering_key = n.ordering_key`,
		namespaces, names, fanned, deferIDs, deferNamespaces, deferNames, deferSeqs); err != nil {
		return nil, dbutil.Interpret("admit ordered events", err)
	}
	return admitted, nil
}

// lockFanout locks the fan-out rows of the keys, creating missing ones,
// and returns each one's fanned mark, in the keys' order.
func lockFanout(ctx context.Context, db dbutil.DB, namespaces, names []string) ([]int64, error) {
	// A row another transaction is creating is waited for here.
	if _, err := db.Exec(ctx, `INSERT INTO /*schema*/sparrow_ordering_fanout (namespace, ordering_key, fanned)
SELECT namespace, ordering_key, 0 FROM unnest($1::text[], $2::text[]) AS want (namespace, ordering_key)
ON CONFLICT DO NOTHING`, namespaces, names); err != nil {
		return nil, dbutil.Interpret("lock ordering keys", err)
	}
	rows, err := db.Query(ctx, `SELECT f.namespace, f.ordering_key, f.fanned
FROM unnest($1::text[], $2::text[]) AS want (namespace, ordering_key)
JOIN /*schema*/sparrow_ordering_fanout f USING (namespace, ordering_key)
ORDER BY f.namespace, f.ordering_key FOR UPDATE OF f`, namespaces, names)
	if err != nil {
		return nil, dbutil.Interpret("lock ordering keys", err)
	}
	marks := make(map[eventKey]int64, len(names))
	var k eventKey
	var mark int64
	if _, err := pgx.ForEachRow(rows, []any{&k.namespace, &k.key, &mark}, func() error {
		marks[k] = mark
		return nil
	}); err != nil {
		return nil, dbutil.Interpret("lock ordering keys", err)
	}
	fanned := make([]int64, len(names))
	for i := range names {
		fanned[i] = marks[eventKey{namespaces[i], names[i]}]
	}
	return fanned, nil
}

// deferredEvent is an event taken from the deferred, with its number.
type deferredEvent struct {
	event *event.Event
	seq   int64
}

// takeDeferred deletes and returns, payloads included, the events of the
// keys deferred by earlier fan-outs, numbered below each key's limit (nil:
// all of them).
func takeDeferred(ctx context.Context, db dbutil.DB, namespaces, names []string, limits []*int64) ([]deferredEvent, error) {
	rows, err := db.Query(ctx, `
WITH taken AS (
    DELETE FROM /*schema*/sparrow_ordering_deferred d
    USING unnest($1::text[], $2::text[], $3::bigint[]) AS want (namespace, ordering_key, below)
    WHERE d.namespace = want.namespace AND d.ordering_key = want.ordering_key
      AND (want.below IS NULL OR d.ordering_seq < want.below)
    RETURNING d.event_id, d.ordering_seq
)
SELECT `+eventColumns+`, payload, taken.ordering_seq
FROM taken JOIN /*schema*/sparrow_event e ON e.id = taken.event_id`, namespaces, names, limits)
	if err != nil {
		return nil, dbutil.Interpret("take deferred events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (deferredEvent, error) {
		var payload json.RawMessage
		var d deferredEvent
		var err error
		d.event, err = scanEvent(row, &payload, &d.seq)
		return d, err
	})
	return events, dbutil.Interpret("take deferred events", err)
}

// orderingNumbers returns the numbers of the keyed events of evs.
func orderingNumbers(ctx context.Context, db dbutil.DB, evs []*event.Event) (map[string]int64, error) {
	var ids []string
	for _, ev := range evs {
		if ev.OrderingKey != "" {
			ids = append(ids, ev.ID)
		}
	}
	rows, err := db.Query(ctx, `SELECT id, ordering_seq FROM /*schema*/sparrow_event WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, dbutil.Interpret("ordering numbers", err)
	}
	seqs := make(map[string]int64, len(ids))
	var id string
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
		seqs[id] = seq
		return nil
	})
	return seqs, dbutil.Interpret("ordering numbers", err)
}

// orderingGaps returns, for each key that has one, the number of its first
// event after its fanned mark that is not claimed for fan-out: one some
// other fan-out has yet to take (or has taken, uncommitted). The events in
// hand are all claimed: by this transaction, or, deferred, by an earlier
// one.
func orderingGaps(ctx context.Context, db dbutil.DB, namespaces, names []string, fanned []int64) (map[eventKey]int64, error) {
	rows, err := db.Query(ctx, `SELECT want.namespace, want.ordering_key, gap.seq
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS want (namespace, ordering_key, fanned),
LATERAL (
    SELECT e.ordering_seq AS seq FROM /*schema*/sparrow_event e
    WHERE e.namespace = want.namespace AND e.ordering_key = want.ordering_key AND e.ordering_seq > want.fanned
      AND NOT EXISTS (SELECT FROM /*schema*/sparrow_event_fanout f WHERE f.event_id = e.id)
    ORDER BY e.ordering_seq LIMIT 1
) gap`, namespaces, names, fanned)
	if err != nil {
		return nil, dbutil.Interpret("ordering gaps", err)
	}
	gaps := map[eventKey]int64{}
	var k eventKey
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&k.namespace, &k.key, &seq}, func() error {
		gaps[k] = seq
		return nil
	})
	return gaps, dbutil.Interpret("ordering gaps", err)
}

// chainKey names a key's chain of deliveries to one webhook.
type chainKey struct{ webhookID, key string }

func compareChainKeys(a, b chainKey) int {
	return cmp.Or(cmp.Compare(a.webhookID, b.webhookID), cmp.Compare(a.key, b.key))
}

// OrderingPlan puts new deliveries behind those of their ordering key to
// their webhook, in ds's order, as the chains stand now: each pending one
// waits for (WaitsFor) the one before it still pending, if any. It reads
// without locking, so that the deliveries can be inserted before the
// chains are locked (OrderingLink): a chain is held only briefly, and the
// ends recorded meanwhile wait for no insert. Deliveries without a key, or
// ended already (expired at birth), are left as they are.
func OrderingPlan(ctx context.Context, db dbutil.DB, ds []*delivery.Delivery) (*OrderingLinks, error) {
	plan := &OrderingLinks{namespaces: map[chainKey]string{}}
	for _, d := range ds {
		if d.OrderingKey != "" && !d.Status.Final() {
			k := chainKey{d.WebhookID, d.OrderingKey}
			plan.keys, plan.namespaces[k] = append(plan.keys, k), d.Namespace
			plan.deliveries = append(plan.deliveries, d)
		}
	}
	if len(plan.keys) == 0 {
		return plan, nil
	}
	slices.SortFunc(plan.keys, compareChainKeys)
	plan.keys = slices.Compact(plan.keys)
	var err error
	if plan.tails, err = chainTails(ctx, db, plan.keys, false); err != nil {
		return nil, err
	}
	tail := maps.Clone(plan.tails)
	for _, d := range plan.deliveries {
		k := chainKey{d.WebhookID, d.OrderingKey}
		d.WaitsFor, tail[k] = tail[k], d.ID
	}
	return plan, nil
}

// OrderingLinks is the linking of new deliveries planned by OrderingPlan.
type OrderingLinks struct {
	keys       []chainKey // sorted
	namespaces map[chainKey]string
	deliveries []*delivery.Delivery // keyed and pending, in order
	tails      map[chainKey]string  // each chain's pending tail as read
}

// OrderingLink makes the planned links hold, in the transaction that
// inserted the deliveries, which holds the chains until it ends: it locks
// the chains, and where one moved since it was read (its tail ended, or
// another fan-out linked a delivery) it links the first new delivery to
// the chain's tail as it is now, in the database and in the plan's
// deliveries. Then the newest delivery of each chain is recorded.
func OrderingLink(ctx context.Context, db dbutil.DB, plan *OrderingLinks, now time.Time) error {
	if len(plan.keys) == 0 {
		return nil
	}
	if err := lockChains(ctx, db, plan.keys, plan.namespaces, now); err != nil {
		return err
	}
	// Read once the rows are locked (see chainTails for the tails): a
	// delivery that ended before is seen ended, and one that ends after
	// releases what waits for it.
	tails, err := chainTails(ctx, db, plan.keys, true)
	if err != nil {
		return err
	}
	var fixIDs, fixWaits []string
	newest := map[chainKey]string{}
	for _, d := range plan.deliveries {
		k := chainKey{d.WebhookID, d.OrderingKey}
		if _, seen := newest[k]; !seen && tails[k] != plan.tails[k] {
			d.WaitsFor = tails[k]
			fixIDs, fixWaits = append(fixIDs, d.ID), append(fixWaits, d.WaitsFor)
		}
		newest[k] = d.ID
	}
	webhooks, names, ids := make([]string, 0, len(newest)), make([]string, 0, len(newest)), make([]string, 0, len(newest))
	for k, id := range newest {
		webhooks, names, ids = append(webhooks, k.webhookID), append(names, k.key), append(ids, id)
	}
	_, err = db.Exec(ctx, `
WITH fixed AS (
    UPDATE /*schema*/sparrow_delivery d SET waits_for = nullif(f.waits_for, '')
    FROM unnest($5::text[], $6::text[]) AS f (id, waits_for) WHERE d.id = f.id
)
UPDATE /*schema*/sparrow_ordering o SET last_delivery_id = n.id, linked_at = $4
FROM unnest($1::text[], $2::text[], $3::text[]) AS n (webhook_id, ordering_key, id)
WHERE o.webhook_id = n.webhook_id AND o.ordering_key = n.ordering_key`, webhooks, names, ids, now, fixIDs, fixWaits)
	return dbutil.Interpret("link ordering", err)
}

// lockChains locks the chain rows of keys (sorted), creating missing ones
// in their namespaces at now, in keys' order so that transactions locking
// several can't deadlock. What the chains hold is to be read after, by
// another statement: one that waited for a lock still sees the rows it
// joins as they were when it began.
func lockChains(ctx context.Context, db dbutil.DB, keys []chainKey, namespaces map[chainKey]string, now time.Time) error {
	webhooks, names, nss := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		webhooks[i], names[i], nss[i] = k.webhookID, k.key, namespaces[k]
	}
	// A row another transaction is creating is waited for here, so two
	// fan-outs of a new key can't both find it empty.
	if _, err := db.Exec(ctx, `INSERT INTO /*schema*/sparrow_ordering (webhook_id, ordering_key, namespace, last_delivery_id, linked_at)
SELECT webhook_id, ordering_key, namespace, '', $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS want (webhook_id, ordering_key, namespace)
ON CONFLICT DO NOTHING`, webhooks, names, nss, now); err != nil {
		return dbutil.Interpret("lock ordering", err)
	}
	return lockChainRows(ctx, db, keys)
}

// chainTails returns the pending tail of each chain of keys, "" for none.
// With share, it locks the tails' rows (in id order) before reading their
// status: a tail being recorded as ended is then seen ended once that
// commits, and one recorded after waits for this transaction, whose
// deliveries linked behind it its release then sees. That spares the
// recorder the chains' locks.
func chainTails(ctx context.Context, db dbutil.DB, keys []chainKey, share bool) (map[chainKey]string, error) {
	webhooks, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		webhooks[i], names[i] = k.webhookID, k.key
	}
	rows, err := db.Query(ctx, `SELECT o.webhook_id, o.ordering_key, o.last_delivery_id
FROM unnest($1::text[], $2::text[]) AS want (webhook_id, ordering_key)
JOIN /*schema*/sparrow_ordering o USING (webhook_id, ordering_key)`, webhooks, names)
	if err != nil {
		return nil, dbutil.Interpret("ordering tails", err)
	}
	last := make(map[chainKey]string, len(keys))
	var k chainKey
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&k.webhookID, &k.key, &id}, func() error {
		last[k] = id
		return nil
	}); err != nil {
		return nil, dbutil.Interpret("ordering tails", err)
	}
	ids := make([]string, 0, len(last))
	for _, id := range last {
		if id != "" {
			ids = append(ids, id)
		}
	}
	lock := ""
	if share {
		lock = "ORDER BY id FOR SHARE"
	}
	rows, err = db.Query(ctx, `SELECT id, status IN ('pending', 'retrying') FROM /*schema*/sparrow_delivery WHERE id = ANY($1) `+lock, ids)
	if err != nil {
		return nil, dbutil.Interpret("ordering tails", err)
	}
	pending := make(map[string]bool, len(ids))
	var isPending bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &isPending}, func() error {
		pending[id] = isPending
		return nil
	}); err != nil {
		return nil, dbutil.Interpret("ordering tails", err)
	}
	tails := make(map[chainKey]string, len(keys))
	for k, id := range last {
		if pending[id] {
			tails[k] = id
		}
	}
	return tails, nil
}

// Ended is a delivery of an ordering key that ended (succeeded, failed,
// expired or cancelled). Carrier, when not 0, is the delivery job that
// ended it and goes on to the next of its key itself.
type Ended struct {
	ID      string
	Carrier int64
}

// Released is a delivery let go by the end of the one it waited for.
type Released struct {
	DeliveryRef
	// After is the delivery whose end let it go.
	After string
	// Carried, when the predecessor had a carrier, is the delivery as that
	// job attempts it, body included; else nil, and the delivery needs a
	// job.
	Carried *DeliveryWork
}

// OrderingRelease lets go the deliveries waiting for any of ended, due at
// now, and returns them. Those whose predecessor has a carrier are carried
// by it (carried_by_job); the caller gives the others jobs, in the same
// transaction, which must be the one recording the ends.
func OrderingRelease(ctx context.Context, db dbutil.DB, ended []Ended, now time.Time) ([]Released, error) {
	if len(ended) == 0 {
		return nil, nil
	}
	ids, carriers := make([]string, len(ended)), make([]int64, len(ended))
	for i, e := range ended {
		ids[i], carriers[i] = e.ID, e.Carrier
	}
	// A fan-out linking a delivery behind one of these either finished
	// before they were recorded ended (its delivery is released here) or
	// sees them ended: it holds the rows of the tails it links to (see
	// chainTails), which recording them locks.
	// Each waiter looked up by the index of waits_for, whatever the
	// planner estimates (see DeliveryLoadWork), its status checked after:
	// asked for pending deliveries, the planner may walk the index of every
	// pending delivery instead.
	rows, err := db.Query(ctx, `
WITH waiting AS (
    SELECT d.id, d.event_id, e.id AS after, e.carrier FROM unnest($1::text[], $2::bigint[]) AS e (id, carrier), LATERAL (
        SELECT d.id, d.event_id, d.status FROM /*schema*/sparrow_delivery d WHERE d.waits_for = e.id OFFSET 0
    ) d
    WHERE d.status IN ('pending', 'retrying')
)
UPDATE /*schema*/sparrow_delivery d SET waits_for = NULL, next_attempt_at = $3, updated_at = $3, carried_by_job = nullif(w.carrier, 0)
FROM waiting w JOIN /*schema*/sparrow_event e ON e.id = w.event_id
WHERE d.id = w.id
RETURNING `+deliveryColumns+`, e.created_at, d.body IS NOT NULL,
    CASE WHEN w.carrier <> 0 THEN coalesce(d.body, e.payload)::text END, w.after, w.carrier`,
		pgx.QueryExecModeExec, ids, carriers, now)
	if err != nil {
		return nil, dbutil.Interpret("release ordering", err)
	}
	released, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Released, error) {
		var r Released
		var work DeliveryWork
		var body []byte
		var carrier int64
		d, err := scanDelivery(row, &work.EventCreatedAt, &work.Rendered, &body, &r.After, &carrier)
		if err != nil {
			return r, err
		}
		r.DeliveryRef = refOf(d)
		if carrier != 0 {
			work.Delivery, work.Body, work.Carried = *d, body, true
			r.Carried = &work
		}
		return r, nil
	})
	return released, dbutil.Interpret("release ordering", err)
}

// lockChainRows locks the existing chain rows of keys, in lockChains'
// order.
func lockChainRows(ctx context.Context, db dbutil.DB, keys []chainKey) error {
	slices.SortFunc(keys, compareChainKeys)
	keys = slices.Compact(keys)
	webhooks, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		webhooks[i], names[i] = k.webhookID, k.key
	}
	_, err := db.Exec(ctx, `SELECT FROM unnest($1::text[], $2::text[]) AS want (webhook_id, ordering_key)
JOIN /*schema*/sparrow_ordering o USING (webhook_id, ordering_key)
ORDER BY o.webhook_id, o.ordering_key FOR UPDATE OF o`, webhooks, names)
	return dbutil.Interpret("lock ordering", err)
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
