package sparrow

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/internal/worker"
	"github.com/sparrowhq/sparrow/subscription"
	"github.com/sparrowhq/sparrow/webhook"
)

// RegisterWebhookParams describes a webhook to register.
type RegisterWebhookParams struct {
	// Namespace defaults to "default".
	Namespace string
	// URL is where deliveries are POSTed: absolute http or https.
	URL         string
	Description string
	// Events are event types to subscribe the webhook to, in the same
	// transaction. More subscriptions can be made later.
	Events []string
	// Inactive registers the webhook paused.
	Inactive bool
	// Secret signs deliveries: "whsec_" and a base64 key, or any other text
	// used as the key (HMAC-SHA256); or an ed25519 signing key, "whsk_" and
	// its base64. Empty: Sparrow generates one of SignatureScheme's kind
	// and returns it, once, in the result's Secret.
	Secret string
	// SignatureScheme is the kind of secret generated when Secret is empty:
	// webhook.SchemeHMAC (the default) or webhook.SchemeEd25519. With a
	// Secret, it must be the secret's kind.
	SignatureScheme string
	// Headers are sent with every delivery. Their values are write-only:
	// reads show webhook.MaskedHeaderValue. With WithSecretKeys they are
	// encrypted at rest, as secrets are.
	Headers map[string]string
	// Timeout bounds one attempt: default 30s, at most 60s.
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one delivery: default 8 (or one
	// more than RetrySchedule's length), at most 50.
	MaxAttempts int
	// RetrySchedule, when set, is the wait before each retry in place of the
	// engine's backoff: the n-th failure waits RetrySchedule[n-1], the last
	// repeating; a receiver's longer Retry-After still wins. At most 20
	// waits, each from 1s to 24h.
	RetrySchedule []time.Duration
	// RateLimitPerSecond bounds the requests sent to the webhook a second,
	// by every engine on the database together; deliveries over it wait,
	// spending no attempt. 0: no limit; at most 10,000.
	RateLimitPerSecond int
}

func (p *RegisterWebhookParams) validate() (err error) {
	if p.Namespace, err = validate.Namespace(p.Namespace); err != nil {
		return err
	}
	return firstError(
		webhook.ValidateURL("url", p.URL),
		validate.Text("description", p.Description, validate.MaxDescriptionLen),
		validateEventNames("events", p.Events),
		validateSecret("webhook_secret", p.Secret),
		validateScheme("signature_scheme", p.SignatureScheme, p.Secret),
		webhook.ValidateHeaders("headers", p.Headers),
		webhook.ValidateTimeout("timeout_seconds", p.Timeout),
		webhook.ValidateMaxAttempts("max_attempts", p.MaxAttempts),
		webhook.ValidateRetrySchedule("retry_schedule", p.RetrySchedule),
		webhook.ValidateRateLimit("rate_limit_per_second", p.RateLimitPerSecond),
	)
}

// RegisterWebhook registers a webhook and subscribes it to p.Events. The
// result carries the signing secret, the only time it is returned besides
// RotateWebhookSecret.
func (e *Engine) RegisterWebhook(ctx context.Context, p RegisterWebhookParams) (*webhook.Webhook, error) {
	return e.registerWebhook(ctx, nil, p)
}

// RegisterWebhookTx is RegisterWebhook in the caller's transaction.
func (e *Engine) RegisterWebhookTx(ctx context.Context, tx pgx.Tx, p RegisterWebhookParams) (*webhook.Webhook, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.registerWebhook(ctx, tx, p)
}

func (e *Engine) registerWebhook(ctx context.Context, tx pgx.Tx, p RegisterWebhookParams) (*webhook.Webhook, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	now := e.now()
	state := webhook.StateActive
	if p.Inactive {
		state = webhook.StatePaused
	}
	secretValue := cmp.Or(p.Secret, webhook.NewSecretOf(p.SignatureScheme))
	w := &webhook.Webhook{
		ID:                 ids.New(ids.Webhook),
		Namespace:          p.Namespace,
		URL:                p.URL,
		Description:        p.Description,
		State:              state,
		StateChangedAt:     now,
		Timeout:            cmp.Or(p.Timeout, webhook.TimeoutDefault),
		MaxAttempts:        cmp.Or(p.MaxAttempts, attemptsOf(p.RetrySchedule)),
		RetrySchedule:      p.RetrySchedule,
		RateLimitPerSecond: p.RateLimitPerSecond,
		CreatedAt:          now,
	}
	var stored *webhook.Webhook
	err := e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		if _, err := store.EventTypeCheck(ctx, db, p.Events, false, indexed("events")); err != nil {
			return err
		}
		headers := secretbox.SealHeaders(e.secretKeys, w.ID, p.Headers)
		secret := e.newSecret(w.ID, secretValue)
		secret.PublicKey = webhook.PublicKey(secretValue)
		if err := store.WebhookInsert(ctx, db, w, headers, secret); err != nil {
			return err
		}
		if err := e.subscribe(ctx, db, w, p.Events, now); err != nil {
			return err
		}
		var err error
		stored, err = store.WebhookGet(ctx, db, w.Namespace, w.ID, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	stored.Secret = secretValue
	return stored, nil
}

// subscribe subscribes w to events, one active subscription each.
func (e *Engine) subscribe(ctx context.Context, db dbutil.DB, w *webhook.Webhook, events []string, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	subs := make([]*subscription.Subscription, len(events))
	for i, name := range events {
		subs[i] = &subscription.Subscription{
			ID: ids.New(ids.Subscription), Namespace: w.Namespace, WebhookID: w.ID, EventName: name, Active: true, CreatedAt: now,
		}
	}
	return store.SubscriptionInsertMany(ctx, db, subs...)
}

// GetWebhook returns webhook id of namespace, without its secret.
func (e *Engine) GetWebhook(ctx context.Context, namespace, id string) (*webhook.Webhook, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, id)
	if err != nil {
		return nil, err
	}
	return store.WebhookGet(ctx, e.db(nil), namespace, id, false)
}

// ListWebhooksParams selects a page of a namespace's webhooks, newest first.
type ListWebhooksParams struct {
	Namespace string
	// Event keeps webhooks subscribed to this event type.
	Event string
	// ActiveOnly keeps webhooks that are neither paused nor disabled.
	ActiveOnly bool
	// Limit is the page size: default 20, at most 100.
	Limit  int
	Cursor string
}

// ListWebhooks returns a page of a namespace's webhooks, newest first.
func (e *Engine) ListWebhooks(ctx context.Context, p ListWebhooksParams) (*Page[webhook.Webhook], error) {
	namespace, limit, before, err := validateListing(p.Namespace, p.Limit, p.Cursor)
	if err != nil {
		return nil, err
	}
	if p.Event != "" {
		if err := event.ValidateName("event", p.Event); err != nil {
			return nil, err
		}
	}
	hooks, more, err := store.WebhookList(ctx, e.db(nil), store.WebhookListParams{
		Namespace: namespace, Event: p.Event, ActiveOnly: p.ActiveOnly, Before: before, Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	return newPage(hooks, more, func(w *webhook.Webhook) string { return w.ID }), nil
}

// UpdateWebhookParams changes a webhook's settings; nil fields are left as
// they are.
type UpdateWebhookParams struct {
	Namespace   string
	ID          string
	URL         *string
	Description *string
	// Events, when set, becomes the webhook's list of subscribed event
	// types: subscriptions to types not listed are deleted, missing ones are
	// created, the rest (with their filters and templates) are kept.
	Events *[]string
	// Headers, when set, become the webhook's custom headers. A value of
	// webhook.MaskedHeaderValue (what reads show) keeps that header's
	// current value, so a webhook read, edited and sent back keeps them.
	Headers *map[string]string
	Timeout *time.Duration
	// MaxAttempts, when set, is the new attempt limit; unset while
	// RetrySchedule is set, it becomes one more than the schedule's length.
	MaxAttempts *int
	// RetrySchedule, when set, replaces the retry schedule; an empty one
	// restores the engine's backoff (and, unless MaxAttempts is set, the
	// default attempt limit).
	RetrySchedule *[]time.Duration
	// RateLimitPerSecond, when set, replaces the rate limit; 0 removes it.
	RateLimitPerSecond *int
}

func (p *UpdateWebhookParams) validate() (err error) {
	if p.Namespace, err = validateRef(p.Namespace, "webhook_id", ids.Webhook, p.ID); err != nil {
		return err
	}
	var checks []error
	if p.URL != nil {
		checks = append(checks, webhook.ValidateURL("url", *p.URL))
	}
	if p.Description != nil {
		checks = append(checks, validate.Text("description", *p.Description, validate.MaxDescriptionLen))
	}
	if p.Events != nil {
		checks = append(checks, validateEventNames("events", *p.Events))
	}
	if p.Headers != nil {
		checks = append(checks, webhook.ValidateHeaders("headers", *p.Headers))
	}
	if p.Timeout != nil {
		checks = append(checks, webhook.ValidateTimeout("timeout_seconds", *p.Timeout))
	}
	if p.MaxAttempts != nil {
		checks = append(checks, webhook.ValidateMaxAttempts("max_attempts", *p.MaxAttempts))
	}
	if p.RetrySchedule != nil {
		checks = append(checks, webhook.ValidateRetrySchedule("retry_schedule", *p.RetrySchedule))
	}
	if p.RateLimitPerSecond != nil {
		checks = append(checks, webhook.ValidateRateLimit("rate_limit_per_second", *p.RateLimitPerSecond))
	}
	return firstError(checks...)
}

// attemptsOf is the attempt limit a retry schedule implies: a first attempt
// and one per wait; without a schedule, the default.
func attemptsOf(schedule []time.Duration) int {
	if len(schedule) == 0 {
		return webhook.MaxAttemptsDefault
	}
	return len(schedule) + 1
}

// UpdateWebhook changes a webhook's settings. Deliveries already made keep
// the attempt limit they were made with.
func (e *Engine) UpdateWebhook(ctx context.Context, p UpdateWebhookParams) (*webhook.Webhook, error) {
	return e.updateWebhook(ctx, nil, p)
}

// UpdateWebhookTx is UpdateWebhook in the caller's transaction.
func (e *Engine) UpdateWebhookTx(ctx context.Context, tx pgx.Tx, p UpdateWebhookParams) (*webhook.Webhook, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.updateWebhook(ctx, tx, p)
}

func (e *Engine) updateWebhook(ctx context.Context, tx pgx.Tx, p UpdateWebhookParams) (*webhook.Webhook, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	now := e.now()
	u := store.WebhookUpdateParams{URL: p.URL, Description: p.Description, MaxAttempts: p.MaxAttempts,
		RetrySchedule: p.RetrySchedule, RateLimitPerSecond: p.RateLimitPerSecond}
	if p.Timeout != nil {
		timeout := cmp.Or(*p.Timeout, webhook.TimeoutDefault)
		u.Timeout = &timeout
	}
	switch {
	case p.MaxAttempts != nil && *p.MaxAttempts == 0, p.MaxAttempts == nil && p.RetrySchedule != nil:
		var schedule []time.Duration
		if p.RetrySchedule != nil {
			schedule = *p.RetrySchedule
		}
		attempts := attemptsOf(schedule)
		u.MaxAttempts = &attempts
	}
	var updated *webhook.Webhook
	err := e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		current, err := store.WebhookGet(ctx, db, p.Namespace, p.ID, true)
		if err != nil {
			return err
		}
		if p.Headers != nil {
			if u.Headers, err = e.mergeHeaders(ctx, db, current, *p.Headers); err != nil {
				return err
			}
		}
		if p.Events != nil {
			if err := e.syncEvents(ctx, db, current, *p.Events, now); err != nil {
				return err
			}
		}
		updated, err = store.WebhookUpdate(ctx, db, p.Namespace, p.ID, u, now)
		return err
	})
	return updated, err
}

// mergeHeaders returns the stored form of the headers an update gives w: a
// masked value keeps the header's current value, the current headers being
// opened only then.
func (e *Engine) mergeHeaders(ctx context.Context, db dbutil.DB, w *webhook.Webhook, given map[string]string) (*secretbox.Headers, error) {
	merged := make(map[string]string, len(given))
	var current map[string]string
	for name, value := range given {
		if value != webhook.MaskedHeaderValue {
			merged[name] = value
			continue
		}
		if _, ok := w.Headers[name]; !ok {
			return nil, errs.InvalidArgument("headers["+name+"]", "is masked, but the webhook has no such header to keep")
		}
		if current == nil {
			var err error
			if current, err = e.openHeaders(ctx, db, w.ID); err != nil {
				return nil, err
			}
		}
		merged[name] = current[name]
	}
	stored := secretbox.SealHeaders(e.secretKeys, w.ID, merged)
	return &stored, nil
}

// openHeaders returns the custom headers of webhook id, opened. Headers
// sealed with a key the engine lacks fail the update that would keep them.
func (e *Engine) openHeaders(ctx context.Context, db dbutil.DB, id string) (map[string]string, error) {
	stored, err := store.WebhookGetHeaders(ctx, db, id)
	if err != nil {
		return nil, err
	}
	headers, err := secretbox.RevealHeaders(e.secretKeys, id, stored)
	if err != nil {
		return nil, errs.FailedPrecondition("the headers of webhook %s cannot be opened to keep their values (%v): give them all anew", id, err)
	}
	return headers, nil
}

// syncEvents makes w's subscriptions cover exactly events.
func (e *Engine) syncEvents(ctx context.Context, db dbutil.DB, w *webhook.Webhook, events []string, now time.Time) error {
	if _, err := store.EventTypeCheck(ctx, db, events, false, indexed("events")); err != nil {
		return err
	}
	if err := store.SubscriptionDeleteForWebhook(ctx, db, w.ID, events); err != nil {
		return err
	}
	var missing []string
	for _, name := range events {
		if !slices.Contains(w.Events, name) {
			missing = append(missing, name)
		}
	}
	return e.subscribe(ctx, db, w, missing, now)
}

// PauseWebhook pauses a webhook: its deliveries wait, spending no attempts,
// until ResumeWebhook. Pausing a paused webhook changes nothing.
func (e *Engine) PauseWebhook(ctx context.Context, namespace, id string) (*webhook.Webhook, error) {
	return e.pauseWebhook(ctx, nil, namespace, id)
}

// PauseWebhookTx is PauseWebhook in the caller's transaction.
func (e *Engine) PauseWebhookTx(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Webhook, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.pauseWebhook(ctx, tx, namespace, id)
}

func (e *Engine) pauseWebhook(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Webhook, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, id)
	if err != nil {
		return nil, err
	}
	var w *webhook.Webhook
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		var err error
		w, _, err = store.WebhookSetState(ctx, e.schema.On(tx), namespace, id, webhook.StatePaused, "paused by request", e.now())
		return err
	})
	return w, err
}

