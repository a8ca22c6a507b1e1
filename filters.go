package sparrow

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/subscription"
)

// TestFilter evaluates a payload filter over a sample event, as fan-out
// would, and saves nothing: for trying a filter before saving it. It
// reports whether the event passes. A filter that is empty, does not
// compile, or fails over this event (spends more than
// subscription.FilterCostLimit, compares a string with a number) is refused
// with an *InvalidArgumentError naming "filter": fan-out would not deliver
// such an event. A field the event lacks is no failure: the filter does not
// match.
func (e *Engine) TestFilter(ctx context.Context, filter string, payload json.RawMessage, labels map[string]string) (bool, error) {
	f, err := subscription.ParseFilter("filter", filter)
	if err != nil {
		return false, err
	}
	if err := firstError(
		event.ValidatePayload("payload", payload, e.config.MaxPayloadBytes),
		validate.Labels("labels", labels),
	); err != nil {
		return false, err
	}
	in, err := subscription.NewFilterInput(payload, labels)
	if err != nil {
		return false, err
	}
	matched, err := f.Match(in)
	if err != nil {
		return false, errs.InvalidArgument("filter", "fails over this event, which fan-out would then not deliver: %s",
			strings.TrimPrefix(err.Error(), subscription.ErrFilter.Error()+": "))
	}
	return matched, nil
}
