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

// TestClient runs the example against a server like examples/server: the
// same mux on an HTTP/1.1 + h2c listener.
func TestClient(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	eng, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(pgtest.Schema(t)), sparrow.WithAllowPrivateNetworks(),
		sparrow.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Stop(ctx) })
	const key = "client-example-key-123"
	mux := http.NewServeMux()
	if err := transport.Mount(mux, eng, transport.WithAPIKeys(transport.APIKey{Key: key})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = protocols
	srv.Start()
	t.Cleanup(srv.Close)

	var out strings.Builder
	if err := run(ctx, &out, srv.URL, srv.URL, key); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"registered (Connect)", `receiver got {"order_id":"ord_123","total":49.99}`, "status=succeeded attempts=1 (gRPC)", "health: healthy, success_rate=100.0%"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
