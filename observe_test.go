package sparrow_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// observed pushes one event from inside a caller's span to two webhooks, one
// answering 500 once before succeeding, and waits for both deliveries.
func observed(t *testing.T, opts ...sparrow.Option) (b *testBundle, caller trace.SpanContext, traceparents []string) {
	t.Helper()
	ctx := context.Background()
	b = setup(t, opts...)
	b.start(t)
	var mu sync.Mutex
	record := func(r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		mu.Unlock()
	}
	flaky := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		record(r)
		if n == 1 {
			w.WriteHeader(500)
		}
	})
	steady := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) { record(r) })
	b.registerEvent(t, "order.created")
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: flaky.URL, Events: []string{"order.created"}})
	b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: steady.URL, Events: []string{"order.created"}})

	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(ctx, "handle order")
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	span.End()
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 2) {
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	}
	mu.Lock()
	defer mu.Unlock()
	return b, span.SpanContext(), append([]string(nil), traceparents...)
}

func TestTracing(t *testing.T) {
	t.Parallel()

	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	_, caller, traceparents := observed(t, sparrow.WithTracerProvider(tp))

	// The deliveries' spans end after their attempts are recorded.
	var spans []sdktrace.ReadOnlySpan
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// The caller's trace only: health changes push alerts, whose
		// fan-outs start traces of their own.
		spans = spans[:0]
		for _, s := range recorder.Ended() {
			if s.SpanContext().TraceID() == caller.TraceID() {
				spans = append(spans, s)
			}
		}
		clear(byName)
		for _, s := range spans {
			byName[s.Name()] = append(byName[s.Name()], s)
		}
		if len(byName["sparrow.deliver"]) == 3 && len(byName["HTTP POST"]) == 3 {
			break
		}
	}
	if len(byName["sparrow.push"]) != 1 || len(byName["sparrow.fanout"]) != 1 || len(byName["sparrow.deliver"]) != 3 || len(byName["HTTP POST"]) != 3 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name())
		}
		t.Fatalf("spans: %v; want one push, one fan-out, three attempts with an HTTP span each", names)
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() != caller.TraceID() {
			t.Fatalf("span %s is in trace %s, not the caller's %s", s.Name(), s.SpanContext().TraceID(), caller.TraceID())
		}
	}
	push, fanout := byName["sparrow.push"][0], byName["sparrow.fanout"][0]
	if push.Parent().SpanID() != caller.SpanID() {
		t.Fatal("the push span is not a child of the caller's span")
	}
	if fanout.Parent().SpanID() != push.SpanContext().SpanID() {
		t.Fatal("the fan-out span is not a child of the push span")
	}
	attempts := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var failed int
	for _, d := range byName["sparrow.deliver"] {
		if d.Parent().SpanID() != fanout.SpanContext().SpanID() {
			t.Fatal("an attempt span is not a child of the fan-out span")
		}
		attempts[d.SpanContext().SpanID()] = d
		if d.Status().Code.String() == "Error" {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d attempt spans marked failed, want the one answered 500", failed)
	}
	httpSpans := map[string]bool{}
	for _, h := range byName["HTTP POST"] {
		if _, ok := attempts[h.Parent().SpanID()]; !ok {
			t.Fatal("an HTTP span is not a child of an attempt span")
		}
		httpSpans[h.SpanContext().SpanID().String()] = true
	}
	// Receivers see the HTTP span as their parent, in the caller's trace.
	if len(traceparents) != 3 {
		t.Fatalf("%d requests received", len(traceparents))
	}
	for _, tp := range traceparents {
		parts := strings.Split(tp, "-")
		if len(parts) != 4 || parts[1] != caller.TraceID().String() || !httpSpans[parts[2]] {
			t.Fatalf("traceparent %q: want the caller's trace and an HTTP span as parent", tp)
		}
	}
}

