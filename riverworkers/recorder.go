package riverworkers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/groupcommit"
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

// outcome is an attempt on its way to the database.
type outcome struct {
	record    *delivery.Record
	namespace string
	// gone: the receiver answered 410 Gone, which pauses its webhook.
	gone bool
}

// recorder writes attempt outcomes from concurrent workers in shared
// transactions, so that many deliveries cost one commit rather than one
// each.
type recorder struct {
	*base
	group *groupcommit.Group[*outcome]
}

func newRecorder(b *base) *recorder {
	r := &recorder{base: b}
	r.group = groupcommit.New(recordBatchMax, r.flush)
	return r
}

func (r *recorder) record(o *outcome) error { return r.group.Submit(o) }

func (r *recorder) flush(outcomes []*outcome) error {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	now := r.clock()
	records := make([]*delivery.Record, len(outcomes))
	for i, o := range outcomes {
		records[i] = o.record
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		db := r.schema.On(tx)
		moved, err := delivery.RecordAttempts(ctx, db, records, now)
		if err != nil {
			return err
		}
		isMoved := make(map[string]bool, len(moved))
		for _, id := range moved {
			isMoved[id] = true
		}
		for _, o := range outcomes {
			if o.gone && isMoved[o.record.Attempt.DeliveryID] {
				if _, _, err := webhook.SetState(ctx, db, o.namespace, o.record.Attempt.WebhookID, webhook.StatePaused,
					"the endpoint answered 410 Gone", now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