// ResumeWebhook makes a paused or disabled webhook active again; its waiting
// deliveries go out promptly. A webhook Sparrow disabled also has its health
// reset: state unknown, figures from zero, and the change goes to
// WithOnHealthChange once committed. Resuming an active webhook changes
// nothing.
func (e *Engine) ResumeWebhook(ctx context.Context, namespace, id string) (*webhook.Webhook, error) {
	w, reset, err := e.resumeWebhook(ctx, nil, namespace, id)
	if err == nil && reset != nil && e.config.Hooks.OnHealthChange != nil {
		e.config.Hooks.OnHealthChange(ctx, *reset)
	}
	return w, err
}

// ResumeWebhookTx is ResumeWebhook in the caller's transaction: the waiting
// deliveries go out once it commits. Sparrow cannot see that commit, so the
// health reset is not passed to WithOnHealthChange.
func (e *Engine) ResumeWebhookTx(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Webhook, error) {
	if tx == nil {
		return nil, errNilTx
	}
	w, _, err := e.resumeWebhook(ctx, tx, namespace, id)
	return w, err
}

// resumeWebhook returns the webhook and the health transition the resume
// made, if any.
func (e *Engine) resumeWebhook(ctx context.Context, tx pgx.Tx, namespace, id string) (*webhook.Webhook, *health.Transition, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, id)
	if err != nil {
		return nil, nil, err
	}
	now := e.now()
	var w *webhook.Webhook
	var reset *health.Transition
	err = e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		current, err := store.WebhookGet(ctx, db, namespace, id, false)
		if err != nil || current.State == webhook.StateActive {
			w = current
			return err
		}
		// A webhook Sparrow disabled starts over: its old failures would
		// disable it again at once, and its health stays disabled until
		// reset. So does one paused since it was disabled. Health before
		// webhook: the lock order of recording attempts.
		resetHealth := store.HealthResetIfDisabled
		if current.State == webhook.StateDisabled {
			resetHealth = store.HealthReset
		}
		if reset, err = resetHealth(ctx, db, id, now); err != nil {
			return err
		}
		if w, _, err = store.WebhookSetState(ctx, db, namespace, id, webhook.StateActive, "", now); err != nil {
			return err
		}
		return e.insertJobs(ctx, tx, []river.InsertManyParams{worker.UnparkJob(ctx, e.config.Queue, id)})
	})
	if err != nil {
		return nil, nil, err
	}
	return w, reset, nil
}

