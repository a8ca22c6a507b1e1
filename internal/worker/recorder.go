package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/config"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/groupcommit"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/webhook"
)

const (
	// recordBatchMax bounds the attempts one transaction records.
	recordBatchMax = 256
	// recordTimeout bounds a recording transaction. Recording does not
	// follow the job's context: an attempt that was made gets written even
	// while its job is being cancelled.
	recordTimeout = 30 * time.Second
)

// outcome is an attempt on its way to the database, and what recording it
// led to, for the worker to act on once it is committed.
type outcome struct {
	// client is the River client of the worker, for the jobs recording
	// inserts (alerts' fan-out).
	client    *river.Client[pgx.Tx]
	record    *store.AttemptRecord
	namespace string
	// orderingKey is the delivery's: once it ends, the next of its key to
	// its webhook may go, carried on by job carrier when set.
	orderingKey string
	carrier     int64
	// gone: the receiver answered 410 Gone, which pauses its webhook.
	gone bool
	// exhausted: the attempt was the delivery's last and it failed.
	exhausted *delivery.Exhausted
	// retry is the job of the delivery's next attempt, inserted with the
	// record that schedules it.
	retry []river.InsertManyParams

	// Set by the flush. moved: the record moved its delivery on (it was not
	// a repeat); transitions: health changes this outcome's batch caused
	// for its webhook, given to the webhook's last outcome in the batch.
	moved       bool
	transitions []health.Transition
	// carriedOn is the delivery the end of this one let go, for carrier.
	carriedOn []*store.DeliveryWork
}

// recorder writes attempt outcomes from concurrent workers in shared
// transactions, so that many deliveries cost one commit rather than one
// each, and their webhooks' health one update per batch rather than one per
// attempt.
type recorder struct {
	db    database
	queue string
	now   func() time.Time
	// thresholds rate webhooks' health, unless health isn't tracked.
	thresholds     health.Thresholds
	healthTracking bool
	hooks          config.Hooks
	logger         *slog.Logger
	group          *groupcommit.Group[*outcome]
}

func newRecorder(db database, cfg *config.Config) *recorder {
	r := &recorder{
		db: db, queue: cfg.Queue, now: cfg.Now, thresholds: cfg.HealthThresholds, healthTracking: cfg.HealthTracking,
		hooks: cfg.Hooks, logger: cfg.Logger,
	}
	r.group = groupcommit.New(recordBatchMax, r.flush)
	return r
}

