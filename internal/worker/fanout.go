package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/subscription"
)

// maxFanouts is how many fan-out jobs run their transactions at once in a
// process. A burst of batches fanned out all at once shares the cores among
// them, and none commits (nor starts its deliveries) until nearly all are
// done: measured, 60 batches of 1,000 events delivered nothing for 4 s. A
// few at a time, the first deliveries go out while the rest are fanned out,
// and the jobs waiting here hold no connection. The fan-out queue's poller,
// one per process, does not wait here: single pushes don't queue behind a
// burst of batches.
const maxFanouts = 2

// fanoutWait bounds a fan-out job's wait for its turn, well within River's
// job timeout; past it the job snoozes, which spends no attempt.
const fanoutWait = 10 * time.Second

// fanoutWorker turns the events a job lists into deliveries: one per active
// subscription of a live webhook whose label and payload filters the event
// passes, each with a delivery job, in transactions that each claim their
// events' fan-out round (see fanoutFirstChunk). Batches of pushed events,
// repushes and Sparrow's alerts come this way; single pushes come through
// the fan-out queue (fanoutqueue.go).
type fanoutWorker struct {
	river.WorkerDefaults[riverworkers.FanoutArgs]
	db       database
	fanOuter *fanOuter
	// turns bounds the fan-out jobs running their transactions at once in
	// this process (see maxFanouts).
	turns   *semaphore.Weighted
	now     func() time.Time
	logger  *slog.Logger
	tracer  trace.Tracer
	clients *clients
}

func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[riverworkers.FanoutArgs]) (err error) {
	client, err := w.clients.fromJob(ctx)
	if err != nil {
		return err
	}
	ctx, span := w.tracer.Start(telemetry.FromJob(ctx, job.Metadata), "sparrow.fanout",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(telemetry.AttrEventCount.Int(len(job.Args.EventIDs))))
	defer func() { endSpan(span, err) }()
	release, err := fanoutTurn(ctx, w.turns, fanoutWait)
	if err != nil {
		return err
	}
	defer release()
	total := 0
	defer func() { span.SetAttributes(telemetry.AttrDeliveries.Int(total)) }()
	for rest, size := job.Args.EventIDs, fanoutFirstChunk; len(rest) > 0; {
		chunk := rest[:min(size, len(rest))]
		rest = rest[len(chunk):]
		now := w.now()
		var claimed int
		var created []*delivery.Delivery
		err = w.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
			events, err := store.EventClaimFanout(ctx, db, chunk, job.Args.Round, now)
			if err != nil {
				return err
			}
			claimed = len(events)
			created, err = w.fanOuter.fanOut(ctx, tx, client, events, job.Args.Round, now)
			return err
		})
		if err != nil {
			return err
		}
		w.fanOuter.counted(ctx, created)
		total += len(created)
		size = nextFanoutChunk(size, claimed, len(created))
		w.logger.DebugContext(ctx, "sparrow: fanned out", slog.Any("event_ids", chunk), slog.Int("deliveries", len(created)))
	}
	return nil
}

// A fan-out job takes its events in chunks, a transaction each: a crash
// between two loses nothing, as each chunk claims its own events and the
// job's next run takes only those not claimed. The first chunk is small,
// so that a batch's first deliveries go out while the rest is fanned out
// (1,000 events to 10 webhooks in one transaction kept the first delivery
// waiting 0.67 s; in chunks, 0.2 s). Later chunks create about
// fanoutChunkDeliveries deliveries each. No chunk takes fewer than
// fanoutFirstChunk events, one more than bulkJobDeliveries, so that a
// batch's jobs to a webhook that takes all its events go at a backlog's
// priority.
const (
	fanoutFirstChunk      = bulkJobDeliveries + 1
	fanoutChunkDeliveries = 5000
)

// nextFanoutChunk sizes the chunk that follows one of size events: claimed
// is how many of them this run claimed (an earlier run of the job took the
// rest), deliveries how many deliveries those made.
func nextFanoutChunk(size, claimed, deliveries int) int {
	switch {
	case claimed == 0:
		return size
	case deliveries == 0:
		return math.MaxInt // no subscriber: nothing to write but the claims
	}
	return max(fanoutFirstChunk, claimed*fanoutChunkDeliveries/deliveries)
}

