package sparrow_test

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/webhook"
)

const recoverKind = "sparrow_recover"

// waitRecovery polls a recovery until it has ended, and returns it.
func (b *testBundle) waitRecovery(t *testing.T, namespace, id string) *webhook.Recovery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := b.eng.GetRecovery(context.Background(), namespace, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != webhook.RecoveryRunning {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery %s still running: %d of %d done", id, r.Done, r.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recover starts a recovery and fails the test on an error.
func (b *testBundle) recover(t *testing.T, p sparrow.RecoverWebhookParams) *webhook.Recovery {
	t.Helper()
	r, err := b.eng.RecoverWebhook(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// progress is what a test compares of a recovery.
type progress struct {
	Status              webhook.RecoveryStatus
	Total, Done, Resent int64
}

func progressOf(r *webhook.Recovery) progress { return progress{r.Status, r.Total, r.Done, r.Resent} }

// eventCounts counts the requests received per event id.
func eventCounts(reqs []receivedRequest) map[string]int {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[r.EventID]++
	}
	return counts
}

// TestRecoverWebhook has a receiver fail for a while, and events pushed
// while the webhook did not subscribe to their type: once the receiver is
// back, a recovery re-sends exactly the events the webhook did not receive,
// through its subscriptions and their filters as they are now, each once
// and as a new delivery; a second recovery finds nothing left to send.
func TestRecoverWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	var healthy atomic.Bool
	healthy.Store(true)
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusNotFound) // not retried: fails at once
		}
	})
	other := newReceiver(t, nil)
	b.registerEvent(t, "order.created", "order.paid", "order.shipped", "user.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	bystander := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: other.URL, Events: []string{"order.created", "order.paid"}})
	since := time.Now()
	push := func(name string, labels map[string]string) string {
		t.Helper()
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: name, Payload: []byte(`{"n":1}`), Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}

	received := push("order.created", nil)
	rcv.waitRequests(t, 1)
	healthy.Store(false)
	var failed []string
	for range 3 {
		id := push("order.created", nil)
		for _, d := range b.waitDeliveries(t, "default", id, 2) {
			if d.WebhookID == w.ID {
				b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
			}
		}
		failed = append(failed, id)
	}
	// Pushed before the webhook subscribed to their type: the recovery
	// takes the subscriptions as they are now, and its label filter.
	paidEU := push("order.paid", map[string]string{"region": "eu"})
	paidUS := push("order.paid", map[string]string{"region": "us"})
	push("user.created", nil)  // a type it never subscribes to
	push("order.shipped", nil) // a type it subscribes to switched off
	b.waitFannedOut(t, paidEU, paidUS)
	for _, sub := range []sparrow.CreateSubscriptionParams{
		{WebhookID: w.ID, EventName: "order.paid", LabelFilter: map[string]string{"region": "eu"}},
		{WebhookID: w.ID, EventName: "order.shipped", Inactive: true},
	} {
		if _, err := b.eng.CreateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	other.waitRequests(t, 6)
	healthy.Store(true)

	r := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	if !ids.Valid(ids.Recovery, r.ID) || r.WebhookID != w.ID || r.Namespace != "default" || !r.Since.Equal(since.Truncate(time.Microsecond)) ||
		!r.Until.IsZero() || r.CreatedAt.IsZero() {
		t.Fatalf("recovery as started: %+v", r)
	}
	r = b.waitRecovery(t, "default", r.ID)
	// Considered: the four order.created and the two order.paid; re-sent:
	// the three that failed and the paid one in the filter.
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 6, 6, 4}, progressOf(r)); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}
	reqs := rcv.waitRequests(t, 1+3+4)
	want := map[string]int{received: 1, failed[0]: 2, failed[1]: 2, failed[2]: 2, paidEU: 1}
	if diff := cmp.Diff(want, eventCounts(reqs)); diff != "" {
		t.Fatalf("requests per event (-want +got):\n%s", diff)
	}
	// Each re-send is a new delivery: the failed one stays as it was.
	for _, id := range failed {
		ds := b.waitDeliveries(t, "default", id, 3)
		var statuses []string
		for _, d := range ds {
			if d.WebhookID == w.ID {
				statuses = append(statuses, string(b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() }).Status))
			}
		}
		slices.Sort(statuses)
		if diff := cmp.Diff([]string{"failed", "succeeded"}, statuses); diff != "" {
			t.Errorf("event %s: deliveries to the webhook (-want +got):\n%s", id, diff)
		}
	}

	// Everything received now: a second recovery re-sends nothing.
	again := b.waitRecovery(t, "default", b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since}).ID)
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 6, 6, 0}, progressOf(again)); diff != "" {
		t.Fatalf("second recovery (-want +got):\n%s", diff)
	}
	// The bystander got nothing more.
	bystanderDeliveries, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: bystander.ID, Limit: 100})
	if err != nil || len(bystanderDeliveries.Items) != 6 {
		t.Fatalf("the bystander has %d deliveries (%v), want its 6", len(bystanderDeliveries.Items), err)
	}

	page, err := b.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{WebhookID: w.ID, Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != again.ID || page.NextCursor == "" {
		t.Fatalf("first page: %+v (%v), want the newest recovery and a cursor", page, err)
	}
	page, err = b.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{WebhookID: w.ID, Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != r.ID {
		t.Fatalf("second page: %+v (%v), want the first recovery", page, err)
	}
	for _, p := range []sparrow.ListRecoveriesParams{{WebhookID: bystander.ID}, {Namespace: "other"}} {
		if page, err := b.eng.ListRecoveries(ctx, p); err != nil || len(page.Items) != 0 {
			t.Errorf("%+v lists %d recoveries (%v), want none", p, len(page.Items), err)
		}
	}
}

// TestRecoverWebhookRange re-sends only the events pushed in [since, until).
func TestRecoverWebhookRange(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	var healthy atomic.Bool
	rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	var evs []string
	var at []time.Time
	for range 4 {
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusFailed))
		evs, at = append(evs, ev.ID), append(at, ev.CreatedAt)
	}
	healthy.Store(true)

	r := b.waitRecovery(t, "default", b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: at[1], Until: at[3]}).ID)
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 2, 2, 2}, progressOf(r)); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}
	if !r.Until.Equal(at[3]) {
		t.Errorf("until %v, want %v", r.Until, at[3])
	}
	reqs := rcv.waitRequests(t, 4+2)
	if diff := cmp.Diff(map[string]int{evs[0]: 1, evs[1]: 2, evs[2]: 2, evs[3]: 1}, eventCounts(reqs)); diff != "" {
		t.Fatalf("requests per event (-want +got):\n%s", diff)
	}
}

