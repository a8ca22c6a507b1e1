// Tenants: one namespace's backlog can't starve the others (fair sharing).
//
// Namespace A has -tenants-backlog deliveries owed to its ten webhooks
// (its events pushed before the engine starts, and fanned out before B's
// first push), whose receiver answers in tenantsAnswer, so that A alone
// keeps every attempt slot of the engine busy. Namespace B pushes -tenants-rate events
// a second, one PushEvent at a time, for -tenants-duration, to a webhook
// of its own. Run A has B alone; run B, in the same process on a fresh
// schema, starts with A's backlog owed. Both measure B's push→received
// p50 and p99. The target wants B's p99 with A's backlog within 2× of its
// p99 alone. A run in which A's backlog ran out before B's pushes ended
// is inconclusive: raise -tenants-backlog. Each run also splits B's p99 by
// stage, read back from the database (waiting for fan-out, fanning out,
// waiting for River's fetch, starting the attempt), to show where a tail
// grows.
//
//	go run ./examples/bench -only tenants -tenants-backlog 100000 -tenants-rate 50
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/riverworkers"
)

const (
	tenantsWebhooksA = 10
	// tenantsAnswer is how long A's receiver takes to answer, as receivers
	// in the world do: A's backlog then fills the engine's attempt slots
	// (its delivery capacity) without A's answers alone saturating the
	// machine's two cores, which no scheduling could share.
	tenantsAnswer = 100 * time.Millisecond
)

// TenantsResult compares namespace B's deliveries alone and with namespace
// A's backlog owed.
type TenantsResult struct {
	Backlog int        `json:"backlog_a"`
	Offered float64    `json:"offered_b_events_per_s"`
	Alone   TenantsRun `json:"b_alone"`
	Shared  TenantsRun `json:"b_with_a_backlog"`
	// P99Ratio is B's p99 in Shared over its p99 Alone.
	P99Ratio float64 `json:"p99_ratio"`
}

// TenantsRun is one run's figures: B's pushes and deliveries, and what A
// received meanwhile.
type TenantsRun struct {
	Seconds  float64   `json:"seconds"`
	Achieved float64   `json:"achieved_b_events_per_s"`
	Late     int64     `json:"b_late"`
	Delivery quantiles `json:"b_push_to_received"`
	// AReceived is A's deliveries received while B pushed, and AOwed those
	// still owed when B's pushes ended.
	AReceived int64   `json:"a_received"`
	ARate     float64 `json:"a_received_per_s"`
	AOwed     int64   `json:"a_owed_at_end"`
	// Stages splits B's first attempts' push→attempt time, to tell where a
	// tail grows.
	Stages TenantsStages `json:"b_stages"`
}

// TenantsStages are the stages of B's deliveries, read back from the
// database once a run ends: push (the event's creation) to the start of its
// fan-out, to its delivery job's insert within that fan-out, to River's
// fetch of the job, to the attempt's start.
type TenantsStages struct {
	FanoutWait quantiles `json:"fanout_wait"`
	Fanout     quantiles `json:"fanout"`
	Fetch      quantiles `json:"fetch"`
	Start      quantiles `json:"start"`
}

// tenants runs B alone, then B with A's backlog, and records the figures
// the fair-sharing target judges.
func (b *bench) tenants(ctx context.Context) (string, error) {
	res := &TenantsResult{Backlog: b.cfg.TenantsBacklog, Offered: float64(b.cfg.TenantsRate)}
	var err error
	if res.Alone, err = b.tenantsRun(ctx, false); err != nil {
		return "", fmt.Errorf("B alone: %w", err)
	}
	if res.Shared, err = b.tenantsRun(ctx, true); err != nil {
		return "", fmt.Errorf("B with A's backlog: %w", err)
	}
	if res.Alone.Delivery.P99 > 0 {
		res.P99Ratio = res.Shared.Delivery.P99 / res.Alone.Delivery.P99
	}
	b.res.Tenants = res
	for _, run := range []struct {
		suffix, name string
		r            TenantsRun
	}{{"", "A, namespace B alone", res.Alone}, {"_shared", "B, with namespace A's backlog", res.Shared}} {
		b.res.add("tenants_b_pushed"+run.suffix, SectionTenants, run.name+": B's events/s pushed", run.r.Achieved, "events/s")
		b.res.add("tenants_b_p50"+run.suffix, SectionTenants, run.name+": B's push→received p50", run.r.Delivery.P50, "ms")
		b.res.add("tenants_b_p99"+run.suffix, SectionTenants, run.name+": B's push→received p99", run.r.Delivery.P99, "ms")
	}
	b.res.add("tenants_a_rate", SectionTenants, "B: namespace A's deliveries received meanwhile", res.Shared.ARate, "deliveries/s")
	for _, run := range []struct {
		suffix, name string
		s            TenantsStages
	}{{"", "A, namespace B alone", res.Alone.Stages}, {"_shared", "B, with namespace A's backlog", res.Shared.Stages}} {
		for _, stage := range []struct {
			key, label string
			q          quantiles
		}{
			{"fanout_wait", "push → fan-out started", run.s.FanoutWait},
			{"fanout", "fan-out started → delivery job inserted", run.s.Fanout},
			{"fetch", "delivery job inserted → fetched by River", run.s.Fetch},
			{"start", "fetched → attempt started", run.s.Start},
		} {
			b.res.add("tenants_b_"+stage.key+"_p99"+run.suffix, SectionTenants, run.name+": B's "+stage.label+", p99", stage.q.P99, "ms")
		}
	}
	return fmt.Sprintf("B's p99 %.1f ms alone, %.1f ms with A's backlog (%.2f×), A at %s deliveries/s",
		res.Alone.Delivery.P99, res.Shared.Delivery.P99, res.P99Ratio, thousands(res.Shared.ARate)), nil
}