// fanoutTurn waits up to wait for one of the process's fan-out places, and
// returns its release; a job that waits longer snoozes (spending no
// attempt) rather than run into River's timeout.
func fanoutTurn(ctx context.Context, places *semaphore.Weighted, wait time.Duration) (release func(), err error) {
	waitCtx, stopWaiting := context.WithTimeout(ctx, wait)
	defer stopWaiting()
	if places.Acquire(waitCtx, 1) != nil {
		return nil, river.JobSnooze(time.Second)
	}
	return func() { places.Release(1) }, nil
}

// fanOuter turns events into deliveries, for fan-out jobs and the fan-out
// queue's poller alike.
type fanOuter struct {
	db        database
	queue     string
	templates *templateCache
	counter   *counter
	logger    *slog.Logger
}

// fanOut creates, in tx, the deliveries of fan-out round `round` of events
// and the jobs of those that are to be sent, and returns the deliveries.
func (b *fanOuter) fanOut(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], events []*event.Event, round int, now time.Time) ([]*delivery.Delivery, error) {
	if len(events) == 0 {
		return nil, nil
	}
	db := b.db.schema.On(tx)
	if round == 0 {
		// An event with an ordering key takes its turn behind the key's
		// earlier events; later ones deferred wait for it.
		var err error
		if events, err = store.OrderingAdmit(ctx, db, events); err != nil {
			return nil, err
		}
	}
	var namespaces, names []string
	seen := map[[2]string]bool{}
	for _, ev := range events {
		if pair := [2]string{ev.Namespace, ev.Name}; !seen[pair] {
			seen[pair] = true
			namespaces, names = append(namespaces, ev.Namespace), append(names, ev.Name)
		}
	}
	targets, err := store.SubscriptionListSubscribers(ctx, db, namespaces, names)
	if err != nil {
		return nil, err
	}
	deliveries := b.deliveries(events, targets, round, now)
	return deliveries, b.insert(ctx, tx, db, client, deliveries, now)
}

