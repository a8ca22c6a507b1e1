package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestJobMetadata(t *testing.T) {
	t.Parallel()

	ctx, span := sdktrace.NewTracerProvider().Tracer("t").Start(context.Background(), "push")
	defer span.End()
	md := JobMetadata(ctx)
	if md == nil {
		t.Fatal("no metadata for a context with a span")
	}
	// River adds keys of its own, a snooze count for one.
	var m map[string]any
	if err := json.Unmarshal(md, &m); err != nil {
		t.Fatal(err)
	}
	m["snoozes"] = 3
	withRiverKeys, _ := json.Marshal(m)
	for _, metadata := range [][]byte{md, withRiverKeys} {
		got := trace.SpanContextFromContext(FromJob(context.Background(), metadata))
		if got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() || !got.IsRemote() {
			t.Fatalf("from %s: span context %+v, want the pushing span's", metadata, got)
		}
	}
	for _, metadata := range [][]byte{nil, []byte(`{}`), []byte(`not json`), []byte(`{"sparrow_trace": 1}`)} {
		if sc := trace.SpanContextFromContext(FromJob(context.Background(), metadata)); sc.IsValid() {
			t.Fatalf("from %q: a span context appeared", metadata)
		}
	}
	if JobMetadata(context.Background()) != nil {
		t.Fatal("metadata for a context without a span")
	}
}

func TestLogHandler(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("delivery_id", "dlv_1")
	ctx, span := sdktrace.NewTracerProvider().Tracer("t").Start(context.Background(), "attempt")
	logger.InfoContext(ctx, "with span")
	span.End()
	logger.Info("without span")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["trace_id"] != span.SpanContext().TraceID().String() || first["delivery_id"] != "dlv_1" {
		t.Fatalf("line with a span: %s", lines[0])
	}
	if _, ok := second["trace_id"]; ok {
		t.Fatalf("line without a span got a trace id: %s", lines[1])
	}
}