// tenantsRun is one run on a schema of its own; withBacklog pushes A's
// backlog before the engine starts.
func (b *bench) tenantsRun(ctx context.Context, withBacklog bool) (TenantsRun, error) {
	name := "tenants_b" // short: River bounds a schema name to 46 characters
	if withBacklog {
		name = "tenants_ab"
	}
	recvA := newReceiver(false)
	recvA.delay = tenantsAnswer
	defer recvA.close()
	recvB := newReceiver(true)
	defer recvB.close()
	c, err := b.newCluster(ctx, name, 1)
	if err != nil {
		return TenantsRun{}, err
	}
	defer c.close()
	eng := c.engine()
	for i := range tenantsWebhooksA {
		url, err := recvA.endpoint(fmt.Sprintf("/a/%d", i), "")
		if err != nil {
			return TenantsRun{}, err
		}
		if _, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: "a", URL: url, Events: []string{eventName}}); err != nil {
			return TenantsRun{}, err
		}
	}
	url, err := recvB.endpoint("/b", "")
	if err != nil {
		return TenantsRun{}, err
	}
	if _, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: "b", URL: url, Events: []string{eventName}}); err != nil {
		return TenantsRun{}, err
	}
	owedA := int64(0)
	if withBacklog {
		events := (b.cfg.TenantsBacklog + tenantsWebhooksA - 1) / tenantsWebhooksA
		if err := c.prefillNamespace(ctx, "a", events, b.cfg.Payload); err != nil {
			return TenantsRun{}, err
		}
		owedA = int64(events * tenantsWebhooksA)
	}
	if err := c.start(ctx); err != nil {
		return TenantsRun{}, err
	}
	if withBacklog {
		// The backlog is deliveries owed: A's events fanned out, which the
		// engine does first thing.
		if err := b.awaitFanout(ctx, c, "a", owedA); err != nil {
			return TenantsRun{}, err
		}
	}
	push := func(ctx context.Context) error {
		_, err := eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "b", Name: eventName, Payload: payload(b.cfg.Payload, since())})
		return err
	}
	before := c.poolCounters()
	p := &pacer{rate: float64(b.cfg.TenantsRate), conc: latencyPushers}
	start := time.Now()
	b.prog.track(timeTracker(start, b.cfg.TenantsDuration, func() string {
		return fmt.Sprintf("B: %d pushed, %d received; A: %d of %d received", p.issued.Load(), recvB.received.Load(), recvA.received.Load(), owedA)
	}))
	aBefore := recvA.received.Load()
	if err := p.run(ctx, b.cfg.TenantsDuration, push); err != nil {
		return TenantsRun{}, err
	}
	pushed := time.Since(start)
	aReceived := recvA.received.Load() - aBefore
	want := p.issued.Load()
	waitErr := waitReceived(ctx, recvB, want, latencyDrain)
	if ctx.Err() != nil {
		return TenantsRun{}, ctx.Err()
	}
	for _, r := range []*receiver{recvA, recvB} {
		if err := r.err(); err != nil {
			return TenantsRun{}, err
		}
	}
	run := TenantsRun{
		Seconds:   pushed.Seconds(),
		Achieved:  float64(want) / pushed.Seconds(),
		Late:      want - recvB.received.Load(),
		Delivery:  quantilesOf(recvB.takeLatencies()),
		AReceived: aReceived,
		ARate:     float64(aReceived) / pushed.Seconds(),
		AOwed:     owedA - recvA.received.Load(),
	}
	if waitErr != nil && run.Late == 0 {
		return TenantsRun{}, waitErr
	}
	if run.Stages, err = tenantsStages(ctx, c, run.Delivery.Count); err != nil {
		return TenantsRun{}, err
	}
	step := "fair sharing, B alone"
	if withBacklog {
		step = "fair sharing, B with A's backlog"
	}
	return run, b.diagnose(ctx, step, c, before)
}

