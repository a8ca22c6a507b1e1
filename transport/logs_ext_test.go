package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/transport"
)

// TestLogTraceIDs makes a call panic and another fail internally, each
// carrying a traceparent: both log lines name the trace and span of their
// call's server span, so an operator can go from the error id a client
// quotes to the call's trace.
func TestLogTraceIDs(t *testing.T) {
	t.Parallel()

	misbehave := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			switch {
			case req.Header().Get("X-Boom") != "":
				panic("boom")
			case req.Header().Get("X-Fail") != "":
				return nil, errors.New("the database is on fire")
			}
			return next(ctx, req)
		}
	})
	recorder := tracetest.NewSpanRecorder()
	var logs syncBuffer
	s := newTestServer(t,
		transport.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))),
		transport.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		transport.WithInterceptors(misbehave))
	md := procedure(t, "ListWebhooks")
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, header := range []string{"X-Boom", "X-Fail"} {
		if r, _ := s.call(t, md, &pb.ListWebhooksRequest{}, header, "1", "Traceparent", traceparent); r.code != connect.CodeInternal {
			t.Fatalf("%s: %v, want internal", header, r)
		}
	}

	// Each call's server span, as "trace_id/span_id".
	var spans []string
	for _, span := range recorder.Started() {
		if span.Name() == strings.TrimPrefix(procedurePath(md), "/") {
			spans = append(spans, span.SpanContext().TraceID().String()+"/"+span.SpanContext().SpanID().String())
		}
	}
	var logged []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if rec["msg"] != "sparrow: panic" && rec["msg"] != "sparrow: internal error" {
			continue
		}
		traceID, _ := rec["trace_id"].(string)
		spanID, _ := rec["span_id"].(string)
		if traceID == "" || spanID == "" {
			t.Errorf("%q line without trace_id and span_id: %s", rec["msg"], line)
		}
		logged = append(logged, traceID+"/"+spanID)
	}
	if len(spans) != 2 {
		t.Fatalf("%d server spans for the two calls", len(spans))
	}
	if diff := cmp.Diff(spans, logged); diff != "" {
		t.Fatalf("the calls' server spans (-) and the ids their log lines carry (+):\n%s", diff)
	}
}
