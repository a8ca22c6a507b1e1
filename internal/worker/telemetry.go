package worker

import (
	"context"
	"errors"
	"sync"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/telemetry"
)

// endSpan ends span, marking it failed when err is a failure (a snooze is
// River's way to reschedule, not one).
func endSpan(span trace.Span, err error) {
	var snooze *river.JobSnoozeError
	if err != nil && !errors.As(err, &snooze) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// counter counts deliveries' outcomes.
type counter struct{ telemetry *telemetry.Telemetry }

// delivery counts a delivery moving to status.
func (c *counter) delivery(ctx context.Context, status delivery.Status, class delivery.ErrorClass) {
	c.telemetry.Deliveries.Add(ctx, 1, outcomeAttributes(status, class))
}

// outcomes caches the attribute sets of outcomes: there are few, and
// building a set for every attempt is a measurable share of its cost.
var outcomes sync.Map // outcomeKey -> metric.MeasurementOption

type outcomeKey struct {
	status delivery.Status
	class  delivery.ErrorClass
}

// outcomeAttributes returns the metric attributes of an outcome.
func outcomeAttributes(status delivery.Status, class delivery.ErrorClass) metric.MeasurementOption {
	key := outcomeKey{status, class}
	if opt, ok := outcomes.Load(key); ok {
		return opt.(metric.MeasurementOption)
	}
	opt, _ := outcomes.LoadOrStore(key, metric.WithAttributeSet(attribute.NewSet(
		telemetry.AttrOutcome.String(string(status)), telemetry.AttrErrorType.String(string(class)))))
	return opt.(metric.MeasurementOption)
}