// TestRecoverWebhookLeavesPendingAlone finds a delivery of the range still
// under way (waiting for its paused webhook): it is on its way, so the
// recovery considers the event and sends it nothing.
func TestRecoverWebhookLeavesPendingAlone(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Inactive: true})
	since := time.Now()
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
	b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Waiting })

	r := b.waitRecovery(t, "default", b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since}).ID)
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 1, 1, 0}, progressOf(r)); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}
	if _, err := b.eng.ResumeWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	if ds := b.waitDeliveries(t, "default", ev.ID, 1); len(ds) != 1 {
		t.Fatalf("%d deliveries of the event, want the one pending", len(ds))
	}
}

// TestRecoverWebhookWaitsForFanout starts a recovery over events not yet
// fanned out (the engine not started): it waits until their fan-out has
// made their deliveries, finds them under way, and re-sends nothing.
func TestRecoverWebhookWaitsForFanout(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	since := time.Now()
	for range 3 {
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	b.start(t)
	r = b.waitRecovery(t, "default", r.ID)
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 3, 3, 0}, progressOf(r)); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}
	reqs := rcv.waitRequests(t, 3)
	if n := b.countWhere(t, "sparrow_delivery", "webhook_id = $1", w.ID); n != 3 || len(eventCounts(reqs)) != 3 {
		t.Fatalf("%d deliveries, requests per event %v; want one each for 3 events", n, eventCounts(reqs))
	}
}