// insert writes deliveries, links those of ordering keys to the one before
// each, and gives the ones due now their jobs, in the caller's transaction.
func (b *fanOuter) insert(ctx context.Context, tx pgx.Tx, db dbutil.DB, client *river.Client[pgx.Tx], deliveries []*delivery.Delivery, now time.Time) error {
	if len(deliveries) == 0 {
		return nil
	}
	links, err := store.OrderingPlan(ctx, db, deliveries)
	if err != nil {
		return err
	}
	if err := store.DeliveryInsertMany(ctx, db, deliveries); err != nil {
		return err
	}
	if err := store.OrderingLink(ctx, db, links, now); err != nil {
		return err
	}
	var pending []store.DeliveryRef
	for _, d := range deliveries {
		// Ended at birth (expired, failed template), or waiting for the one
		// before it of its ordering key: no job yet.
		if !d.Status.Final() && d.WaitsFor == "" {
			pending = append(pending, store.DeliveryRef{ID: d.ID, WebhookID: d.WebhookID, Namespace: d.Namespace})
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if _, err := client.InsertManyFastTx(ctx, tx, DeliverJobs(ctx, b.queue, pending, time.Time{})); err != nil {
		return fmt.Errorf("insert delivery jobs: %w", err)
	}
	return nil
}

// fannedOut reports deliveries a committed fan-out created on its span, and
// counts those that ended at birth.
func (b *fanOuter) fannedOut(ctx context.Context, span trace.Span, created []*delivery.Delivery) {
	span.SetAttributes(telemetry.AttrDeliveries.Int(len(created)))
	b.counted(ctx, created)
}

// counted counts the deliveries of created that ended at birth as delivery
// outcomes.
func (b *fanOuter) counted(ctx context.Context, created []*delivery.Delivery) {
	for _, d := range created {
		if d.Status.Final() {
			b.counter.delivery(ctx, d.Status, d.LastErrorClass)
		}
	}
}

// deliveries builds the deliveries of fan-out round `round` of events to
// targets, in events' order; some end at birth (expired event, failed
// template).
func (b *fanOuter) deliveries(events []*event.Event, targets []store.Subscriber, round int, now time.Time) []*delivery.Delivery {
	type key struct{ namespace, name string }
	byEvent := map[key][]*store.Subscriber{}
	for i := range targets {
		t := &targets[i]
		byEvent[key{t.Namespace, t.EventName}] = append(byEvent[key{t.Namespace, t.EventName}], t)
	}
	var out []*delivery.Delivery
	for _, ev := range events {
		var in *subscription.FilterInput // decoded for the first payload filter, shared by the rest
		for _, t := range byEvent[key{ev.Namespace, ev.Name}] {
			if !subscribed(t, ev, round) || !b.passes(t, ev, &in) {
				continue
			}
			d := &delivery.Delivery{
				ID:             ids.New(ids.Delivery),
				Namespace:      ev.Namespace,
				WebhookID:      t.WebhookID,
				EventID:        ev.ID,
				EventName:      ev.Name,
				SubscriptionID: t.ID,
				Status:         delivery.StatusPending,
				MaxAttempts:    t.MaxAttempts,
				ExpiresAt:      ev.ExpiresAt,
				NextAttemptAt:  now,
				CreatedAt:      now,
				OrderingKey:    ev.OrderingKey,
			}
			b.shape(d, ev, t.Template, now)
			out = append(out, d)
		}
	}
	return out
}

// subscribed reports whether fan-out round `round` of ev goes to t. An event
// goes to the subscriptions that existed when it was pushed, however late
// fan-out runs; a repush (round 1 on) to those that exist now. Sparrow's
// own events never go to the webhook they concern: a failing webhook must
// not be fed alerts about itself.
func subscribed(t *store.Subscriber, ev *event.Event, round int) bool {
	switch {
	case round == 0 && t.CreatedAt.After(ev.CreatedAt):
		return false
	case event.IsSystem(ev.Name) && ev.Labels[event.LabelWebhookID] == t.WebhookID:
		return false
	}
	return t.Matches(ev.Labels)
}

// passes reports whether ev passes t's payload filter, decoding ev into *in
// for filters if no filter has yet. A filter that fails over ev (spends its
// cost limit, compares a string with a number) keeps ev from t, and is
// logged: it is the subscriber's to fix, and nothing else would tell why
// the event did not come. A field ev lacks is no failure.
func (b *fanOuter) passes(t *store.Subscriber, ev *event.Event, in **subscription.FilterInput) bool {
	if t.Filter == "" {
		return true
	}
	matched, err := matchFilter(t.Filter, ev, in)
	if err != nil {
		b.logger.Warn("sparrow: payload filter failed; the event is not delivered to the subscription",
			slog.String("subscription_id", t.ID), slog.String("event_id", ev.ID), slog.String("namespace", ev.Namespace),
			slog.String("error", err.Error()))
	}
	return matched
}

// matchFilter evaluates filter over ev, setting *in first if it is nil.
// Filters compile once per process (subscription.ParseFilter caches them).
func matchFilter(filter string, ev *event.Event, in **subscription.FilterInput) (bool, error) {
	// Saved filters were validated; one failing here was stored by other
	// means.
	f, err := subscription.ParseFilter("filter", filter)
	if err != nil {
		return false, err
	}
	if *in == nil {
		if *in, err = subscription.NewFilterInput(ev.Payload, ev.Labels); err != nil {
			return false, err
		}
	}
	return f.Match(*in)
}

// shape renders the delivery's body when its subscription has a template,
// and ends at once a delivery that can never be sent.
func (b *fanOuter) shape(d *delivery.Delivery, ev *event.Event, template string, now time.Time) {
	finish := func(status delivery.Status, class delivery.ErrorClass, msg string) {
		d.Status, d.LastErrorClass, d.LastError = status, class, msg
		d.NextAttemptAt, d.CompletedAt = time.Time{}, now
	}
	if !ev.ExpiresAt.IsZero() && !now.Before(ev.ExpiresAt) {
		finish(delivery.StatusExpired, delivery.ClassNone, "")
		return
	}
	if template == "" {
		return
	}
	body, err := b.templates.render(template, ev.Payload)
	if err != nil {
		finish(delivery.StatusFailed, delivery.ClassTransform, err.Error())
		return
	}
	d.Body = json.RawMessage(body)
}
