package sparrow

import (
	"context"

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
// and its latest state changes.
func (e *Engine) GetWebhookHealth(ctx context.Context, namespace, webhookID string) (*health.Health, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, webhookID)
	if err != nil {
		return nil, err
	}
	return store.HealthGet(ctx, e.db(nil), namespace, webhookID, e.config.HealthThresholds.Window, e.now())
}

// GetHealthSummary returns the health of a namespace: its webhooks per
// state, the overall success rate over the health window, and the worst
// webhooks.
func (e *Engine) GetHealthSummary(ctx context.Context, namespace string) (*health.Summary, error) {
	namespace, err := validate.Namespace(namespace)
	if err != nil {
		return nil, err
	}
	return store.HealthSummarize(ctx, e.db(nil), namespace, e.config.HealthThresholds.Window, worstInSummary, e.now())
}