// record writes o and then runs the host's callbacks for what it caused.
// The attempt was made: if the database is briefly unreachable, it keeps
// trying for recordTimeout rather than fail the job, which would send the
// attempt again. Recording twice is harmless (the second moves nothing).
func (r *recorder) record(ctx context.Context, o *outcome) error {
	deadline := time.Now().Add(recordTimeout)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err := r.group.Submit(o)
		if err == nil {
			break
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		r.logger.WarnContext(ctx, "sparrow: recording an attempt failed, trying again", slog.String("delivery_id", o.record.Attempt.DeliveryID),
			slog.Duration("in", wait), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
	for _, t := range o.transitions {
		if r.hooks.OnHealthChange != nil {
			r.hooks.OnHealthChange(ctx, t)
		}
		if t.To == health.StateDisabled && r.hooks.OnWebhookDisabled != nil {
			r.hooks.OnWebhookDisabled(ctx, t)
		}
	}
	if o.moved && o.exhausted != nil && r.hooks.OnDeliveryExhausted != nil {
		r.hooks.OnDeliveryExhausted(ctx, *o.exhausted)
	}
	return nil
}

func (r *recorder) flush(outcomes []*outcome) error {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	now := r.now()
	records := make([]*store.AttemptRecord, len(outcomes))
	for i, o := range outcomes {
		records[i] = o.record
		o.moved, o.transitions, o.carriedOn = false, nil, nil // a batch retried alone starts over
	}
	var carriedOn []store.Released
	err := r.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
		carriedOn = nil
		moved, err := store.DeliveryRecordAttempts(ctx, db, records, now)
		if err != nil {
			return err
		}
		isMoved := make(map[string]bool, len(moved))
		for _, id := range moved {
			isMoved[id] = true
		}
		var retries []river.InsertManyParams
		var ended []store.Ended
		for _, o := range outcomes {
			o.moved = isMoved[o.record.Attempt.DeliveryID]
			if o.moved {
				retries = append(retries, o.retry...)
			}
			if a := o.record.Attempt; o.moved && o.orderingKey != "" && o.record.Status.Final() {
				ended = append(ended, store.Ended{ID: a.DeliveryID, Carrier: o.carrier})
			}
		}
		released, err := store.OrderingRelease(ctx, db, ended, now)
		if err != nil {
			return err
		}
		var needJobs []store.DeliveryRef
		for _, rel := range released {
			if rel.Carried != nil {
				carriedOn = append(carriedOn, rel)
			} else {
				needJobs = append(needJobs, rel.DeliveryRef)
			}
		}
		retries = append(retries, DeliverJobs(ctx, r.queue, needJobs, time.Time{})...)
		if len(retries) > 0 {
			if _, err := outcomes[0].client.InsertManyFastTx(ctx, tx, retries); err != nil {
				return fmt.Errorf("insert retry jobs: %w", err)
			}
		}
		// Health rows are locked before webhook rows, here as in
		// ResumeWebhook, so the two can't deadlock.
		transitions, err := r.applyHealth(ctx, db, outcomes, now)
		if err != nil {
			return err
		}
		for _, o := range outcomes {
			if o.gone && o.moved {
				if _, err := store.WebhookDeactivate(ctx, db, o.record.Attempt.WebhookID, webhook.StatePaused,
					"the endpoint answered 410 Gone", now); err != nil {
					return err
				}
			}
		}
		return r.raiseAlerts(ctx, tx, outcomes, transitions, now)
	})
	if err != nil {
		return err
	}
	// Committed: the attempts whose ends let deliveries go carry them on.
	byDelivery := make(map[string]*outcome, len(outcomes))
	for _, o := range outcomes {
		byDelivery[o.record.Attempt.DeliveryID] = o
	}
	for _, rel := range carriedOn {
		o := byDelivery[rel.After]
		o.carriedOn = append(o.carriedOn, rel.Carried)
	}
	return nil
}

// refsOf returns the refs of released.
func refsOf(released []store.Released) []store.DeliveryRef {
	refs := make([]store.DeliveryRef, len(released))
	for i, rel := range released {
		refs[i] = rel.DeliveryRef
	}
	return refs
}

// applyHealth counts the moved outcomes into their webhooks' health,
// disables the webhooks that health says to, and hands each transition to
// the last outcome of its webhook for the callbacks.
func (r *recorder) applyHealth(ctx context.Context, db dbutil.DB, outcomes []*outcome, now time.Time) ([]health.Transition, error) {
	if !r.healthTracking {
		return nil, nil
	}
	var obs []store.HealthObservation
	last := map[string]*outcome{}
	for _, o := range outcomes {
		if !o.moved {
			continue
		}
		a := o.record.Attempt
		obs = append(obs, store.HealthObservation{
			WebhookID: a.WebhookID, Namespace: o.namespace, At: a.StartedAt, Duration: a.Duration, ErrorClass: string(a.ErrorClass),
			StatusCode: a.StatusCode,
		})
		last[a.WebhookID] = o
	}
	transitions, err := store.HealthApply(ctx, db, obs, r.thresholds, now)
	if err != nil {
		return nil, err
	}
	for _, t := range transitions {
		if t.To == health.StateDisabled {
			if _, err := store.WebhookDeactivate(ctx, db, t.WebhookID, webhook.StateDisabled, t.Reason, now); err != nil {
				return nil, err
			}
		}
		o := last[t.WebhookID]
		o.transitions = append(o.transitions, t)
	}
	return transitions, nil
}
