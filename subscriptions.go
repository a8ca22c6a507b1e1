package sparrow

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/subscription"
)

// CreateSubscriptionParams describes a subscription of a webhook to an event
// type.
type CreateSubscriptionParams struct {
	Namespace string
	WebhookID string
	EventName string
	// Inactive creates the subscription switched off.
	Inactive bool
	// LabelFilter keeps events whose labels contain every key=value here.
	LabelFilter map[string]string
	// Template, when set, renders the body sent from the event's payload
	// (see subscription.Template); it is checked here, when saved.
	Template string
	// Filter, when set, is a CEL expression over the event's payload and
	// labels that must be true for an event to be delivered (see
	// subscription.Filter); it is checked here, when saved.
	Filter string
}

func (p *CreateSubscriptionParams) validate() (err error) {
	if p.Namespace, err = validateRef(p.Namespace, "webhook_id", ids.Webhook, p.WebhookID); err != nil {
		return err
	}
	return firstError(
		event.ValidateName("event_name", p.EventName),
		subscription.ValidateLabelFilter("label_filter", p.LabelFilter),
		validateTemplate("template", p.Template),
		validateFilter("filter", p.Filter),
	)
}

// CreateSubscription subscribes a webhook to an event type. A webhook has at
// most one subscription per event type: asking again for the subscription
// it has returns that subscription, asking for one with other settings is
// refused with ErrAlreadyExists (UpdateSubscription changes settings).
func (e *Engine) CreateSubscription(ctx context.Context, p CreateSubscriptionParams) (*subscription.Subscription, error) {
	return e.createSubscription(ctx, nil, p)
}

// CreateSubscriptionTx is CreateSubscription in the caller's transaction.
func (e *Engine) CreateSubscriptionTx(ctx context.Context, tx pgx.Tx, p CreateSubscriptionParams) (*subscription.Subscription, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.createSubscription(ctx, tx, p)
}

