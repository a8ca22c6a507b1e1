package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/webhook"
)

// deliverJobTimeout bounds a delivery job: its wait for the webhook's slots
// (sendBudget), the longest attempt a webhook may allow, and time to read
// and record.
const deliverJobTimeout = sendBudget + webhook.TimeoutMax + 40*time.Second

// bodyChunk is how many attempts a job starts at a time, reading their
// bodies in one query.
const bodyChunk = 8

// wakeTimeout bounds waking a snoozed job, an optimisation a job leaving
// its webhook should not wait long for.
const wakeTimeout = 5 * time.Second

// sendBudget bounds how long a delivery job waits for its webhook's share
// of workers and attempt slots before handing the deliveries it could not
// start to a new job.
const sendBudget = 20 * time.Second

// deliverWorker makes one attempt of each of its deliveries per run, side by
// side within the webhook's concurrency limit. The delivery rows, not the
// job, are the truth: a delivery finished, waiting or already past the
// job's attempt count is left alone. A failed attempt to retry gets a job of
// its own, scheduled for its next attempt and inserted in the transaction
// that records it, so River attempts are spent only when recording fails.
type deliverWorker struct {
	river.WorkerDefaults[riverworkers.DeliverArgs]
	db         database
	queue      string
	policy     retryPolicy
	now        func() time.Time
	logger     *slog.Logger
	inflight   *inflight
	recorder   *recorder
	sender     *delivery.Sender
	secretKeys *secretbox.Keyring
	stopping   func() <-chan struct{}
	telemetry  *telemetry.Telemetry
	counter    *counter
	clients    *clients
}

func (w *deliverWorker) Timeout(*river.Job[riverworkers.DeliverArgs]) time.Duration {
	return deliverJobTimeout
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[riverworkers.DeliverArgs]) error {
	ctx = telemetry.FromJob(ctx, job.Metadata)
	client, err := w.clients.fromJob(ctx)
	if err != nil {
		return err
	}
	if job.Args.DeliveryID != "" && len(job.Args.DeliveryIDs) == 0 {
		ref, err := store.DeliveryGetRef(ctx, w.db.db(), job.Args.DeliveryID)
		if err != nil || ref == nil {
			return err // removed by retention: nothing left to do
		}
		job.Args.WebhookID, job.Args.DeliveryIDs, job.Args.Attempted = ref.WebhookID, riverworkers.IDList{ref.ID}, ref.AttemptCount
	}
	// Waiting for the webhook's slots ends at sendBudget or when the host
	// stops; the attempts themselves run on ctx.
	waitCtx, stopWaiting := context.WithTimeout(ctx, sendBudget)
	defer stopWaiting()
	stop := w.stopping()
	go func() {
		select {
		case <-stop:
			stopWaiting()
		case <-waitCtx.Done():
		}
	}()
	// Admitted before anything is read: a webhook at its limit costs its
	// excess jobs no queries, only a snooze.
	w.inflight.woke(job.Args.Namespace, job.Args.WebhookID, job.ID)
	slots, busy := w.inflight.enter(waitCtx, job.Args.Namespace, job.Args.WebhookID, len(job.Args.DeliveryIDs))
	if slots == nil {
		return w.turnAway(job, busy, stop)
	}
	defer func() { w.wake(ctx, stop, slots.leave()) }()

	now := w.now()
	// A small job reads its bodies at once; a large one as its attempts
	// start, so that its deliveries cost memory only while in flight.
	smallJob := len(job.Args.DeliveryIDs) <= bodyChunk
	// With those the job carries on (see carryOn), should its process have
	// died carrying them.
	target, works, err := store.DeliveryLoadWork(ctx, w.db.db(), job.Args.WebhookID, job.Args.DeliveryIDs, job.ID, smallJob, now)
	if err != nil || target == nil {
		return err // no webhook: removed by retention, nothing left to do
	}
	t := triageJob(target, works, job.Args.Attempted, job.Args.Manual, now)
	if err := errors.Join(w.finish(ctx, client, t.cancelled, delivery.StatusCancelled, now), w.finish(ctx, client, t.expired, delivery.StatusExpired, now),
		w.park(ctx, target.WebhookID, t.parked, now), w.drop(ctx, t.dropped, now)); err != nil {
		return err
	}
	due, early := t.due, t.early
	switch {
	case len(due) == 0 && len(early) == 0:
		return nil
	case len(due) == 0:
		return river.JobSnooze(earliest(early).Sub(now))
	}
	creds, err := w.open(target)
	if err != nil {
		return err
	}
	run := &jobRun{w: w, ctx: ctx, waitCtx: waitCtx, client: client, target: target, creds: creds, slots: slots, jobID: job.ID, manual: job.Args.Manual}
	unstarted, resumeAt := run.attemptAll(due, !smallJob)
	w.wake(ctx, stop, slots.leave())
	if ctx.Err() != nil {
		// Stopped mid-run (shutdown, job cancelled): attempts cut short are
		// not the receivers' doing and were not recorded; the next start
		// runs the job again, and finds what it carries on.
		return river.JobSnooze(0)
	}
	if err := errors.Join(run.errs...); err != nil {
		return err
	}
	switch {
	case len(unstarted) == len(due) && len(early) == 0 && !resumeAt.IsZero():
		return river.JobSnooze(time.Until(resumeAt)) // the webhook's rate: spends no attempt
	case len(unstarted) == len(due) && len(early) == 0:
		return w.turnAway(job, job.Args.WebhookID, stop)
	}
	return w.handOff(ctx, client, job, unstarted, resumeAt, append(early, run.early...), run.left)
}

