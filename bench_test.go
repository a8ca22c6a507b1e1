package sparrow_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
)

// BenchmarkHealthTracking delivers the same backlog to one webhook with
// health tracking off (the baseline) and on, in the same run, and reports
// both rates and their ratio.
func BenchmarkHealthTracking(b *testing.B) {
	const deliveries = 2000
	var offRate, onRate float64
	for b.Loop() {
		offRate += deliveryRate(b, deliveries, false)
		onRate += deliveryRate(b, deliveries, true)
	}
	b.ReportMetric(offRate/float64(b.N), "off-deliveries/s")
	b.ReportMetric(onRate/float64(b.N), "on-deliveries/s")
	b.ReportMetric(onRate/offRate, "on/off")
}

// deliveryRate pushes n events to one webhook before starting the workers,
// then times their delivery.
func deliveryRate(b *testing.B, n int, healthTracking bool) float64 {
	b.Helper()
	ctx := context.Background()
	var received atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if received.Add(1) == int64(n) {
			close(done)
		}
	}))
	defer srv.Close()
	bundle := setup(b, sparrow.WithHealthTracking(healthTracking))
	bundle.registerEvent(b, "order.created")
	if _, err := bundle.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: srv.URL, Events: []string{"order.created"}}); err != nil {
		b.Fatal(err)
	}
	batch := make([]sparrow.PushEventParams, sparrow.MaxPushBatch)
	for pushed := 0; pushed < n; pushed += len(batch) {
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id":"ord_123","total":49.99}`)}
		}
		if _, err := bundle.eng.PushEvents(ctx, batch[:min(len(batch), n-pushed)]); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if err := bundle.eng.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer bundle.eng.Stop(ctx)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d delivered", received.Load(), n)
	}
	return float64(n) / time.Since(start).Seconds()
}