func (e *Engine) createSubscription(ctx context.Context, tx pgx.Tx, p CreateSubscriptionParams) (*subscription.Subscription, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	now := e.now()
	s := &subscription.Subscription{
		ID:          ids.New(ids.Subscription),
		Namespace:   p.Namespace,
		WebhookID:   p.WebhookID,
		EventName:   p.EventName,
		Active:      !p.Inactive,
		LabelFilter: p.LabelFilter,
		Template:    p.Template,
		Filter:      p.Filter,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if s.LabelFilter == nil {
		s.LabelFilter = map[string]string{}
	}
	err := e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		if _, err := store.WebhookGet(ctx, db, p.Namespace, p.WebhookID, false); err != nil {
			return err
		}
		if _, err := store.EventTypeCheck(ctx, db, []string{p.EventName}, false, func(int) string { return "event_name" }); err != nil {
			return err
		}
		existing, err := store.SubscriptionGetForWebhook(ctx, db, p.WebhookID, p.EventName)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return store.SubscriptionInsertMany(ctx, db, s)
		case err != nil:
			return err
		case existing.Active != s.Active || existing.Template != s.Template || existing.Filter != s.Filter ||
			!maps.Equal(existing.LabelFilter, s.LabelFilter):
			return errs.AlreadyExists("webhook %s already subscribes to %s with other settings (change them with UpdateSubscription)",
				p.WebhookID, p.EventName)
		}
		s = existing
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// GetSubscription returns subscription id of namespace.
func (e *Engine) GetSubscription(ctx context.Context, namespace, id string) (*subscription.Subscription, error) {
	namespace, err := validateRef(namespace, "subscription_id", ids.Subscription, id)
	if err != nil {
		return nil, err
	}
	return store.SubscriptionGet(ctx, e.db(nil), namespace, id)
}

// ListSubscriptionsParams selects a page of a namespace's subscriptions,
// newest first.
type ListSubscriptionsParams struct {
	Namespace string
	WebhookID string
	EventName string
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

// ListSubscriptions returns a page of a namespace's subscriptions, newest
// first.
func (e *Engine) ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) (*Page[subscription.Subscription], error) {
	namespace, limit, before, err := validateListing(p.Namespace, p.Limit, p.Cursor)
	if err != nil {
		return nil, err
	}
	if p.WebhookID != "" {
		if _, err := validateRef(namespace, "webhook_id", ids.Webhook, p.WebhookID); err != nil {
			return nil, err
		}
	}
	if p.EventName != "" {
		if err := event.ValidateName("event_name", p.EventName); err != nil {
			return nil, err
		}
	}
	subs, more, err := store.SubscriptionList(ctx, e.db(nil), store.SubscriptionListParams{
		Namespace: namespace, WebhookID: p.WebhookID, EventName: p.EventName, Before: before, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	return newPage(subs, more, func(s *subscription.Subscription) string { return s.ID }), nil
}

// UpdateSubscriptionParams changes a subscription; nil fields are left as
// they are.
type UpdateSubscriptionParams struct {
	Namespace   string
	ID          string
	Active      *bool
	LabelFilter *map[string]string
	// Template replaces the template; a pointer to "" removes it.
	Template *string
	// Filter replaces the payload filter; a pointer to "" removes it.
	Filter *string
}

func (p *UpdateSubscriptionParams) validate() (err error) {
	if p.Namespace, err = validateRef(p.Namespace, "subscription_id", ids.Subscription, p.ID); err != nil {
		return err
	}
	if p.LabelFilter != nil {
		if err := subscription.ValidateLabelFilter("label_filter", *p.LabelFilter); err != nil {
			return err
		}
	}
	if p.Template != nil {
		if err := validateTemplate("template", *p.Template); err != nil {
			return err
		}
	}
	if p.Filter != nil {
		return validateFilter("filter", *p.Filter)
	}
	return nil
}

// UpdateSubscription changes a subscription. Deliveries already made keep
// the body they were rendered with; a new filter applies to the events
// fanned out from then on.
func (e *Engine) UpdateSubscription(ctx context.Context, p UpdateSubscriptionParams) (*subscription.Subscription, error) {
	return e.updateSubscription(ctx, nil, p)
}

// UpdateSubscriptionTx is UpdateSubscription in the caller's transaction.
func (e *Engine) UpdateSubscriptionTx(ctx context.Context, tx pgx.Tx, p UpdateSubscriptionParams) (*subscription.Subscription, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.updateSubscription(ctx, tx, p)
}

func (e *Engine) updateSubscription(ctx context.Context, tx pgx.Tx, p UpdateSubscriptionParams) (*subscription.Subscription, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return store.SubscriptionUpdate(ctx, e.db(tx), p.Namespace, p.ID,
		store.SubscriptionUpdateParams{Active: p.Active, LabelFilter: p.LabelFilter, Template: p.Template, Filter: p.Filter}, e.now())
}

// DeleteSubscription deletes a subscription. Deliveries already made are
// kept and still sent.
func (e *Engine) DeleteSubscription(ctx context.Context, namespace, id string) error {
	return e.deleteSubscription(ctx, nil, namespace, id)
}

// DeleteSubscriptionTx is DeleteSubscription in the caller's transaction.
func (e *Engine) DeleteSubscriptionTx(ctx context.Context, tx pgx.Tx, namespace, id string) error {
	if tx == nil {
		return errNilTx
	}
	return e.deleteSubscription(ctx, tx, namespace, id)
}

func (e *Engine) deleteSubscription(ctx context.Context, tx pgx.Tx, namespace, id string) error {
	namespace, err := validateRef(namespace, "subscription_id", ids.Subscription, id)
	if err != nil {
		return err
	}
	return store.SubscriptionDelete(ctx, e.db(tx), namespace, id)
}

// validateFilter checks a payload filter; "" is none.
func validateFilter(field, text string) error {
	if text == "" {
		return nil
	}
	_, err := subscription.ParseFilter(field, text)
	return err
}

func validateTemplate(field, text string) error {
	if text == "" {
		return nil
	}
	_, err := subscription.ParseTemplate(field, text)
	return err
}

// RenderTemplate renders a subscription template over a sample payload, as
// fan-out would, and saves nothing: for trying a template before saving it.
// A template that does not parse, or fails or renders something other than
// JSON over this payload, is refused with an *InvalidArgumentError naming
// "template".
func (e *Engine) RenderTemplate(ctx context.Context, template string, payload json.RawMessage) (json.RawMessage, error) {
	tmpl, err := subscription.ParseTemplate("template", template)
	if err != nil {
		return nil, err
	}
	if err := event.ValidatePayload("payload", payload, e.config.MaxPayloadBytes); err != nil {
		return nil, err
	}
	body, err := tmpl.Render(payload, e.config.TemplateTimeout)
	if err != nil {
		return nil, errs.InvalidArgument("template", "%s", strings.TrimPrefix(err.Error(), subscription.ErrTemplate.Error()+": "))
	}
	return body, nil
}