// TestRecoverWebhookTwice starts a recovery twice while it runs (the
// engine not started): the second call returns the first and schedules
// nothing; another range is another recovery; once ended, the same range
// starts anew.
func TestRecoverWebhookTwice(t *testing.T) {
	t.Parallel()

	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	since := time.Now().Add(-time.Minute)
	first := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	second := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("second start (-first +second):\n%s", diff)
	}
	if n := b.countJobs(t, recoverKind); n != 1 {
		t.Fatalf("%d recovery jobs, want 1", n)
	}
	until := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since, Until: time.Now()})
	if until.ID == first.ID {
		t.Fatal("a recovery with an until is the one without")
	}

	b.start(t)
	for _, r := range []*webhook.Recovery{first, until} {
		if got := b.waitRecovery(t, "default", r.ID); got.Status != webhook.RecoverySucceeded {
			t.Fatalf("recovery %s: %+v", r.ID, got)
		}
	}
	third := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	if third.ID == first.ID || third.Status != webhook.RecoveryRunning {
		t.Fatalf("after the first ended, the same range gave %+v", third)
	}
}

// TestCancelRecoveryBeforeItRuns cancels a recovery whose first batch has
// not run: the batch finds it cancelled and sends nothing.
func TestCancelRecoveryBeforeItRuns(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	since := time.Now()
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	r := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since})
	for range 2 { // cancelling a cancelled recovery changes nothing
		cancelled, err := b.eng.CancelRecovery(ctx, "default", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(progress{Status: webhook.RecoveryCancelled}, progressOf(cancelled)); diff != "" {
			t.Fatalf("cancelled (-want +got):\n%s", diff)
		}
	}
	b.start(t)
	b.waitJobsDone(t, recoverKind, 1)
	got, err := b.eng.GetRecovery(ctx, "default", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(progress{Status: webhook.RecoveryCancelled}, progressOf(got)); diff != "" {
		t.Fatalf("after its job ran (-want +got):\n%s", diff)
	}
	if n := b.count(t, "sparrow_delivery"); n != 0 {
		t.Fatalf("%d deliveries, want none", n)
	}
}

// TestCancelRecoveryMidway cancels a recovery of one event per batch while
// it runs: no batch runs after, and the deliveries it made go out.
func TestCancelRecoveryMidway(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	since := time.Now()
	// Pushed before the webhook exists: none was delivered to it.
	const events = 200
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
	}
	pushed, err := b.eng.PushEvents(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	b.waitFannedOut(t, pushed[0].ID, pushed[events-1].ID)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})

	r := b.recover(t, sparrow.WithRecoverBatchSize(sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since}, 1))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		got, err := b.eng.GetRecovery(ctx, "default", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recovery did no batch")
		}
	}
	cancelled, err := b.eng.CancelRecovery(ctx, "default", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.waitJobsIdle(t, recoverKind)
	got, err := b.eng.GetRecovery(ctx, "default", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != webhook.RecoveryCancelled || got.Total != events || got.Done >= events || got.Resent != got.Done {
		t.Fatalf("after cancelling: %+v, want cancelled with some of %d events done and re-sent", got, events)
	}
	// A batch that held the recovery when the cancel came committed first,
	// and the cancel returns its progress; no batch ran after.
	if got.Done != cancelled.Done {
		t.Fatalf("%d events done after the cancel, %d at the cancel", got.Done, cancelled.Done)
	}
	if n := b.countWhere(t, "sparrow_delivery", "webhook_id = $1", w.ID); int64(n) != got.Resent {
		t.Fatalf("%d deliveries to the webhook, want the %d re-sent", n, got.Resent)
	}
	if reqs := rcv.waitRequests(t, int(got.Resent)); len(eventCounts(reqs)) != int(got.Resent) {
		t.Fatalf("%d requests for %d events, want one each", len(reqs), len(eventCounts(reqs)))
	}
}

// TestRecoveryBatchRunTwice runs a recovery's batch jobs twice, as River
// does when a process dies between a job's commit and its completion:
// while the recovery runs, and after it has ended. The second run of a
// batch finds it done, and nothing is sent twice.
func TestRecoveryBatchRunTwice(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	since := time.Now()
	for range 3 {
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	r := b.recover(t, sparrow.WithRecoverBatchSize(sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: since}, 1))
	inserter, err := river.NewClient(riverpgxv5.New(b.pool), &river.Config{Schema: b.schema})
	if err != nil {
		t.Fatal(err)
	}
	runAgain := func(batch int) {
		t.Helper()
		if _, err := inserter.Insert(ctx, riverworkers.RecoverArgs{RecoveryID: r.ID, Batch: batch, BatchSize: 1},
			&river.InsertOpts{Queue: sparrow.QueueDefault}); err != nil {
			t.Fatal(err)
		}
	}
	runAgain(0) // beside the first batch's own job

	b.start(t)
	r = b.waitRecovery(t, "default", r.ID)
	if diff := cmp.Diff(progress{webhook.RecoverySucceeded, 3, 3, 3}, progressOf(r)); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}
	b.waitJobsIdle(t, recoverKind)
	// Batches 0 to 2 of one event each, batch 3 finding none, and the one
	// run twice, which found its batch done and started no second chain.
	var batches []int
	if err := b.pool.QueryRow(ctx, "SELECT array_agg((args->>'batch')::int ORDER BY (args->>'batch')::int) FROM "+
		pgx.Identifier{b.schema, "river_job"}.Sanitize()+" WHERE kind = $1", recoverKind).Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 0, 1, 2, 3}, batches); diff != "" {
		t.Fatalf("recovery jobs' batches (-want +got):\n%s", diff)
	}
	runAgain(1)
	b.waitJobsDone(t, recoverKind, 6)
	again, err := b.eng.GetRecovery(ctx, "default", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(progressOf(r), progressOf(again)); diff != "" {
		t.Fatalf("after a batch ran again (-before +after):\n%s", diff)
	}
	if n := b.countWhere(t, "sparrow_delivery", "webhook_id = $1", w.ID); n != 3 {
		t.Fatalf("%d deliveries, want 3", n)
	}
	if reqs := rcv.waitRequests(t, 3); len(eventCounts(reqs)) != 3 {
		t.Fatalf("requests per event: %v, want one for each of 3", eventCounts(reqs))
	}
}

