package sparrow

import (
	"cmp"
	"context"
	"time"

	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// worstInSummary is how many webhooks GetHealthSummary lists as the worst.
const worstInSummary = 5

// GetWebhookHealth returns a webhook's health: its state (health_status in
// the API), success rate and latency over the engine's health window and
// over its last 100 attempts, consecutive failures, failures by error class
// and by HTTP status, and its latest state changes. A paused webhook's state
// is health.StatePaused.
func (e *Engine) GetWebhookHealth(ctx context.Context, namespace, webhookID string) (*health.Health, error) {
	return e.GetWebhookHealthOver(ctx, namespace, webhookID, 0)
}

// GetWebhookHealthOver is GetWebhookHealth with its figures and timeline over
// window: health.WindowHour (points a minute long), health.WindowDay (ten
// minutes) or health.WindowWeek (an hour), or 0 for the health window. Any
// other window is refused with an *InvalidArgumentError on "window_seconds".
// The state and the recent figures are those of GetWebhookHealth, whatever
// the window. Figures older than the retention (WithRetention) are gone, so
// under a week of retention a week's figures cover what is kept.
func (e *Engine) GetWebhookHealthOver(ctx context.Context, namespace, webhookID string, window time.Duration) (*health.Health, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, webhookID)
	if err != nil {
		return nil, err
	}
	if err := health.ValidateWindow("window_seconds", window); err != nil {
		return nil, err
	}
	window = cmp.Or(window, e.config.HealthThresholds.Window)
	return store.HealthGet(ctx, e.db(nil), namespace, webhookID, window, e.now())
}

// GetHealthSummary returns the health of a namespace: its webhooks per
// state (paused ones as health.StatePaused), the overall success rate over
// the health window, and the worst webhooks.
func (e *Engine) GetHealthSummary(ctx context.Context, namespace string) (*health.Summary, error) {
	namespace, err := validate.Namespace(namespace)
	if err != nil {
		return nil, err
	}
	return store.HealthSummarize(ctx, e.db(nil), namespace, e.config.HealthThresholds.Window, worstInSummary, e.now())
}
