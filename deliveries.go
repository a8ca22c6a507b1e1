package sparrow

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
	"github.com/sparrowhq/sparrow/webhook"
)

// ListDeliveriesParams selects a page of a namespace's deliveries, newest
// first. Each filter set narrows the page.
type ListDeliveriesParams struct {
	Namespace string
	WebhookID string
	EventID   string
	Status    delivery.Status
	// EventName keeps deliveries of events of this type.
	EventName string
	// HTTPStatus keeps deliveries whose latest attempt got this HTTP
	// status, 100 to 599; 0: any.
	HTTPStatus int
	// ErrorClass keeps deliveries whose latest attempt failed with this
	// class (see delivery.ErrorClass).
	ErrorClass delivery.ErrorClass
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
	case p.HTTPStatus != 0 && (p.HTTPStatus < 100 || p.HTTPStatus > 599):
		err = errs.InvalidArgument("http_status", "must be an HTTP status, 100 to 599, or 0 for any")
	case p.ErrorClass != "" && !delivery.ValidErrorClass(p.ErrorClass):
		err = errs.InvalidArgument("error_class", "unknown class %q: use one of %s", p.ErrorClass, joinClasses(delivery.ErrorClasses()))
	case !p.Since.IsZero() && !p.Until.IsZero() && !p.Since.Before(p.Until):
		err = errs.InvalidArgument("until", "must be after since")
	case p.EventName != "":
		err = event.ValidateName("event_name", p.EventName)
	}
	return
}

// joinClasses lists classes for an error message: "timeout, dns, ...".
func joinClasses(classes []delivery.ErrorClass) string {
	names := make([]string, len(classes))
	for i, c := range classes {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
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
		EventName: p.EventName, HTTPStatus: p.HTTPStatus, ErrorClass: p.ErrorClass,
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

// RetryDelivery asks for one extra attempt of a delivery, made at once, and
// returns the delivery as it stands. The attempt is manual: it is recorded
// (delivery.Attempt.Manual) and counted (ManualAttemptCount) apart, and
// leaves the webhook's attempt limit, the delivery's expiry and its retry
// schedule as they were. Its success ends the delivery, succeeded. Its
// failure leaves a delivery that was retrying to go on as scheduled, with
// the attempts it had left, and a finished one failed, with no new
// automatic attempts. A succeeded delivery is sent again this way: a
// replay, with the same webhook-id, so a receiver that de-duplicates
// ignores it.
//
// A delivery still pending, one with a manual attempt asked for already,
// and one retrying whose next attempt is due now are returned as they are,
// and nothing is added. A cancelled delivery, like any delivery of a
// deleted webhook, is refused with ErrFailedPrecondition: there is nowhere
// left to send it; so is a delivery of a paused or disabled webhook, until
// the webhook is resumed.
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
		ref, err := store.DeliveryRequestRetry(ctx, db, namespace, id, e.now())
		if err != nil {
			return err
		}
		if d, err = store.DeliveryGet(ctx, db, namespace, id); err != nil || ref == nil {
			return err
		}
		return e.insertJobs(ctx, tx, worker.DeliverJobs(ctx, e.config.Queue, []store.DeliveryRef{*ref}, time.Time{}))
	})
	return d, err
}

// RetryFailedDeliveriesParams selects the deliveries of a bulk replay.
type RetryFailedDeliveriesParams struct {
	Namespace string
	WebhookID string
	// Since keeps deliveries that failed or expired at or after this time.
	Since time.Time
	// DryRun counts the deliveries the call would retry, and retries none:
	// what a confirmation shows before the call is made for real.
	DryRun bool
}

// RetryFailedDeliveries asks for one extra attempt, as RetryDelivery does,
// of each of a webhook's deliveries that failed or expired since a time,
// and returns how many (with DryRun, how many it would). For replaying
// after a receiver's outage. Deliveries with a manual attempt asked for
// already are left out. A paused or disabled webhook is refused with
// ErrFailedPrecondition, dry run or not.
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
		w, err := store.WebhookGet(ctx, db, namespace, p.WebhookID, false)
		if err != nil {
			return err
		}
		if w.State != webhook.StateActive {
			return store.RetryRefusedWebhookState(w.ID, w.State)
		}
		if p.DryRun {
			n, err = store.DeliveryCountRetryFailed(ctx, db, p.WebhookID, p.Since)
			return err
		}
		refs, err := store.DeliveryRequestRetryFailed(ctx, db, p.WebhookID, p.Since, e.now())
		if err != nil {
			return err
		}
		n = len(refs)
		return e.insertJobs(ctx, tx, worker.DeliverJobs(ctx, e.config.Queue, refs, time.Time{}))
	})
	return n, err
}