// TestRecoveryOfDeletedWebhook fails a recovery whose webhook is deleted
// before its batch runs.
func TestRecoveryOfDeletedWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	r := b.recover(t, sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: time.Now().Add(-time.Minute)})
	if err := b.eng.DeleteWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	r = b.waitRecovery(t, "default", r.ID)
	if r.Status != webhook.RecoveryFailed || r.Error == "" {
		t.Fatalf("recovery of a deleted webhook: %+v, want failed with a reason", r)
	}
	_, err := b.eng.CancelRecovery(ctx, "default", r.ID)
	wantErr(t, err, sparrow.ErrFailedPrecondition)
}

// TestRecoveryRetention deletes ended recoveries with the rest of the
// history past its retention.
func TestRecoveryRetention(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const day = 24 * time.Hour
	clock := newTestClock()
	b := setup(t, sparrow.WithClock(clock.Now), sparrow.WithRetention(7*day), sparrow.WithNamespaceRetention("audit", 0))
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	var rs []*webhook.Recovery
	for _, ns := range []string{"default", "audit"} {
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: ns, URL: rcv.URL, Events: []string{"order.created"}})
		rs = append(rs, b.waitRecovery(t, ns, b.recover(t, sparrow.RecoverWebhookParams{Namespace: ns, WebhookID: w.ID, Since: clock.Now().Add(-day)}).ID))
	}
	clock.Advance(8 * day)
	b.runRetention(t)
	_, err := b.eng.GetRecovery(ctx, "default", rs[0].ID)
	wantErr(t, err, sparrow.ErrNotFound)
	if _, err := b.eng.GetRecovery(ctx, "audit", rs[1].ID); err != nil {
		t.Fatalf("audit keeps its history forever: %v", err)
	}
}

