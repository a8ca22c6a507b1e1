package sparrow_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/internal/worker"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// TestRetention moves an injected clock past the retention and runs the
// retention job: finished history goes, in more than one batch; what is
// still pending, what a namespace keeps longer, and what a kept delivery
// needs stay.
func TestRetention(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const day = 24 * time.Hour
	clock := newTestClock()
	b := setup(t, sparrow.WithClock(clock.Now), sparrow.WithNamespaceRetention("audit", 90*day))
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created", "order.held")
	live := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	gone := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	paused := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.held"}})
	if _, err := b.eng.PauseWebhook(ctx, "default", paused.ID); err != nil {
		t.Fatal(err)
	}
	b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "audit", URL: rcv.URL, Events: []string{"order.created"}})

	// More than one retention batch of deliveries to delete.
	const events = 600
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
	}
	if _, err := b.eng.PushEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []sparrow.PushEventParams{
		{Name: "order.held", Payload: []byte(`{}`)},
		{Namespace: "audit", Name: "order.created", Payload: []byte(`{}`)},
		{Namespace: "audit", Name: "order.created", Payload: []byte(`{}`)},
	} {
		if _, err := b.eng.PushEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	const finished = 2*events + 2
	rcv.waitRequests(t, finished)
	for deadline := time.Now().Add(20 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < finished; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), finished)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.eng.DeleteWebhook(ctx, "default", gone.ID); err != nil {
		t.Fatal(err)
	}
	if 2*events+2 <= worker.RetentionBatch {
		t.Fatal("the test must delete more than one batch")
	}

	clock.Advance(29 * day)
	b.runRetention(t)
	if n := b.count(t, "sparrow_delivery"); n != finished+1 {
		t.Fatalf("%d deliveries left before the retention is up, want all %d", n, finished+1)
	}

	auditEvents := b.countWhere(t, "sparrow_event", "namespace = 'audit'")
	clock.Advance(2 * day)
	b.runRetention(t)
	want := map[string]int{
		"sparrow_delivery":         3, // the parked one and audit's two
		"sparrow_delivery_attempt": 2, // audit's
		"sparrow_webhook":          3, // the deleted one had no delivery left
		// Health history follows the default retention in every namespace.
		"sparrow_webhook_health_bucket": 0,
	}
	for table, n := range want {
		if got := b.count(t, table); got != n {
			t.Errorf("%s: %d rows after the retention, want %d", table, got, n)
		}
	}
	// Left: the parked delivery's event, and audit's (its orders and its
	// webhook's health alerts).
	if got := b.countWhere(t, "sparrow_event", "namespace = 'default'"); got != 1 {
		t.Errorf("%d events left in the default namespace, want the parked delivery's", got)
	}
	if got := b.countWhere(t, "sparrow_event", "namespace = 'audit'"); got != auditEvents || got < 2 {
		t.Errorf("%d of audit's %d events left, want all", got, auditEvents)
	}
	if b.countWhere(t, "sparrow_webhook_health", "webhook_id = $1", gone.ID) != 0 {
		t.Error("the deleted webhook's health row is still there")
	}
	if b.countWhere(t, "sparrow_webhook_secret", "webhook_id = $1", gone.ID) != 0 {
		t.Error("the deleted webhook's secrets are still there")
	}
	page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: live.ID})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("the live webhook lists %d deliveries after the retention (err %v)", len(page.Items), err)
	}

	clock.Advance(60 * day)
	b.runRetention(t)
	if got := b.count(t, "sparrow_delivery"); got != 1 {
		t.Errorf("%d deliveries after audit's retention, want the parked one", got)
	}
	if got := b.countWhere(t, "sparrow_event", "namespace = 'audit'"); got != 0 {
		t.Errorf("%d of audit's events left after its retention, want none", got)
	}
	// Fan-out claims go with their events.
	var claims, orphans int
	if err := b.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
    SELECT 1 FROM %[1]s.sparrow_event e WHERE e.id = f.event_id)) FROM %[1]s.sparrow_event_fanout f`, pgx.Identifier{b.schema}.Sanitize())).Scan(&claims, &orphans); err != nil {
		t.Fatal(err)
	}
	if claims != 1 || orphans != 0 {
		t.Errorf("%d fan-out claims (%d of events gone), want the parked delivery's event's", claims, orphans)
	}
}

// runRetention runs the retention job now and waits for it to finish.
func (b *testBundle) runRetention(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	client := b.eng.RiverClient()
	// The job the engine scheduled at start may still be queued; a new one
	// is unique with it, so wait for the one in place.
	res, err := client.Insert(ctx, riverworkers.RetentionArgs{}, &river.InsertOpts{Queue: sparrow.QueueDefault})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		job, err := client.JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if job.State == rivertype.JobStateCompleted {
			if res.UniqueSkippedAsDuplicate {
				// The finished job ran before this call's clock move: run again.
				b.runRetention(t)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retention job is %s: %v", job.State, job.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countWhere counts the rows of a table of the schema matching cond.
func (b *testBundle) countWhere(t *testing.T, table, cond string, args ...any) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM "+pgx.Identifier{b.schema, table}.Sanitize()+" WHERE "+cond, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionOptions(t *testing.T) {
	t.Parallel()

	for name, opt := range map[string]sparrow.Option{
		"NegativeRetention":          sparrow.WithRetention(-time.Hour),
		"NegativeNamespaceRetention": sparrow.WithNamespaceRetention("audit", -time.Hour),
		"BadNamespace":               sparrow.WithNamespaceRetention("no spaces", time.Hour),
	} {
		if _, err := sparrow.New(pgtest.Pool(t), opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for retention, want := range map[time.Duration]int{0: 1, time.Hour: 2} {
		eng, err := sparrow.New(pgtest.Pool(t), sparrow.WithRetention(retention))
		if err != nil {
			t.Fatal(err)
		}
		cfg := &river.Config{}
		if err := eng.Install(cfg); err != nil {
			t.Fatal(err)
		}
		if jobs := cfg.PeriodicJobs; len(jobs) != want {
			t.Fatalf("retention %v: %d periodic jobs, want %d (the fan-out sweep, and retention unless history is kept forever)", retention, len(jobs), want)
		}
	}
}
