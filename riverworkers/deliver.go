package riverworkers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/webhook"
)

// deliverJobTimeout bounds a delivery job: the longest attempt a webhook may
// allow, plus time to read and record.
const deliverJobTimeout = webhook.TimeoutMax + 30*time.Second

// earlyTolerance is how early a job may wake for its attempt and still make
// it, rather than snoozing again for a moment.
const earlyTolerance = 250 * time.Millisecond

// deliverWorker makes one attempt of a delivery per run. The delivery row,
// not the job, is the truth: a job that finds its delivery finished does
// nothing, one that wakes before the delivery's next attempt is due snoozes
// until then, and retries are snoozes that spend no River attempt.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	*base
}

func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return deliverJobTimeout }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	ctx = telemetry.FromJob(ctx, job.Metadata)
	now := w.clock()
	work, err := delivery.LoadWork(ctx, w.schema.On(w.pool), job.Args.DeliveryID, now)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // removed by retention: nothing left to do
	}
	if err != nil {
		return err
	}
	switch {
	case work.Status.Final(), work.Waiting:
		return nil
	case work.WebhookDeleted:
		return w.finish(ctx, work, delivery.StatusCancelled, now)
	case !work.ExpiresAt.IsZero() && !now.Before(work.ExpiresAt):
		return w.finish(ctx, work, delivery.StatusExpired, now)
	case !work.WebhookActive:
		return w.park(ctx, work, now)
	case work.NextAttemptAt.Sub(now) > earlyTolerance:
		return river.JobSnooze(work.NextAttemptAt.Sub(now))
	}
	release, ok := w.inflight.acquire(work.WebhookID)
	if !ok {
		return river.JobSnooze(busyWait()) // spends no attempt
	}
	defer release()
	return w.attempt(ctx, work, now)
}

// finish ends a delivery that will never be attempted again.
func (w *deliverWorker) finish(ctx context.Context, work *delivery.Work, status delivery.Status, now time.Time) error {
	finished, err := delivery.Finish(ctx, w.schema.On(w.pool), work.ID, status, now)
	if err != nil || !finished {
		return err
	}
	w.countDelivery(ctx, status, delivery.ClassNone)
	w.logger.DebugContext(ctx, "sparrow: delivery ended without attempt", logIDs(work), slog.String("status", string(status)))
	return nil
}

// park makes the delivery wait for its webhook, or runs the job again at
// once if the webhook was resumed meanwhile.
func (w *deliverWorker) park(ctx context.Context, work *delivery.Work, now time.Time) error {
	var parked bool
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		var err error
		parked, err = delivery.Park(ctx, w.schema.On(tx), work.ID, work.WebhookID, now)
		return err
	})
	if err != nil || !parked {
		return cmpErr(err, river.JobSnooze(0))
	}
	w.logger.DebugContext(ctx, "sparrow: delivery waits for its webhook", logIDs(work))
	return nil
}

func (w *deliverWorker) attempt(ctx context.Context, work *delivery.Work, now time.Time) (err error) {
	number := work.AttemptCount + 1
	ctx, span := w.telemetry.Tracer.Start(ctx, "sparrow.deliver", trace.WithAttributes(
		telemetry.AttrDeliveryID.String(work.ID), telemetry.AttrWebhookID.String(work.WebhookID),
		telemetry.AttrEventID.String(work.EventID), telemetry.AttrEventName.String(work.EventName),
		telemetry.AttrNamespace.String(work.Namespace), telemetry.AttrAttempt.Int(number)))
	defer func() { endSpan(span, err) }()
	keys := make([][]byte, 0, len(work.Secrets))
	for _, stored := range work.Secrets {
		secret, err := secretbox.Reveal(w.secretKeys, work.WebhookID, stored)
		if err != nil {
			// Never send a delivery that isn't signed as the receiver expects.
			return fmt.Errorf("open signing secret %s: %w", stored.ID, err)
		}
		if key, err := webhook.SigningKey(secret); err == nil {
			keys = append(keys, key)
		}
	}
	res := w.sender.Send(ctx, &delivery.Request{
		URL:        work.URL,
		Body:       work.Body,
		Timeout:    work.Timeout,
		Timestamp:  now,
		DeliveryID: work.ID,
		EventID:    work.EventID,
		EventName:  work.EventName,
		Namespace:  work.Namespace,
		WebhookID:  work.WebhookID,
		Attempt:    number,
		Keys:       keys,
		Headers:    work.Headers,
	})
	if ctx.Err() != nil {
		// Stopped mid-attempt (shutdown, job cancelled): not the receiver's
		// doing, so nothing is recorded and the next start tries again.
		return river.JobSnooze(0)
	}
	rec := &delivery.Record{Attempt: delivery.Attempt{
		DeliveryID:            work.ID,
		Number:                number,
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
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	o := &outcome{client: client, record: rec, namespace: work.Namespace, gone: res.StatusCode == http.StatusGone}
	var delay time.Duration
	retryable := !res.Succeeded() && w.checkRetry(&res.Outcome)
	switch {
	case res.Succeeded():
		rec.Status = delivery.StatusSucceeded
	case retryable && number < work.MaxAttempts:
		delay = w.backoff(number, &res.Outcome)
		rec.Status, rec.Attempt.NextAttemptAt = delivery.StatusRetrying, now.Add(delay)
	default:
		rec.Status = delivery.StatusFailed
		if retryable {
			o.exhausted = &delivery.Exhausted{
				DeliveryID: work.ID, Namespace: work.Namespace, WebhookID: work.WebhookID, EventID: work.EventID,
				EventName: work.EventName, Attempts: number, LastStatusCode: res.StatusCode, LastErrorClass: res.Class, LastError: res.Err,
			}
		}
	}
	outcome := metric.WithAttributes(telemetry.AttrOutcome.String(string(rec.Status)), telemetry.AttrErrorType.String(string(res.Class)))
	w.telemetry.AttemptDuration.Record(ctx, res.Duration.Seconds(), outcome)
	span.SetAttributes(telemetry.AttrOutcome.String(string(rec.Status)), semconv.HTTPResponseStatusCode(res.StatusCode))
	if res.Class != delivery.ClassNone {
		span.SetStatus(codes.Error, string(res.Class))
	}
	if err := w.recorder.record(ctx, o); err != nil {
		w.logger.ErrorContext(ctx, "sparrow: recording an attempt failed", logIDs(work), slog.Int("attempt", number), slog.String("error", err.Error()))
		return err
	}
	if o.moved {
		w.telemetry.Deliveries.Add(ctx, 1, outcome)
		if rec.Status == delivery.StatusSucceeded {
			w.telemetry.DeliveryLatency.Record(ctx, w.clock().Sub(work.EventCreatedAt).Seconds())
		}
	}
	w.logger.DebugContext(ctx, "sparrow: delivery attempt", logIDs(work),
		slog.Int("attempt", number), slog.Int("status_code", res.StatusCode), slog.String("error_class", string(res.Class)),
		slog.String("status", string(rec.Status)))
	if rec.Status == delivery.StatusRetrying {
		return river.JobSnooze(delay)
	}
	return nil
}

// logIDs identifies a delivery in log lines.
func logIDs(work *delivery.Work) slog.Attr {
	return slog.Group("", slog.String("delivery_id", work.ID), slog.String("webhook_id", work.WebhookID),
		slog.String("event_id", work.EventID), slog.String("namespace", work.Namespace))
}

// cmpErr returns err, or fallback when err is nil.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
