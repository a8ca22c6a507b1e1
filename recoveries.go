package sparrow

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
	"github.com/sparrowhq/sparrow/webhook"
)

// RecoverWebhookParams describes a recovery: the webhook, and the range of
// push times of the events to consider, [Since, Until).
type RecoverWebhookParams struct {
	Namespace string
	WebhookID string
	// Since is required, not in the future, and within the namespace's
	// retention (WithRetention, WithNamespaceRetention): events pushed
	// before it may have been deleted, and a recovery from then would
	// silently miss them.
	Since time.Time
	// Until, when set, is after Since and not in the future. Zero: until
	// the recovery starts.
	Until time.Time

	// batchSize, when set, replaces worker.RecoverBatchDefault: tests
	// (export_test.go) catch a recovery mid-way with small batches.
	batchSize int
}

func (p *RecoverWebhookParams) validate(now time.Time, retention func(namespace string) time.Duration) (string, error) {
	namespace, err := validateRef(p.Namespace, "webhook_id", ids.Webhook, p.WebhookID)
	if err != nil {
		return "", err
	}
	switch {
	case p.Since.IsZero():
		return "", errs.InvalidArgument("since", "required")
	case p.Since.After(now):
		return "", errs.InvalidArgument("since", "in the future")
	case !p.Until.IsZero() && !p.Until.After(p.Since):
		return "", errs.InvalidArgument("until", "must be after since")
	case p.Until.After(now):
		return "", errs.InvalidArgument("until", "in the future")
	}
	if keep := retention(namespace); keep > 0 && p.Since.Before(now.Add(-keep)) {
		return "", errs.InvalidArgument("since", "before %s: namespace %q keeps %s of history, and events pushed earlier may have been deleted",
			now.Add(-keep).Format(time.RFC3339), namespace, keep)
	}
	return namespace, nil
}

// RecoverWebhook re-sends to a webhook the events it missed: every event of
// the types it subscribes to, pushed in [Since, Until), that it has no
// delivery of that succeeded or is under way (pending or retrying, waiting
// included: it is on its way). An event it never had a delivery of, one
// whose deliveries failed, expired or were cancelled, and one pushed before
// it subscribed, all count as missed; an event whose time to live has run
// out does not. Each re-send is a new delivery, through the webhook's
// subscriptions as they are now (label filters and templates included), as
// RepushEvent makes: its webhook-id is its own, and the event's id
// (Sparrow-Event-Id) is the one to de-duplicate on across re-sends. The
// earlier deliveries are kept as they are.
//
// The recovery runs in the background, in batches of events, oldest first;
// follow it with GetRecovery. Each batch creates its deliveries and records
// its progress in one transaction, so a crash neither loses nor repeats any.
// Started again for the same webhook and range while it runs, it returns
// the running recovery and starts nothing.
func (e *Engine) RecoverWebhook(ctx context.Context, p RecoverWebhookParams) (*webhook.Recovery, error) {
	return e.recoverWebhook(ctx, nil, p)
}

// RecoverWebhookTx is RecoverWebhook in the caller's transaction: the
// recovery starts only if the transaction commits.
func (e *Engine) RecoverWebhookTx(ctx context.Context, tx pgx.Tx, p RecoverWebhookParams) (*webhook.Recovery, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.recoverWebhook(ctx, tx, p)
}

func (e *Engine) recoverWebhook(ctx context.Context, tx pgx.Tx, p RecoverWebhookParams) (*webhook.Recovery, error) {
	now := e.now()
	namespace, err := p.validate(now, e.retention)
	if err != nil {
		return nil, err
	}
	var r *webhook.Recovery
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		w, err := store.WebhookGet(ctx, db, namespace, p.WebhookID, false)
		if err != nil {
			return err
		}
		var created bool
		r, created, err = store.RecoveryInsert(ctx, db, &webhook.Recovery{
			ID: ids.New(ids.Recovery), Namespace: namespace, WebhookID: w.ID,
			Since: p.Since, Until: p.Until, CreatedAt: now,
		})
		if err != nil || !created {
			return err
		}
		return e.insertJobs(ctx, tx, []river.InsertManyParams{worker.RecoverJob(ctx, e.config.Queue, r.ID, 0, p.batchSize)})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// retention returns how long namespace's history is kept; zero: forever.
func (e *Engine) retention(namespace string) time.Duration {
	if keep, ok := e.config.Retention.Namespaces[namespace]; ok {
		return keep
	}
	return e.config.Retention.Default
}

// GetRecovery returns recovery id of namespace, with its progress.
func (e *Engine) GetRecovery(ctx context.Context, namespace, id string) (*webhook.Recovery, error) {
	namespace, err := validateRef(namespace, "recovery_id", ids.Recovery, id)
	if err != nil {
		return nil, err
	}
	return store.RecoveryGet(ctx, e.db(nil), namespace, id)
}

// ListRecoveriesParams selects a page of a namespace's recoveries, newest
// first.
type ListRecoveriesParams struct {
	Namespace string
	// WebhookID keeps this webhook's recoveries.
	WebhookID string
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

// ListRecoveries returns a page of a namespace's recoveries, newest first.
// Ended recoveries go with the rest of the history past its retention.
func (e *Engine) ListRecoveries(ctx context.Context, p ListRecoveriesParams) (*Page[webhook.Recovery], error) {
	namespace, limit, before, err := validateListing(p.Namespace, p.Limit, p.Cursor)
	if err != nil {
		return nil, err
	}
	if p.WebhookID != "" && !ids.Valid(ids.Webhook, p.WebhookID) {
		return nil, errs.InvalidArgument("webhook_id", "not a %s_ identifier", ids.Webhook)
	}
	rs, more, err := store.RecoveryList(ctx, e.db(nil), store.RecoveryListParams{
		Namespace: namespace, WebhookID: p.WebhookID, Before: before, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	return newPage(rs, more, func(r *webhook.Recovery) string { return r.ID }), nil
}

// CancelRecovery stops a running recovery: its next batch finds it
// cancelled and re-sends nothing more; the deliveries it has made go on.
// Cancelling a cancelled recovery changes nothing; one that has succeeded
// or failed is refused with ErrFailedPrecondition.
func (e *Engine) CancelRecovery(ctx context.Context, namespace, id string) (*webhook.Recovery, error) {
	return e.cancelRecovery(ctx, nil, namespace, id)
}

// CancelRecoveryTx is CancelRecovery in the caller's transaction.
func (e *Engine) CancelRecoveryTx(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Recovery, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.cancelRecovery(ctx, tx, namespace, id)
}

func (e *Engine) cancelRecovery(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Recovery, error) {
	namespace, err := validateRef(namespace, "recovery_id", ids.Recovery, id)
	if err != nil {
		return nil, err
	}
	var r *webhook.Recovery
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		r, err = store.RecoveryCancel(ctx, e.schema.On(tx), namespace, id, e.now())
		return err
	})
	return r, err
}