// TestRecoverWebhookInvalid refuses each bad input naming its field, and
// starts nothing.
func TestRecoverWebhookInvalid(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithRetention(7*24*time.Hour))
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	elsewhere := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "other", URL: rcv.URL, Events: []string{"order.created"}})
	now := time.Now()
	hour := now.Add(-time.Hour)
	for _, c := range []struct {
		name  string
		p     sparrow.RecoverWebhookParams
		field string
	}{
		{"NoWebhook", sparrow.RecoverWebhookParams{Since: hour}, "webhook_id"},
		{"BadWebhookID", sparrow.RecoverWebhookParams{WebhookID: "sub_x", Since: hour}, "webhook_id"},
		{"BadNamespace", sparrow.RecoverWebhookParams{Namespace: "no spaces", WebhookID: w.ID, Since: hour}, "namespace"},
		{"NoSince", sparrow.RecoverWebhookParams{WebhookID: w.ID}, "since"},
		{"SinceInTheFuture", sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: now.Add(time.Hour)}, "since"},
		{"SincePastRetention", sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: now.Add(-8 * 24 * time.Hour)}, "since"},
		{"UntilBeforeSince", sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: hour, Until: hour.Add(-time.Second)}, "until"},
		{"UntilAtSince", sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: hour, Until: hour}, "until"},
		{"UntilInTheFuture", sparrow.RecoverWebhookParams{WebhookID: w.ID, Since: hour, Until: now.Add(time.Hour)}, "until"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.eng.RecoverWebhook(ctx, c.p)
			wantInvalid(t, err, c.field)
		})
	}
	for name, p := range map[string]sparrow.RecoverWebhookParams{
		"UnknownWebhook":   {WebhookID: ids.New(ids.Webhook), Since: hour},
		"AnotherNamespace": {WebhookID: elsewhere.ID, Since: hour},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := b.eng.RecoverWebhook(ctx, p)
			wantErr(t, err, sparrow.ErrNotFound)
		})
	}
	if n := b.count(t, "sparrow_recovery"); n != 0 {
		t.Fatalf("%d recoveries stored, want none", n)
	}
	if n := b.countJobs(t, recoverKind); n != 0 {
		t.Fatalf("%d recovery jobs, want none", n)
	}
}

// TestRecoveryInvalid refuses bad references to recoveries, and a
// recovery of another namespace is not found.
func TestRecoveryInvalid(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "shop", URL: rcv.URL, Events: []string{"order.created"}})
	r := b.recover(t, sparrow.RecoverWebhookParams{Namespace: "shop", WebhookID: w.ID, Since: time.Now().Add(-time.Minute)})

	for _, id := range []string{"", "rcv_nope", w.ID} {
		_, err := b.eng.GetRecovery(ctx, "shop", id)
		wantInvalid(t, err, "recovery_id")
		_, err = b.eng.CancelRecovery(ctx, "shop", id)
		wantInvalid(t, err, "recovery_id")
	}
	for _, ref := range []struct{ namespace, id string }{{"shop", ids.New(ids.Recovery)}, {"default", r.ID}} {
		_, err := b.eng.GetRecovery(ctx, ref.namespace, ref.id)
		wantErr(t, err, sparrow.ErrNotFound)
		_, err = b.eng.CancelRecovery(ctx, ref.namespace, ref.id)
		wantErr(t, err, sparrow.ErrNotFound)
	}
	_, err := b.eng.GetRecovery(ctx, "no spaces", r.ID)
	wantInvalid(t, err, "namespace")

	for _, c := range []struct {
		p     sparrow.ListRecoveriesParams
		field string
	}{
		{sparrow.ListRecoveriesParams{Namespace: "no spaces"}, "namespace"},
		{sparrow.ListRecoveriesParams{Limit: 101}, "limit"},
		{sparrow.ListRecoveriesParams{Limit: -1}, "limit"},
		{sparrow.ListRecoveriesParams{Cursor: "not a cursor!"}, "cursor"},
		{sparrow.ListRecoveriesParams{WebhookID: "wh_nope"}, "webhook_id"},
	} {
		_, err := b.eng.ListRecoveries(ctx, c.p)
		wantInvalid(t, err, c.field)
	}
	_, err = b.eng.RecoverWebhookTx(ctx, nil, sparrow.RecoverWebhookParams{Namespace: "shop", WebhookID: w.ID, Since: time.Now()})
	wantInvalid(t, err, "tx")
	_, err = b.eng.CancelRecoveryTx(ctx, nil, "shop", r.ID)
	wantInvalid(t, err, "tx")

	// None of it touched the recovery.
	got, err := b.eng.GetRecovery(ctx, "shop", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Fatalf("recovery changed (-before +after):\n%s", diff)
	}
}