// jobRun is one run of a delivery job: what its attempts share, and what
// they leave for it to hand off.
type jobRun struct {
	w            *deliverWorker
	ctx, waitCtx context.Context
	client       *river.Client[pgx.Tx]
	target       *store.SendTarget
	creds        *credentials
	slots        *jobSlots
	jobID        int64
	// manual: the job makes manual attempts (those it carries on are
	// automatic).
	manual bool

	mu sync.Mutex
	// errs are the attempts' (recording failed, or reading what to
	// attempt); early and left the deliveries carried on that were not due
	// yet, or found no slot in time.
	errs  []error
	early []*store.DeliveryWork
	left  []store.DeliveryRef
}

func (r *jobRun) fail(err error) {
	if err != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.errs = append(r.errs, err)
	}
}

// turnAway snoozes a job that found no room at its webhook or in its
// namespace's share (busy, see inflight.enter), spending no attempt, for
// about as long as the work ahead of it takes; when the engine stops, until
// the next start.
func (w *deliverWorker) turnAway(job *river.Job[riverworkers.DeliverArgs], busy string, stop <-chan struct{}) error {
	if stopped(stop) {
		return river.JobSnooze(0)
	}
	return river.JobSnooze(w.inflight.snooze(busy, job.ID))
}

// attemptAll attempts due side by side, a few at a time as slots free up
// (waiting for them until waitCtx is done), reading their bodies as they
// start when loadBodies. To a rate-limited webhook each few attempts
// reserve their turns first, shared with every engine, and start at them.
// Each attempt's goroutine then carries on its ordering key (carryOn). It
// returns the deliveries it did not start and, when the webhook's rate
// held them back, when they may start.
func (r *jobRun) attemptAll(due []*store.DeliveryWork, loadBodies bool) (unstarted []*store.DeliveryWork, resumeAt time.Time) {
	ctx, w := r.ctx, r.w
	var attempts sync.WaitGroup
	defer attempts.Wait()
	pace := newPace(r.target.RateLimitPerSecond)
	for i := 0; i < len(due); {
		n := pace.chunk(min(bodyChunk, len(due)-i))
		turns, ok, err := pace.reserve(ctx, w.db.db(), r.target.WebhookID, n)
		if err != nil {
			r.fail(err)
			return nil, time.Time{}
		}
		if !ok {
			return due[i:], turns
		}
		// Slots for a few attempts, then those deliveries' bodies: a body
		// is in memory only while its attempt is in flight.
		sent, recorded, ok := r.slots.acquire(r.waitCtx, n)
		if !ok {
			return due[i:], time.Time{}
		}
		works := due[i : i+len(sent)]
		if loadBodies {
			if err := store.DeliveryLoadBodies(ctx, w.db.db(), works); err != nil {
				for _, done := range recorded {
					done()
				}
				r.fail(err)
				return nil, time.Time{}
			}
		}
		for k, work := range works {
			attempts.Go(func() {
				if !pace.wait(ctx, turns, k) {
					recorded[k]()
					return
				}
				next, err := w.attempt(ctx, r.client, r.target, r.creds, work, r.manual, sent[k], r.jobID)
				recorded[k]()
				r.fail(err)
				r.carryOn(next)
			})
		}
		i += len(sent)
	}
	return nil, time.Time{}
}

