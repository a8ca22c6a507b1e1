// Package telemetry holds Sparrow's OpenTelemetry instruments: the tracer,
// the metrics, the carrying of trace context through River job metadata, and
// a slog handler that stamps trace ids on log lines.
package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/internal/version"
)

// ScopeName names Sparrow's tracer and meter.
const ScopeName = "github.com/sparrowhq/sparrow"

// Attribute keys Sparrow puts on spans and metrics.
const (
	AttrNamespace  = attribute.Key("sparrow.namespace")
	AttrEventName  = attribute.Key("sparrow.event.name")
	AttrEventID    = attribute.Key("sparrow.event.id")
	AttrEventCount = attribute.Key("sparrow.event.count")
	AttrDeliveryID = attribute.Key("sparrow.delivery.id")
	AttrWebhookID  = attribute.Key("sparrow.webhook.id")
	AttrAttempt    = attribute.Key("sparrow.delivery.attempt")
	AttrOutcome    = attribute.Key("sparrow.delivery.outcome")
	AttrDeliveries = attribute.Key("sparrow.delivery.count")
	AttrState      = attribute.Key("sparrow.webhook.health")
	// AttrErrorType is the semantic conventions' error.type, holding
	// Sparrow's error class.
	AttrErrorType = attribute.Key("error.type")
)

// Telemetry is the engine's tracer and instruments.
type Telemetry struct {
	Tracer trace.Tracer
	Meter  metric.Meter

	// EventsPushed counts events stored by pushes.
	EventsPushed metric.Int64Counter
	// Deliveries counts deliveries moving on, by outcome (the status they
	// moved to) and error class.
	Deliveries metric.Int64Counter
	// AttemptDuration measures attempts, by outcome and error class.
	AttemptDuration metric.Float64Histogram
	// DeliveryLatency measures the time from a push to its delivery's
	// success.
	DeliveryLatency metric.Float64Histogram
}

// New returns the instruments of tp and mp.
func New(tp trace.TracerProvider, mp metric.MeterProvider) (*Telemetry, error) {
	t := &Telemetry{
		Tracer: tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version.Version)),
		Meter:  mp.Meter(ScopeName, metric.WithInstrumentationVersion(version.Version)),
	}
	var err error
	if t.EventsPushed, err = t.Meter.Int64Counter("sparrow.events.pushed",
		metric.WithDescription("Events stored by pushes."), metric.WithUnit("{event}")); err != nil {
		return nil, err
	}
	if t.Deliveries, err = t.Meter.Int64Counter("sparrow.deliveries",
		metric.WithDescription("Deliveries moving on, by the status they moved to and error class."), metric.WithUnit("{delivery}")); err != nil {
		return nil, err
	}
	latencyBuckets := metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
	if t.AttemptDuration, err = t.Meter.Float64Histogram("sparrow.delivery.attempt.duration",
		metric.WithDescription("Duration of delivery attempts."), metric.WithUnit("s"), latencyBuckets); err != nil {
		return nil, err
	}
	if t.DeliveryLatency, err = t.Meter.Float64Histogram("sparrow.delivery.latency",
		metric.WithDescription("Time from an event's push to its delivery's success."), metric.WithUnit("s"), latencyBuckets); err != nil {
		return nil, err
	}
	return t, nil
}

// jobTraceKey is the key of the trace context in a River job's metadata.
const jobTraceKey = "sparrow_trace"

// carrier is always W3C Trace Context: it is read back by Sparrow only, so
// the host's choice of propagator doesn't matter here.
var carrier = propagation.TraceContext{}

// JobMetadata returns River job metadata carrying ctx's span context, or nil
// when ctx has none.
func JobMetadata(ctx context.Context) []byte {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	headers := propagation.MapCarrier{}
	carrier.Inject(ctx, headers)
	b, _ := json.Marshal(map[string]propagation.MapCarrier{jobTraceKey: headers})
	return b
}

// FromJob returns ctx carrying the span context stored in a job's metadata,
// so the job's spans join the trace that created it.
func FromJob(ctx context.Context, metadata []byte) context.Context {
	// River keeps its own keys in the metadata too (a snooze count).
	var m map[string]json.RawMessage
	var headers propagation.MapCarrier
	if len(metadata) == 0 || json.Unmarshal(metadata, &m) != nil || json.Unmarshal(m[jobTraceKey], &headers) != nil {
		return ctx
	}
	return carrier.Extract(ctx, headers)
}

// LogHandler wraps h so that records logged with a context carrying a span
// get its trace_id and span_id.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(logHandler); ok {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}