func TestTraceparentOff(t *testing.T) {
	t.Parallel()

	tp := sdktrace.NewTracerProvider()
	_, _, traceparents := observed(t, sparrow.WithTracerProvider(tp), sparrow.WithTraceparent(false))
	for _, h := range traceparents {
		if h != "" {
			t.Fatalf("traceparent %q sent with WithTraceparent(false)", h)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	b, _, _ := observed(t, sparrow.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	// A paused webhook's delivery stays pending.
	rcv := newReceiver(t, nil)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Inactive: true})
	ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 3) {
		if d.WebhookID == w.ID {
			b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Waiting })
		}
	}

	var rm metricdata.ResourceMetrics
	var sums map[string]int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		sums = flatten(rm)
		if sums["sparrow.deliveries outcome=succeeded error=-"] == 4 {
			break
		}
	}
	// Collect once more: a collection runs the database gauges before it
	// reads the counters, so the one that first saw the last success may
	// have queried just before that success committed.
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	sums = flatten(rm)
	want := map[string]int64{
		"sparrow.events.pushed event=order.created":          2,
		"sparrow.deliveries outcome=retrying error=http_5xx": 1,
		"sparrow.deliveries outcome=succeeded error=-":       4,
		"sparrow.delivery.attempt.duration count":            5,
		"sparrow.delivery.latency count":                     4,
		"sparrow.deliveries.pending":                         1,
		"sparrow.webhooks state=healthy":                     2,
		"sparrow.webhooks state=unknown":                     1,
	}
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("%s = %d, want %d", k, sums[k], v)
		}
	}
	if t.Failed() {
		t.Logf("all: %v", sums)
		page, _ := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{})
		for _, d := range page.Items {
			t.Logf("%s %s %s attempts=%d waiting=%v", d.ID, d.WebhookID, d.Status, d.AttemptCount, d.Waiting)
		}
	}
}

// flatten sums the collected data points into "name label=value..." keys.
func flatten(rm metricdata.ResourceMetrics) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/sparrowhq/sparrow" {
			continue
		}
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					out[m.Name+labels(dp.Attributes)] += dp.Value
				}
			case metricdata.Gauge[int64]:
				for _, dp := range data.DataPoints {
					out[m.Name+labels(dp.Attributes)] += dp.Value
				}
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					out[m.Name+" count"] += int64(dp.Count)
				}
			}
		}
	}
	return out
}

// labels writes the attributes the tests look at, in a fixed order.
func labels(set attribute.Set) string {
	var b strings.Builder
	for _, l := range []struct{ key, name string }{
		{"sparrow.event.name", "event"}, {"sparrow.delivery.outcome", "outcome"}, {"error.type", "error"}, {"sparrow.webhook.health", "state"},
	} {
		if v, ok := set.Value(attribute.Key(l.key)); ok {
			value := v.AsString()
			if value == "" {
				value = "-"
			}
			b.WriteString(" " + l.name + "=" + value)
		}
	}
	return b.String()
}

// TestLogs checks the engine's log lines name what they are about and the
// trace they belong to.
func TestLogs(t *testing.T) {
	t.Parallel()

	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	observed(t, sparrow.WithLogger(logger), sparrow.WithTracerProvider(sdktrace.NewTracerProvider()))
	var attempts, fanouts int
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		switch rec["msg"] {
		case "sparrow: delivery attempt":
			attempts++
			for _, key := range []string{"delivery_id", "webhook_id", "event_id", "trace_id", "span_id"} {
				if rec[key] == nil || rec[key] == "" {
					t.Errorf("attempt line without %s: %s", key, line)
				}
			}
		case "sparrow: fanned out":
			if rec["deliveries"] == 0.0 {
				continue // alerts of health changes, with no one subscribed
			}
			fanouts++
			if rec["trace_id"] == nil || rec["event_ids"] == nil {
				t.Errorf("fan-out line without trace or events: %s", line)
			}
		}
	}
	if attempts != 3 || fanouts != 1 {
		t.Fatalf("%d attempt lines and %d fan-out lines, want 3 and 1:\n%s", attempts, fanouts, buf.String())
	}
}

// syncBuffer is a buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