// DeleteWebhook deletes a webhook and its subscriptions, and cancels its
// pending deliveries. Its delivery history stays readable.
func (e *Engine) DeleteWebhook(ctx context.Context, namespace, id string) error {
	return e.deleteWebhook(ctx, nil, namespace, id)
}

// DeleteWebhookTx is DeleteWebhook in the caller's transaction.
func (e *Engine) DeleteWebhookTx(ctx context.Context, tx pgx.Tx, namespace, id string) error {
	if tx == nil {
		return errNilTx
	}
	return e.deleteWebhook(ctx, tx, namespace, id)
}

func (e *Engine) deleteWebhook(ctx context.Context, tx pgx.Tx, namespace, id string) error {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, id)
	if err != nil {
		return err
	}
	now := e.now()
	return e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		if err := store.WebhookSoftDelete(ctx, db, namespace, id, now); err != nil {
			return err
		}
		if err := store.SubscriptionDeleteForWebhook(ctx, db, id, nil); err != nil {
			return err
		}
		_, err := store.DeliveryCancelPending(ctx, db, id, now)
		return err
	})
}

// RotateWebhookSecretParams describes a secret rotation.
type RotateWebhookSecretParams struct {
	Namespace string
	ID        string
	// Secret is the new secret; empty: Sparrow generates one of
	// SignatureScheme's kind.
	Secret string
	// SignatureScheme is the kind of secret generated when Secret is empty:
	// webhook.SchemeHMAC or webhook.SchemeEd25519; empty: the kind the
	// webhook signs with now. With a Secret, it must be the secret's kind.
	SignatureScheme string
	// GracePeriod is how long the secrets replaced keep signing alongside
	// the new one, so receivers can switch without missing a delivery.
	// Nil: the engine's default (WithSecretGracePeriod); zero: none.
	GracePeriod *time.Duration
}

