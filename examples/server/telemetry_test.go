package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// collector is an OTLP/gRPC collector that keeps what it receives.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	collectormetrics.UnimplementedMetricsServiceServer

	mu      sync.Mutex
	spans   map[string]int
	metrics map[string]bool
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans[s.GetName()]++
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

type metricsService struct{ *collector }

func (m metricsService) Export(_ context.Context, req *collectormetrics.ExportMetricsServiceRequest) (*collectormetrics.ExportMetricsServiceResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, metric := range sm.GetMetrics() {
				m.metrics[metric.GetName()] = true
			}
		}
	}
	return &collectormetrics.ExportMetricsServiceResponse{}, nil
}

// TestOTLPExport runs the server with OTEL_EXPORTER_OTLP_ENDPOINT set: the
// push, its fan-out, the delivery and the RPC reach the collector.
func TestOTLPExport(t *testing.T) {
	// Not parallel: it sets the process's global telemetry providers.
	c := &collector{spans: map[string]int{}, metrics: map[string]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(g, c)
	collectormetrics.RegisterMetricsServiceServer(g, metricsService{c})
	go g.Serve(l)
	t.Cleanup(g.Stop)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+l.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	tracerBefore, meterBefore := otel.GetTracerProvider(), otel.GetMeterProvider()
	flush, err := setupTelemetry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		otel.SetTracerProvider(tracerBefore)
		otel.SetMeterProvider(meterBefore)
	})

	delivered := make(chan struct{}, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { delivered <- struct{}{} }))
	t.Cleanup(rcv.Close)
	srv := startServer(t, nil)
	postJSON(t, http.DefaultClient, srv.httpURL+"/webhook.EventService/RegisterEvent", `{"name": "order.created"}`, nil)
	postJSON(t, http.DefaultClient, srv.httpURL+"/webhook.WebhookService/RegisterWebhook", `{"url": "`+rcv.URL+`", "events": ["order.created"]}`, nil)
	postJSON(t, http.DefaultClient, srv.httpURL+"/webhook.EventService/PushEvent", `{"event": "order.created", "payload": {"a": 1}}`, nil)
	select {
	case <-delivered:
	case <-time.After(15 * time.Second):
		t.Fatal("not delivered")
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range []string{"webhook.EventService/PushEvent", "sparrow.push", "sparrow.fanout", "sparrow.deliver", "HTTP POST"} {
		if c.spans[name] == 0 {
			t.Errorf("no %q span exported (got %v)", name, c.spans)
		}
	}
	for _, name := range []string{"sparrow.events.pushed", "sparrow.deliveries", "sparrow.delivery.attempt.duration", "rpc.server.call.duration"} {
		if !c.metrics[name] {
			t.Errorf("metric %s not exported (got %v)", name, c.metrics)
		}
	}
}
