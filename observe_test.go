package sparrow_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// observation is what observed did.
type observation struct {
	b *testBundle
	// caller is the span the event was pushed from.
	caller trace.SpanContext
	// traceparents are the headers the receivers got, one per request.
	traceparents []string
	// flakyURL answered 500 once, then 200; steadyURL answered 200.
	flakyURL, steadyURL string
}

// observed pushes one event from inside a caller's span to two webhooks, one
// answering 500 once before succeeding, and waits for both deliveries.
func observed(t *testing.T, opts ...sparrow.Option) observation {
	t.Helper()
	ctx := context.Background()
	b := setup(t, opts...)
	b.start(t)
	var mu sync.Mutex
	var traceparents []string
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
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	span.End()
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 2) {
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	}
	mu.Lock()
	defer mu.Unlock()
	return observation{b: b, caller: span.SpanContext(), traceparents: append([]string(nil), traceparents...), flakyURL: flaky.URL, steadyURL: steady.URL}
}

func TestTracing(t *testing.T) {
	t.Parallel()

	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	obs := observed(t, sparrow.WithTracerProvider(tp))
	caller, traceparents := obs.caller, obs.traceparents

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
	// The HTTP spans follow the semantic conventions for HTTP clients.
	var gotHTTP []httpSpan
	for _, h := range byName["HTTP POST"] {
		gotHTTP = append(gotHTTP, httpSpanOf(h))
	}
	flaky, steady := httpSpanTo(t, obs.flakyURL), httpSpanTo(t, obs.steadyURL)
	flakyFirst, flakyAgain, steadyOnly := flaky, flaky, steady
	flakyFirst.Status, flakyAgain.Status, steadyOnly.Status = 500, 200, 200
	wantHTTP := []httpSpan{flakyFirst, flakyAgain, steadyOnly}
	if diff := cmp.Diff(wantHTTP, gotHTTP, cmpopts.SortSlices(httpSpan.less)); diff != "" {
		t.Errorf("HTTP client span attributes (-want +got):\n%s", diff)
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

// httpSpan is what an HTTP client span says of its request, in the
// semantic conventions' attributes.
type httpSpan struct {
	Method  string // http.request.method
	URL     string // url.full
	Address string // server.address
	Port    int64  // server.port
	Status  int64  // http.response.status_code
}

func (a httpSpan) less(b httpSpan) bool {
	return a.URL < b.URL || a.URL == b.URL && a.Status < b.Status
}

func httpSpanOf(s sdktrace.ReadOnlySpan) httpSpan {
	set := attribute.NewSet(s.Attributes()...)
	value := func(key string) attribute.Value { v, _ := set.Value(attribute.Key(key)); return v }
	return httpSpan{
		Method:  value("http.request.method").AsString(),
		URL:     value("url.full").AsString(),
		Address: value("server.address").AsString(),
		Port:    value("server.port").AsInt64(),
		Status:  value("http.response.status_code").AsInt64(),
	}
}

// httpSpanTo is the span of a POST to rawURL, its status left out.
func httpSpanTo(t *testing.T, rawURL string) httpSpan {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.ParseInt(u.Port(), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return httpSpan{Method: http.MethodPost, URL: rawURL, Address: u.Hostname(), Port: port}
}

func TestTraceparentOff(t *testing.T) {
	t.Parallel()

	tp := sdktrace.NewTracerProvider()
	obs := observed(t, sparrow.WithTracerProvider(tp), sparrow.WithTraceparent(false))
	for _, h := range obs.traceparents {
		if h != "" {
			t.Fatalf("traceparent %q sent with WithTraceparent(false)", h)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	b := observed(t, sparrow.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))).b
	// A paused webhook's delivery stays pending.
	rcv := newReceiver(t, nil)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, Inactive: true})
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 3) {
		if d.WebhookID == w.ID {
			b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Waiting })
		}
	}

	var rm metricdata.ResourceMetrics
	var sums map[string]float64
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
	want := map[string]float64{
		"sparrow.events.pushed event=order.created":          2,
		"sparrow.deliveries outcome=retrying error=http_5xx": 1,
		"sparrow.deliveries outcome=succeeded error=-":       4,
		"sparrow.delivery.attempt.duration count":            5,
		"sparrow.delivery.latency count":                     4,
		"sparrow.deliveries.pending":                         1,
		"sparrow.webhooks state=healthy":                     2,
		// Registered inactive: paused, as GetWebhookHealth says, not unknown.
		"sparrow.webhooks state=paused":  1,
		"sparrow.webhooks state=unknown": 0,
	}
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("%s = %v, want %v", k, sums[k], v)
		}
	}
	// Nothing is due by now but the odd alert's fan-out, just pushed.
	if lag, ok := sums["sparrow.queue.lag"]; !ok || lag < 0 || lag > 10 {
		t.Errorf("sparrow.queue.lag = %v (reported: %v), want a few seconds at most", lag, ok)
	}
	// Every attempt was made to a local receiver, within seconds of its push.
	checkHistogram(t, rm, "sparrow.delivery.attempt.duration", 30)
	checkHistogram(t, rm, "sparrow.delivery.latency", 30)
	t.Logf("attempt durations: %v samples, %.1f ms in all; push-to-delivery latencies: %v, %.1f ms in all; queue lag %.3fs",
		sums["sparrow.delivery.attempt.duration count"], 1000*sums["sparrow.delivery.attempt.duration sum"],
		sums["sparrow.delivery.latency count"], 1000*sums["sparrow.delivery.latency sum"], sums["sparrow.queue.lag"])
	if t.Failed() {
		t.Logf("all: %v", sums)
		page, _ := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{})
		for _, d := range page.Items {
			t.Logf("%s %s %s attempts=%d waiting=%v", d.ID, d.WebhookID, d.Status, d.AttemptCount, d.Waiting)
		}
	}
}

