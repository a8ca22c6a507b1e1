package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/subscription"
)

const (
	constraintWebhookEvent = "sparrow_subscription_webhook_event_key"
	constraintEventType    = "sparrow_subscription_event_name_fkey"
)

// SubscriptionInsertMany stores subscriptions, all or none. It refuses a second subscription
// of a webhook to an event type, and event types not registered.
func SubscriptionInsertMany(ctx context.Context, db dbutil.DB, subs ...*subscription.Subscription) error {
	n := len(subs)
	idCol, nsCol, whCol, nameCol, filterCol, tmplCol := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]map[string]string, n), make([]string, n)
	celCol, activeCol, createdCol := make([]string, n), make([]bool, n), make([]time.Time, n)
	for i, s := range subs {
		idCol[i], nsCol[i], whCol[i], nameCol[i], tmplCol[i], celCol[i] = s.ID, s.Namespace, s.WebhookID, s.EventName, s.Template, s.Filter
		filterCol[i], activeCol[i], createdCol[i] = emptyIfNil(s.LabelFilter), s.Active, s.CreatedAt
	}
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_subscription (id, namespace, webhook_id, event_name, active, label_filter, template, filter, created_at, updated_at)
SELECT id, namespace, webhook_id, event_name, active, label_filter, template, filter, created_at, created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::jsonb[], $7::text[], $8::text[], $9::timestamptz[])
    AS input (id, namespace, webhook_id, event_name, active, label_filter, template, filter, created_at)`,
		idCol, nsCol, whCol, nameCol, activeCol, filterCol, tmplCol, celCol, createdCol)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.ConstraintName {
		case constraintWebhookEvent:
			return errs.AlreadyExists("webhook already subscribes to this event type (%s)", pgErr.Detail)
		case constraintEventType:
			return errs.InvalidArgument("event_name", "event type is not registered (%s)", pgErr.Detail)
		}
	}
	return dbutil.Interpret("insert subscriptions", err)
}

const subscriptionColumns = "id, namespace, webhook_id, event_name, active, label_filter, template, filter, created_at, updated_at"

func scanSubscription(row pgx.Row) (*subscription.Subscription, error) {
	var s subscription.Subscription
	err := row.Scan(&s.ID, &s.Namespace, &s.WebhookID, &s.EventName, &s.Active, &s.LabelFilter, &s.Template, &s.Filter, &s.CreatedAt, &s.UpdatedAt)
	return &s, err
}

// SubscriptionGet returns subscription id in namespace.
func SubscriptionGet(ctx context.Context, db dbutil.DB, namespace, id string) (*subscription.Subscription, error) {
	return scanOne(scanSubscription, "subscription", db.QueryRow(ctx, "SELECT "+subscriptionColumns+" FROM /*schema*/sparrow_subscription WHERE namespace = $1 AND id = $2",
		namespace, id), "get subscription", id)
}

// SubscriptionGetForWebhook returns the webhook's subscription to an event type.
func SubscriptionGetForWebhook(ctx context.Context, db dbutil.DB, webhookID, eventName string) (*subscription.Subscription, error) {
	return scanOne(scanSubscription, "subscription", db.QueryRow(ctx, "SELECT "+subscriptionColumns+" FROM /*schema*/sparrow_subscription WHERE webhook_id = $1 AND event_name = $2",
		webhookID, eventName), "get subscription", webhookID+"/"+eventName)
}

// SubscriptionListParams selects a page of a namespace's subscriptions, newest first.
type SubscriptionListParams struct {
	Namespace string
	WebhookID string
	EventName string
	// Before is the id the page starts after (older than).
	Before string
	Limit  int
}

// SubscriptionList returns a page of subscriptions and whether more follow.
func SubscriptionList(ctx context.Context, db dbutil.DB, p SubscriptionListParams) ([]subscription.Subscription, bool, error) {
	return collectPage(scanSubscription, p.Limit, "list subscriptions")(db.Query(ctx, "SELECT "+subscriptionColumns+` FROM /*schema*/sparrow_subscription
