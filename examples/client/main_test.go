package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/transport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testKey = "client-example-key-123"

// startServer serves an engine as examples/server does: the same mux on an
// HTTP/1.1 + h2c listener, with an API key.
func startServer(t *testing.T, opts ...sparrow.Option) string {
	t.Helper()
	ctx := context.Background()
	opts = append([]sparrow.Option{sparrow.WithSchema(pgtest.Schema(t)), sparrow.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	eng, err := sparrow.New(pgtest.Pool(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Stop(ctx) })
	mux := http.NewServeMux()
	if err := transport.Mount(mux, eng, transport.WithAPIKeys(transport.APIKey{Key: testKey})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = protocols
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestClient runs the example against a server that may deliver to this
// machine.
func TestClient(t *testing.T) {
	t.Parallel()

	url := startServer(t, sparrow.WithAllowPrivateNetworks())
	var out strings.Builder
	if err := run(context.Background(), &out, url, url, testKey); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"registered (Connect)", `receiver got {"order_id":"ord_123","total":49.99}`, "status=succeeded attempts=1 (gRPC)", "health: healthy, success_rate=100.0%"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestClientBlocked runs the example against a server with its default of
// refusing private addresses, which its local receiver has: it says why and
// how to fix it, from the refused attempt rather than after a wait.
func TestClientBlocked(t *testing.T) {
	t.Parallel()

	url := startServer(t)
	var out strings.Builder
	err := run(context.Background(), &out, url, url, testKey)
	if err == nil || !strings.Contains(err.Error(), "blocked_destination") || !strings.Contains(err.Error(), "SPARROW_ALLOW_PRIVATE_NETWORKS=true") {
		t.Fatalf("err = %v, want the refused attempt and the fix\n%s", err, out.String())
	}
}