// flatten sums the collected data points into "name label=value..." keys;
// a histogram gives "name count" and "name sum" over all its points.
func flatten(rm metricdata.ResourceMetrics) map[string]float64 {
	out := map[string]float64{}
	for _, m := range sparrowMetrics(rm) {
		switch data := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range data.DataPoints {
				out[m.Name+labels(dp.Attributes)] += float64(dp.Value)
			}
		case metricdata.Gauge[int64]:
			for _, dp := range data.DataPoints {
				out[m.Name+labels(dp.Attributes)] += float64(dp.Value)
			}
		case metricdata.Gauge[float64]:
			for _, dp := range data.DataPoints {
				out[m.Name+labels(dp.Attributes)] += dp.Value
			}
		case metricdata.Histogram[float64]:
			for _, dp := range data.DataPoints {
				out[m.Name+" count"] += float64(dp.Count)
				out[m.Name+" sum"] += dp.Sum
			}
		}
	}
	return out
}

// sparrowMetrics returns the metrics of Sparrow's scope.
func sparrowMetrics(rm metricdata.ResourceMetrics) []metricdata.Metrics {
	var out []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name == "github.com/sparrowhq/sparrow" {
			out = append(out, sm.Metrics...)
		}
	}
	return out
}

// latencyBounds are the buckets of Sparrow's duration histograms, in
// seconds: from the milliseconds of a local receiver to the hour of a long
// backlog (the SDK's defaults suit milliseconds, not seconds).
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600}