// MaxSecretGracePeriod bounds a rotation's grace period.
const MaxSecretGracePeriod = 30 * 24 * time.Hour

func (p *RotateWebhookSecretParams) validate() (err error) {
	if p.Namespace, err = validateRef(p.Namespace, "webhook_id", ids.Webhook, p.ID); err != nil {
		return err
	}
	if p.GracePeriod != nil && (*p.GracePeriod < 0 || *p.GracePeriod > MaxSecretGracePeriod) {
		return errs.InvalidArgument("grace_period_seconds", "must be between 0 and %s", MaxSecretGracePeriod)
	}
	return firstError(
		validateSecret("webhook_secret", p.Secret),
		validateScheme("signature_scheme", p.SignatureScheme, p.Secret),
	)
}

// RotateWebhookSecret gives a webhook a new signing secret, returned in the
// result's Secret. During the grace period deliveries carry a signature by
// each secret.
func (e *Engine) RotateWebhookSecret(ctx context.Context, p RotateWebhookSecretParams) (*webhook.Webhook, error) {
	return e.rotateWebhookSecret(ctx, nil, p)
}

// RotateWebhookSecretTx is RotateWebhookSecret in the caller's transaction.
func (e *Engine) RotateWebhookSecretTx(ctx context.Context, tx pgx.Tx, p RotateWebhookSecretParams) (*webhook.Webhook, error) {
	if tx == nil {
		return nil, errNilTx
	}
	return e.rotateWebhookSecret(ctx, tx, p)
}