// tenantsStages reads the stages of namespace B's first attempts from the
// events, deliveries, attempts and River jobs of cluster c, once want
// attempts are recorded (a receiver has a delivery a moment before its
// attempt is written), or as many as are after a few seconds.
func tenantsStages(ctx context.Context, c *cluster, want int) (TenantsStages, error) {
	table := func(name string) string { return pgx.Identifier{c.schema, name}.Sanitize() }
	query := `
SELECT d.created_at - e.created_at, j.created_at - d.created_at, j.attempted_at - j.created_at, a.started_at - j.attempted_at
FROM ` + table("sparrow_event") + ` e
JOIN ` + table("sparrow_delivery") + ` d ON d.event_id = e.id
JOIN ` + table("sparrow_delivery_attempt") + ` a ON a.delivery_id = d.id AND a.attempt = 1
JOIN ` + table("river_job") + ` j ON j.kind = $2 AND j.args->>'webhook_id' = d.webhook_id
    AND d.id = ANY(string_to_array(j.args->>'delivery_ids', ','))
WHERE e.namespace = $1`
	var wait, fanout, fetch, start []time.Duration
	for deadline := time.Now().Add(5 * time.Second); ; {
		rows, err := c.pools[0].Query(ctx, query, "b", riverworkers.DeliverArgs{}.Kind())
		if err != nil {
			return TenantsStages{}, fmt.Errorf("B's stages: %w", err)
		}
		wait, fanout, fetch, start = nil, nil, nil, nil
		var w, f, fe, st time.Duration
		_, err = pgx.ForEachRow(rows, []any{&w, &f, &fe, &st}, func() error {
			wait, fanout, fetch, start = append(wait, w), append(fanout, f), append(fetch, fe), append(start, st)
			return nil
		})
		if err != nil {
			return TenantsStages{}, fmt.Errorf("B's stages: %w", err)
		}
		if len(wait) >= want || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return TenantsStages{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return TenantsStages{FanoutWait: quantilesOf(wait), Fanout: quantilesOf(fanout), Fetch: quantilesOf(fetch), Start: quantilesOf(start)}, nil
}

// judgeTenants judges the fair-sharing target. A run in which B fell
// behind its offered rate, or A's backlog ran out while B pushed, is
// inconclusive.
func (r *Results) judgeTenants() {
	t := r.Tenants
	if t == nil {
		return
	}
	var notes []string
	for _, run := range []struct {
		name string
		r    TenantsRun
	}{{"A", t.Alone}, {"B", t.Shared}} {
		if run.r.Achieved < 0.95*t.Offered {
			notes = append(notes, fmt.Sprintf("%s pushed %s of %s events/s offered", run.name, thousands(run.r.Achieved), thousands(t.Offered)))
		}
		if run.r.Late > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d of B's deliveries not received within the drain time", run.name, run.r.Late))
		}
	}
	if t.Shared.AOwed <= 0 {
		notes = append(notes, "A's backlog ran out before B's pushes ended: raise -tenants-backlog")
	}
	n := len(r.Targets)
	r.ceiling("namespace B's p99 with A's backlog / alone", "tenants_b_p99_shared", "tenants_b_p99", 2)
	if len(r.Targets) > n && len(notes) > 0 {
		r.Targets[n].Met = false
		r.Targets[n].Note = "inconclusive: " + strings.Join(notes, "; ")
	}
}

// awaitFanout waits until namespace holds want deliveries.
func (b *bench) awaitFanout(ctx context.Context, c *cluster, namespace string, want int64) error {
	table := pgx.Identifier{c.schema, "sparrow_delivery"}.Sanitize()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var n int64
		if err := b.db.admin.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE namespace = $1", namespace).Scan(&n); err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s's events fanned out to %d of %d deliveries in 2 minutes", namespace, n, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
