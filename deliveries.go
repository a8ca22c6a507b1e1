package sparrow

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
)

// ListDeliveriesParams selects a page of a namespace's deliveries, newest
// first. Each filter set narrows the page.
type ListDeliveriesParams struct {
	Namespace string
	WebhookID string
	EventID   string
	Status    delivery.Status
	// Since and Until bound the creation time: [Since, Until).
	Since time.Time
	Until time.Time
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

func (p *ListDeliveriesParams) validate() (namespace string, limit int, before string, err error) {
	if namespace, limit, before, err = validateListing(p.Namespace, p.Limit, p.Cursor); err != nil {
		return
	}
	switch {
	case p.WebhookID != "" && !ids.Valid(ids.Webhook, p.WebhookID):
		err = errs.InvalidArgument("webhook_id", "not a %s_ identifier", ids.Webhook)
	case p.EventID != "" && !ids.Valid(ids.Event, p.EventID):
		err = errs.InvalidArgument("event_id", "not a %s_ identifier", ids.Event)
	case p.Status != "" && !delivery.ValidStatus(p.Status):
		err = errs.InvalidArgument("status", "unknown status %q", p.Status)
	case !p.Since.IsZero() && !p.Until.IsZero() && !p.Since.Before(p.Until):
		err = errs.InvalidArgument("until", "must be after since")
	}
	return
}

// ListDeliveries returns a page of a namespace's deliveries, newest first,
// without bodies and attempts (GetDelivery has them).
func (e *Engine) ListDeliveries(ctx context.Context, p ListDeliveriesParams) (*Page[delivery.Delivery], error) {
	namespace, limit, before, err := p.validate()
	if err != nil {
		return nil, err
	}
	ds, more, err := store.DeliveryList(ctx, e.db(nil), store.DeliveryListParams{
		Namespace: namespace, WebhookID: p.WebhookID, EventID: p.EventID, Status: p.Status,
		Since: p.Since, Until: p.Until, Before: before, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	return newPage(ds, more, func(d *delivery.Delivery) string { return d.ID }), nil
}

// GetDelivery returns delivery id of namespace with the body sent and every
// attempt.
func (e *Engine) GetDelivery(ctx context.Context, namespace, id string) (*delivery.Delivery, error) {
	namespace, err := validateRef(namespace, "delivery_id", ids.Delivery, id)
	if err != nil {
		return nil, err
	}
	return store.DeliveryGet(ctx, e.db(nil), namespace, id)
}

// RetryDelivery gives a finished delivery a fresh run: due now, with the
// webhook's attempt limit again, its expiry lifted. A failed or expired
// delivery is tried again; a succeeded one is sent again, a replay with the
// same webhook-id, so a receiver that de-duplicates ignores it. A delivery
// still pending or retrying is left as it is, and no job is added. A
// cancelled delivery, like any delivery of a deleted webhook, is refused
// with ErrFailedPrecondition: deleting the webhook cancelled it, and there
// is nowhere left to send it.
func (e *Engine) RetryDelivery(ctx context.Context, namespace, id string) (*delivery.Delivery, error) {
	return e.retryDelivery(ctx, nil, namespace, id)
}

// RetryDeliveryTx is RetryDelivery in the caller's transaction.
func (e *Engine) RetryDeliveryTx(ctx context.Context, tx pgx.Tx, namespace, id string) (*delivery.Delivery, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.retryDelivery(ctx, tx, namespace, id)
}

func (e *Engine) retryDelivery(ctx context.Context, tx pgx.Tx, namespace, id string) (*delivery.Delivery, error) {
	namespace, err := validateRef(namespace, "delivery_id", ids.Delivery, id)
	if err != nil {
		return nil, err
	}
	var d *delivery.Delivery
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		retried, err := store.DeliveryRetry(ctx, db, namespace, id, e.now())
		if err != nil {
			return err
		}
		if d, err = store.DeliveryGet(ctx, db, namespace, id); err != nil || !retried {
			return err
		}
		ref := store.DeliveryRef{ID: d.ID, WebhookID: d.WebhookID, AttemptCount: d.AttemptCount, Namespace: d.Namespace}
		return e.insertJobs(ctx, tx, worker.DeliverJobs(ctx, e.config.Queue, []store.DeliveryRef{ref}, time.Time{}))
	})
	return d, err
}

// RetryFailedDeliveriesParams selects the deliveries of a bulk replay.
type RetryFailedDeliveriesParams struct {
	Namespace string
	WebhookID string
	// Since keeps deliveries that failed or expired at or after this time.
	Since time.Time
}

// RetryFailedDeliveries gives a fresh run to a webhook's deliveries that
// failed or expired since a time, as RetryDelivery does for one, and returns
// how many. For replaying after a receiver's outage.
func (e *Engine) RetryFailedDeliveries(ctx context.Context, p RetryFailedDeliveriesParams) (int, error) {
	return e.retryFailedDeliveries(ctx, nil, p)
}

// RetryFailedDeliveriesTx is RetryFailedDeliveries in the caller's
// transaction.
func (e *Engine) RetryFailedDeliveriesTx(ctx context.Context, tx pgx.Tx, p RetryFailedDeliveriesParams) (int, error) {
	if tx == nil {
		return 0, errNilTx
	}
	return e.retryFailedDeliveries(ctx, tx, p)
}

func (e *Engine) retryFailedDeliveries(ctx context.Context, tx pgx.Tx, p RetryFailedDeliveriesParams) (int, error) {
	namespace, err := validateRef(p.Namespace, "webhook_id", ids.Webhook, p.WebhookID)
	if err != nil {
		return 0, err
	}
	if p.Since.IsZero() {
		return 0, errs.InvalidArgument("since", "required")
	}
	var n int
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		if _, err := store.WebhookGet(ctx, db, namespace, p.WebhookID, false); err != nil {
			return err
		}
		retried, err := store.DeliveryRetryFailed(ctx, db, p.WebhookID, p.Since, e.now())
		if err != nil {
			return err
		}
		n = len(retried)
		return e.insertJobs(ctx, tx, worker.DeliverJobs(ctx, e.config.Queue, retried, time.Time{}))
	})
	return n, err
}