func (e *Engine) rotateWebhookSecret(ctx context.Context, tx pgx.Tx, p RotateWebhookSecretParams) (*webhook.Webhook, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	now := e.now()
	grace := e.config.SecretGracePeriod
	if p.GracePeriod != nil {
		grace = *p.GracePeriod
	}
	secretValue := p.Secret
	var w *webhook.Webhook
	err := e.inTx(ctx, tx, func(tx pgx.Tx) error {
		db := e.schema.On(tx)
		var err error
		if w, err = store.WebhookGet(ctx, db, p.Namespace, p.ID, true); err != nil {
			return err
		}
		if secretValue == "" {
			secretValue = webhook.NewSecretOf(cmp.Or(p.SignatureScheme, w.SignatureScheme))
		}
		secret := e.newSecret(w.ID, secretValue)
		secret.PublicKey = webhook.PublicKey(secretValue)
		return store.WebhookSecretRotate(ctx, db, w.ID, secret, now.Add(grace))
	})
	if err != nil {
		return nil, err
	}
	w.Secret, w.SignatureScheme, w.PublicKey = secretValue, webhook.SchemeOf(secretValue), webhook.PublicKey(secretValue)
	return w, nil
}

// indexed names the elements of a list field: "events[2]".
func indexed(field string) func(i int) string {
	return func(i int) string { return fmt.Sprintf("%s[%d]", field, i) }
}

func validateEventNames(field string, names []string) error {
	if len(names) > webhook.MaxEvents {
		return errs.InvalidArgument(field, "more than %d event types", webhook.MaxEvents)
	}
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := event.ValidateName(f, name); err != nil {
			return err
		}
		if seen[name] {
			return errs.InvalidArgument(f, "%q is listed twice", name)
		}
		seen[name] = true
	}
	return nil
}

// validateScheme checks a signature scheme asked for alongside a secret,
// which must be of its kind.
func validateScheme(field, scheme, secret string) error {
	if err := webhook.ValidateScheme(field, scheme); err != nil {
		return err
	}
	if scheme != "" && secret != "" && webhook.SchemeOf(secret) != scheme {
		return errs.InvalidArgument(field, "is %q but webhook_secret is an %s secret: give one or the other, or both of one kind",
			scheme, webhook.SchemeOf(secret))
	}
	return nil
}

func validateSecret(field, secret string) error {
	if secret == "" {
		return nil
	}
	return webhook.ValidateSecret(field, secret)
}