WHERE namespace = $1 AND ($2 = '' OR webhook_id = $2) AND ($3 = '' OR event_name = $3) AND ($4 = '' OR id < $4)
ORDER BY id DESC LIMIT $5`, p.Namespace, p.WebhookID, p.EventName, p.Before, p.Limit+1))
}

// SubscriptionUpdateParams lists the fields of a subscription to change; nil leaves a field as
// it is.
type SubscriptionUpdateParams struct {
	Active      *bool
	LabelFilter *map[string]string
	Template    *string
	Filter      *string
}

// SubscriptionUpdate changes a subscription and returns it as stored.
func SubscriptionUpdate(ctx context.Context, db dbutil.DB, namespace, id string, u SubscriptionUpdateParams, now time.Time) (*subscription.Subscription, error) {
	var filter map[string]string
	if u.LabelFilter != nil {
		filter = emptyIfNil(*u.LabelFilter)
	}
	return scanOne(scanSubscription, "subscription", db.QueryRow(ctx, `
UPDATE /*schema*/sparrow_subscription
SET active = coalesce($3, active), label_filter = coalesce($4, label_filter), template = coalesce($5, template),
    filter = coalesce($7, filter), updated_at = $6
WHERE namespace = $1 AND id = $2
RETURNING `+subscriptionColumns, namespace, id, u.Active, filter, u.Template, now, u.Filter), "update subscription", id)
}

// SubscriptionDelete removes subscription id from namespace.
func SubscriptionDelete(ctx context.Context, db dbutil.DB, namespace, id string) error {
	tag, err := db.Exec(ctx, "DELETE FROM /*schema*/sparrow_subscription WHERE namespace = $1 AND id = $2", namespace, id)
	if err != nil {
		return dbutil.Interpret("delete subscription", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.NotFound("subscription", id)
	}
	return nil
}

// SubscriptionDeleteForWebhook removes the webhook's subscriptions except those to the
// event types in keep.
func SubscriptionDeleteForWebhook(ctx context.Context, db dbutil.DB, webhookID string, keep []string) error {
	_, err := db.Exec(ctx, "DELETE FROM /*schema*/sparrow_subscription WHERE webhook_id = $1 AND event_name <> ALL(coalesce($2::text[], '{}'))",
		webhookID, keep)
	return dbutil.Interpret("delete webhook subscriptions", err)
}

// Subscriber is an active subscription of a live webhook, as fan-out needs it.
type Subscriber struct {
	subscription.Subscription
	// MaxAttempts is the webhook's attempt limit, fixed into each delivery.
	MaxAttempts int
}

// SubscriptionListSubscribers returns the active subscriptions of non-deleted webhooks to the
// (namespace, event name) pairs given, which must be distinct.
func SubscriptionListSubscribers(ctx context.Context, db dbutil.DB, namespaces, names []string) ([]Subscriber, error) {
	rows, err := db.Query(ctx, `
SELECT s.id, s.namespace, s.webhook_id, s.event_name, s.active, s.label_filter, s.template, s.filter, s.created_at, s.updated_at, w.max_attempts
FROM unnest($1::text[], $2::text[]) AS wanted (namespace, event_name)
JOIN /*schema*/sparrow_subscription s ON s.namespace = wanted.namespace AND s.event_name = wanted.event_name AND s.active
JOIN /*schema*/sparrow_webhook w ON w.id = s.webhook_id AND w.deleted_at IS NULL
ORDER BY s.id`, namespaces, names)
	if err != nil {
		return nil, dbutil.Interpret("find subscriptions", err)
	}
	targets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Subscriber, error) {
		var t Subscriber
		err := row.Scan(&t.ID, &t.Namespace, &t.WebhookID, &t.EventName, &t.Active, &t.LabelFilter, &t.Template, &t.Filter,
			&t.CreatedAt, &t.UpdatedAt, &t.MaxAttempts)
		return t, err
	})
	return targets, dbutil.Interpret("find subscriptions", err)
}
