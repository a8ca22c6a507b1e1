package sparrow

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/jackc/puddle/v2"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
)

// tracedTransport wraps the delivery transport in an HTTP client span per
// attempt, and sends the span as traceparent (and tracestate) unless turned
// off. It costs nothing beyond a no-op span when tracing is off, which is
// why it is not otelhttp: that builds metric attributes for every request.
type tracedTransport struct {
	base       http.RoundTripper
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func newTracedTransport(base http.RoundTripper, tracer trace.Tracer, traceparent bool) http.RoundTripper {
	t := &tracedTransport{base: base, tracer: tracer}
	if traceparent {
		t.propagator = propagation.TraceContext{}
	}
	return t
}

func (t *tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(req.Context(), "HTTP "+req.Method, trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	if !span.SpanContext().IsValid() {
		return t.base.RoundTrip(req)
	}
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.URLFull(req.URL.String()),
			semconv.ServerAddress(req.URL.Hostname()))
		if port, err := strconv.Atoi(req.URL.Port()); err == nil {
			span.SetAttributes(semconv.ServerPort(port))
		}
	}
	if t.propagator != nil {
		req = req.Clone(ctx) // a RoundTripper must not change its caller's request
		t.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, resp.Status)
	}
	return resp, nil
}

// registerGauges reports what only the database knows, read when the meter
// collects (never with a no-op meter provider): pending deliveries, the age
// of the oldest job waiting in Sparrow's queue, and webhooks per health
// state.
func (e *Engine) registerGauges() error {
	meter := e.telemetry.Meter
	pending, err := meter.Int64ObservableGauge("sparrow.deliveries.pending",
		metric.WithDescription("Deliveries not finished yet, waiting ones included."), metric.WithUnit("{delivery}"))
	if err != nil {
		return err
	}
	lag, err := meter.Float64ObservableGauge("sparrow.queue.lag",
		metric.WithDescription("How long the oldest job due in Sparrow's queue, or event waiting for fan-out, has waited."), metric.WithUnit("s"))
	if err != nil {
		return err
	}
	webhooks, err := meter.Int64ObservableGauge("sparrow.webhooks",
		metric.WithDescription("Webhooks per health state."), metric.WithUnit("{webhook}"))
	if err != nil {
		return err
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		err := e.observeGauges(ctx, o, pending, lag, webhooks)
		if errors.Is(err, puddle.ErrClosedPool) {
			return nil // the host closed the pool: the engine is done
		}
		return err
	}, pending, lag, webhooks)
	return err
}

func (e *Engine) observeGauges(ctx context.Context, o metric.Observer, pending metric.Int64ObservableGauge,
	lag metric.Float64ObservableGauge, webhooks metric.Int64ObservableGauge) error {
	g, err := store.GaugesRead(ctx, e.db(nil), e.config.Queue)
	if err != nil {
		return err
	}
	o.ObserveInt64(pending, g.PendingDeliveries)
	o.ObserveFloat64(lag, g.QueueLag.Seconds())
	for state, count := range g.WebhooksByState {
		o.ObserveInt64(webhooks, count, metric.WithAttributes(telemetry.AttrState.String(state)))
	}
	return nil
}

// endSpan ends span, marking it failed when err is set.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