// carryOn attempts, one after the other, the deliveries of an ordering key
// that the end of the one before each let go: the job carries them on,
// rather than hand each to a job of its own that would first wait to be
// fetched. One it can't attempt now (no slot before waitCtx is done, a
// rate-limited webhook, not due yet) is left for the job to hand off.
func (r *jobRun) carryOn(works []*store.DeliveryWork) {
	w := r.w
	for len(works) > 0 {
		if r.target.RateLimitPerSecond > 0 || len(works) > 1 {
			r.leave(works)
			return
		}
		sent, recorded, ok := r.slots.acquire(r.waitCtx, 1)
		if !ok {
			r.leave(works)
			return
		}
		now := w.now()
		t := triageJob(r.target, works, 0, false, now)
		r.fail(errors.Join(w.finish(r.ctx, r.client, t.cancelled, delivery.StatusCancelled, now),
			w.finish(r.ctx, r.client, t.expired, delivery.StatusExpired, now), w.park(r.ctx, r.target.WebhookID, t.parked, now)))
		if len(t.early) > 0 {
			r.mu.Lock()
			r.early = append(r.early, t.early...)
			r.mu.Unlock()
		}
		if len(t.due) == 0 {
			recorded[0]()
			return
		}
		var err error
		works, err = w.attempt(r.ctx, r.client, r.target, r.creds, t.due[0], false, sent[0], r.jobID)
		recorded[0]()
		if err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *jobRun) leave(works []*store.DeliveryWork) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, work := range works {
		r.left = append(r.left, work.Ref())
	}
}