// checkHistogram checks each point of the named duration histogram: the
// buckets are latencyBounds and hold every sample, and the samples are
// positive, under maxSeconds, and add up to the sum.
func checkHistogram(t *testing.T, rm metricdata.ResourceMetrics, name string, maxSeconds float64) {
	t.Helper()
	var points []metricdata.HistogramDataPoint[float64]
	for _, m := range sparrowMetrics(rm) {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
			points = append(points, h.DataPoints...)
		}
	}
	if len(points) == 0 {
		t.Errorf("%s: no data points", name)
	}
	for _, dp := range points {
		at := name + labels(dp.Attributes)
		if diff := cmp.Diff(latencyBounds, dp.Bounds); diff != "" {
			t.Errorf("%s: bucket bounds (-want +got):\n%s", at, diff)
		}
		var inBuckets uint64
		for _, n := range dp.BucketCounts {
			inBuckets += n
		}
		lowest, okMin := dp.Min.Value()
		highest, okMax := dp.Max.Value()
		n := float64(dp.Count)
		// The sum lies between count times the smallest sample and count
		// times the largest (with room for rounding).
		const slack = 1e-9
		switch {
		case dp.Count == 0 || inBuckets != dp.Count:
			t.Errorf("%s: %d samples, %d in the buckets", at, dp.Count, inBuckets)
		case !okMin || !okMax:
			t.Errorf("%s: no min or max recorded", at)
		case lowest <= 0 || highest < lowest || highest > maxSeconds:
			t.Errorf("%s: samples from %vs to %vs, want within (0, %v]", at, lowest, highest, maxSeconds)
		case dp.Sum < n*lowest-slack || dp.Sum > n*highest+slack:
			t.Errorf("%s: sum %vs of %d samples from %vs to %vs", at, dp.Sum, dp.Count, lowest, highest)
		}
	}
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

// TestQueueLag reads sparrow.queue.lag: how long the oldest job due in
// Sparrow's queue has waited, zero when none is.
func TestQueueLag(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	// Not started: pushed events' fan-out jobs stay due, and nothing else is.
	b := setup(t, sparrow.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	lag := func() float64 {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		v, ok := flatten(rm)["sparrow.queue.lag"]
		if !ok {
			t.Fatal("sparrow.queue.lag not reported")
		}
		return v
	}
	if v := lag(); v != 0 {
		t.Fatalf("lag %vs with nothing due, want 0", v)
	}
	b.registerEvent(t, "order.created")
	// backdate makes the job of one more (batch) push due for ago, in
	// queue.
	backdate := func(ago time.Duration, queue string) {
		t.Helper()
		if _, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		tag, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
			" SET scheduled_at = now() - make_interval(secs => $1), queue = $2 WHERE id = (SELECT max(id) FROM "+
			pgx.Identifier{b.schema, "river_job"}.Sanitize()+")", ago.Seconds(), queue)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("backdating the push's job: %v (%d rows)", err, tag.RowsAffected())
		}
	}
	backdate(90*time.Second, sparrow.QueueDefault)
	backdate(30*time.Second, sparrow.QueueDefault)
	// Another queue's jobs are the host's to watch.
	backdate(time.Hour, "host_jobs")
	// The slack is the time from the update to the collection, on a busy
	// machine.
	v := lag()
	if v < 90 || v > 150 {
		t.Fatalf("lag %vs with the oldest job due 90s ago, want 90s and a little", v)
	}
	t.Logf("lag %.3fs with the oldest job due 90s ago", v)

	// An event waiting for fan-out counts as a job due since its push.
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, "UPDATE "+pgx.Identifier{b.schema, "sparrow_fanout_queue"}.Sanitize()+
		" SET queued_at = now() - interval '200 seconds' WHERE event_id = $1", ev.ID); err != nil {
		t.Fatal(err)
	}
	if v := lag(); v < 200 || v > 260 {
		t.Fatalf("lag %vs with an event queued 200s ago, want 200s and a little", v)
	}
}

// TestLogs checks the engine's log lines name what they are about and the
// trace they belong to.
func TestLogs(t *testing.T) {
	t.Parallel()

	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_ = observed(t, sparrow.WithLogger(logger), sparrow.WithTracerProvider(sdktrace.NewTracerProvider()))
	// An attempt's line follows its record: wait for the last.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(buf.String(), `"msg":"sparrow: delivery attempt"`) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
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
