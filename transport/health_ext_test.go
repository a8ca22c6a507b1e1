package transport_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/transport"
)

// TestGRPCHealth cuts the engine's database off and brings it back: the
// standard health check says NOT_SERVING meanwhile, SERVING before and
// after, over gRPC and without an API key.
func TestGRPCHealth(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	proxy := pgtest.NewProxy(t)
	pool, err := pgxpool.NewWithConfig(ctx, proxy.PoolConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	eng, err := sparrow.New(pool, sparrow.WithSchema(pgtest.Schema(t)), sparrow.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := transport.Mount(mux, eng, transport.WithAPIKeys(transport.APIKey{Key: "health-test-key-0123456789"})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := grpchealth.NewClient(srv.Client(), srv.URL, connect.WithGRPC())

	status := func() grpchealth.Status {
		t.Helper()
		res, err := client.Check(ctx, &grpchealth.CheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	waitStatus := func(want grpchealth.Status) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for got := status(); got != want; got = status() {
			if time.Now().After(deadline) {
				t.Fatalf("health %s, want %s", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitStatus(grpchealth.StatusServing)
	proxy.Stop()
	waitStatus(grpchealth.StatusNotServing)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	waitStatus(grpchealth.StatusServing)

	res, err := client.Check(ctx, &grpchealth.CheckRequest{Service: "webhook.EventService"})
	if err != nil || res.Status != grpchealth.StatusServing {
		t.Fatalf("a named service: %v %v", res, err)
	}
	if _, err := client.Check(ctx, &grpchealth.CheckRequest{Service: "no.Such"}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("an unknown service: %v", err)
	}
}