// handOff gives the deliveries a job did not attempt jobs of their own (now
// for those that found no free slot, at resumeAt for those the webhook's rate
// held back, when the first is due for those not due yet: a job run early
// hands on the rest again; now for those it carried and had no time left
// for) and completes the job in the same transaction, so that no delivery
// is ever owned by two jobs.
func (w *deliverWorker) handOff(ctx context.Context, client *river.Client[pgx.Tx], job *river.Job[riverworkers.DeliverArgs],
	unstarted []*store.DeliveryWork, resumeAt time.Time, early []*store.DeliveryWork, carriedOn []store.DeliveryRef) error {
	params := DeliverJobs(ctx, w.queue, carriedOn, time.Time{})
	for _, set := range []struct {
		works []*store.DeliveryWork
		at    time.Time
	}{{unstarted, resumeAt}, {early, earliest(early)}} {
		refs := make([]store.DeliveryRef, len(set.works))
		for i, work := range set.works {
			refs[i] = work.Ref()
			refs[i].WebhookID, refs[i].Manual = job.Args.WebhookID, job.Args.Manual
		}
		params = append(params, DeliverJobs(ctx, w.queue, refs, set.at)...)
	}
	if len(params) == 0 {
		return nil
	}
	return w.db.inTx(ctx, func(tx pgx.Tx, _ dbutil.DB) error {
		if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// credentials are what a job opens once for all its attempts.
type credentials struct {
	signer  *delivery.Signer
	headers map[string]string
}

// open opens the webhook's signing secrets and custom headers. Never send a
// delivery that isn't signed as the receiver expects, or that lacks the
// headers it expects (often its credentials): either failing to open fails
// the job, which River retries.
func (w *deliverWorker) open(target *store.SendTarget) (*credentials, error) {
	signer, err := w.signer(target)
	if err != nil {
		return nil, err
	}
	headers, err := secretbox.RevealHeaders(w.secretKeys, target.WebhookID, target.Headers)
	if err != nil {
		return nil, fmt.Errorf("open custom headers: %w", err)
	}
	return &credentials{signer: signer, headers: headers}, nil
}

// signer opens the webhook's secrets, newest first.
func (w *deliverWorker) signer(target *store.SendTarget) (*delivery.Signer, error) {
	secrets := make([]string, 0, len(target.Secrets))
	for _, stored := range target.Secrets {
		secret, err := secretbox.Reveal(w.secretKeys, target.WebhookID, stored)
		if err != nil {
			return nil, fmt.Errorf("open signing secret %s: %w", stored.ID, err)
		}
		secrets = append(secrets, secret)
	}
	return delivery.NewSecretSigner(secrets)
}

// wake makes snoozed delivery job jobID (0: none) due now, the webhook it
// waits for having room for it: River runs it at its next fetch rather than
// at the end of a snooze that overestimated the work ahead. Only a job
// still snoozed is touched (not one run, finished or cancelled since).
func (w *deliverWorker) wake(ctx context.Context, stop <-chan struct{}, jobID int64) {
	if jobID == 0 || stopped(stop) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wakeTimeout)
	defer cancel()
	if err := store.JobWake(ctx, w.db.db(), jobID); err != nil {
		w.logger.WarnContext(ctx, "sparrow: waking a snoozed delivery job", slog.Int64("job_id", jobID), slog.Any("error", err))
	}
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// finish ends deliveries that will never be attempted again.
func (w *deliverWorker) finish(ctx context.Context, client *river.Client[pgx.Tx], works []*store.DeliveryWork, status delivery.Status, now time.Time) error {
	if len(works) == 0 {
		return nil
	}
	var finished []string
	err := w.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
		var err error
		if finished, err = store.DeliveryFinish(ctx, db, workIDs(works), status, now); err != nil {
			return err
		}
		// The next delivery of each one's ordering key may go.
		var ended []store.Ended
		done := make(map[string]bool, len(finished))
		for _, id := range finished {
			done[id] = true
		}
		for _, work := range works {
			if work.OrderingKey != "" && done[work.ID] {
				ended = append(ended, store.Ended{ID: work.ID})
			}
		}
		released, err := store.OrderingRelease(ctx, db, ended, now)
		if err != nil || len(released) == 0 {
			return err
		}
		_, err = client.InsertManyFastTx(ctx, tx, DeliverJobs(ctx, w.queue, refsOf(released), time.Time{}))
		return err
	})
	if err != nil {
		return err
	}
	for range finished {
		w.counter.delivery(ctx, status, delivery.ClassNone)
	}
	if w.logger.Enabled(ctx, slog.LevelDebug) {
		w.logger.DebugContext(ctx, "sparrow: deliveries ended without attempt", slog.Any("delivery_ids", finished),
			slog.String("webhook_id", works[0].WebhookID), slog.String("status", string(status)))
	}
	return nil
}

// park makes deliveries wait for their webhook. If the webhook was resumed
// meanwhile they are left for the job the resumption inserted.
func (w *deliverWorker) park(ctx context.Context, webhookID string, works []*store.DeliveryWork, now time.Time) error {
	if len(works) == 0 {
		return nil
	}
	var parked []string
	err := w.db.inTx(ctx, func(_ pgx.Tx, db dbutil.DB) error {
		var err error
		parked, err = store.DeliveryPark(ctx, db, webhookID, workIDs(works), now)
		return err
	})
	if err == nil && len(parked) > 0 && w.logger.Enabled(ctx, slog.LevelDebug) {
		w.logger.DebugContext(ctx, "sparrow: deliveries wait for their webhook", slog.Any("delivery_ids", parked), slog.String("webhook_id", webhookID))
	}
	return err
}

// drop drops the manual attempts asked for of finished deliveries that their
// webhook can no longer take.
func (w *deliverWorker) drop(ctx context.Context, works []*store.DeliveryWork, now time.Time) error {
	if len(works) == 0 {
		return nil
	}
	if err := store.DeliveryDropRetryRequests(ctx, w.db.db(), workIDs(works), now); err != nil {
		return err
	}
	if w.logger.Enabled(ctx, slog.LevelDebug) {
		w.logger.DebugContext(ctx, "sparrow: manual retries dropped, the webhook can't take them", slog.Any("delivery_ids", workIDs(works)),
			slog.String("webhook_id", works[0].WebhookID))
	}
	return nil
}

func workIDs(works []*store.DeliveryWork) []string {
	ids := make([]string, len(works))
	for i, work := range works {
		ids[i] = work.ID
	}
	return ids
}

// attempt sends one delivery, calls sent once the receiver is done with
// it, and records the outcome: a manual attempt's apart from the automatic
// ones, leaving the attempt limit and schedule as they were. It returns the
// next delivery of its ordering key if the outcome let it go, for job jobID
// to carry on.
func (w *deliverWorker) attempt(ctx context.Context, client *river.Client[pgx.Tx], target *store.SendTarget, creds *credentials, work *store.DeliveryWork,
	manual bool, sent func(), jobID int64) (carriedOn []*store.DeliveryWork, err error) {
	now := w.now()
	// number counts every attempt; the automatic ones alone count against
	// the limit and set the backoff.
	number, automatic := work.Attempted()+1, work.AttemptCount+1
	// A retry's job joins the trace as this attempt's sibling.
	jobCtx := ctx
	ctx, span := w.telemetry.Tracer.Start(ctx, "sparrow.deliver")
	defer func() { endSpan(span, err) }()
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrDeliveryID.String(work.ID), telemetry.AttrWebhookID.String(work.WebhookID),
			telemetry.AttrEventID.String(work.EventID), telemetry.AttrEventName.String(work.EventName),
			telemetry.AttrNamespace.String(work.Namespace), telemetry.AttrAttempt.Int(number))
	}
	res := w.sender.Send(ctx, &delivery.Request{
		URL:        target.URL,
		Body:       work.Body,
		Timeout:    target.Timeout,
		Timestamp:  now,
		DeliveryID: work.ID,
		EventID:    work.EventID,
		EventName:  work.EventName,
		Namespace:  work.Namespace,
		WebhookID:  work.WebhookID,
		Attempt:    number,
		Signer:     creds.signer,
		Headers:    creds.headers,
	})
	sent()
	work.Body = nil // recorded without it
	if ctx.Err() != nil {
		return nil, nil // stopped mid-attempt: not recorded, the job runs again
	}
	rec := &store.AttemptRecord{Attempt: delivery.Attempt{
		DeliveryID:            work.ID,
		Number:                number,
		Manual:                manual,
		WebhookID:             work.WebhookID,
		StartedAt:             res.StartedAt,
		Duration:              res.Duration,
		StatusCode:            res.StatusCode,
		ErrorClass:            res.Class,
		Error:                 res.Err,
		RequestHeaders:        res.RequestHeaders,
		ResponseHeaders:       res.ResponseHeaders,
		ResponseBody:          res.ResponseBody,
		ResponseBodyTruncated: res.ResponseBodyTruncated,
	}}
	o := &outcome{client: client, record: rec, namespace: work.Namespace, orderingKey: work.OrderingKey, gone: res.StatusCode == http.StatusGone}
	if work.OrderingKey != "" {
		o.carrier = jobID
	}
	var v verdict
	if manual {
		v = judgeManual(&res.Outcome, work.Status, work.NextAttemptAt)
	} else {
		v = w.policy.judge(&res.Outcome, automatic, work.MaxAttempts, target.RetrySchedule, work.ExpiresAt, now)
	}
	rec.Status, rec.Attempt.NextAttemptAt = v.status, v.next
	if v.status == delivery.StatusRetrying {
		o.retry = DeliverJobs(jobCtx, w.queue, []store.DeliveryRef{{ID: work.ID, WebhookID: work.WebhookID, AttemptCount: number, Namespace: work.Namespace}}, v.next)
	}
	if v.exhausted {
		o.exhausted = &delivery.Exhausted{
			DeliveryID: work.ID, Namespace: work.Namespace, WebhookID: work.WebhookID, EventID: work.EventID,
			EventName: work.EventName, Attempts: automatic, LastStatusCode: res.StatusCode, LastErrorClass: res.Class, LastError: res.Err,
		}
	}
	outcome := outcomeAttributes(rec.Status, res.Class)
	w.telemetry.AttemptDuration.Record(ctx, res.Duration.Seconds(), outcome)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrOutcome.String(string(rec.Status)), semconv.HTTPResponseStatusCode(res.StatusCode))
	}
	if res.Class != delivery.ClassNone {
		span.SetStatus(codes.Error, string(res.Class))
	}
	if err := w.recorder.record(ctx, o); err != nil {
		w.logger.ErrorContext(ctx, "sparrow: recording an attempt failed", logIDs(work), slog.Int("attempt", number), slog.String("error", err.Error()))
		return nil, err
	}
	if o.moved {
		w.telemetry.Deliveries.Add(ctx, 1, outcome)
		if rec.Status == delivery.StatusSucceeded {
			w.telemetry.DeliveryLatency.Record(ctx, w.now().Sub(work.EventCreatedAt).Seconds())
		}
	}
	if w.logger.Enabled(ctx, slog.LevelDebug) {
		w.logger.DebugContext(ctx, "sparrow: delivery attempt", logIDs(work),
			slog.Int("attempt", number), slog.Bool("manual", manual), slog.Int("status_code", res.StatusCode), slog.String("error_class", string(res.Class)),
			slog.String("status", string(rec.Status)))
	}
	return o.carriedOn, nil
}

// logIDs identifies a delivery in log lines.
func logIDs(work *store.DeliveryWork) slog.Attr {
	return slog.Group("", slog.String("delivery_id", work.ID), slog.String("webhook_id", work.WebhookID),
		slog.String("event_id", work.EventID), slog.String("namespace", work.Namespace))
}
