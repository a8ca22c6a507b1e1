package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// h2c is a client speaking HTTP/2 without TLS, as gRPC clients do on a
// plaintext port.
func h2c() *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: protocols}}
}

// grpcHealth asks the standard gRPC health check at base.
func grpcHealth(t *testing.T, base string) grpchealth.Status {
	t.Helper()
	res, err := grpchealth.NewClient(h2c(), base, connect.WithGRPC()).Check(context.Background(), &grpchealth.CheckRequest{})
	if err != nil {
		t.Fatalf("grpc.health.v1.Health/Check at %s: %v", base, err)
	}
	return res.Status
}

// get GETs url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// syncBuffer is a log written by the server while the test reads it.
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

// TestReadyDuringOutage cuts the server's database off and brings it back:
// /ready answers 503 meanwhile, with a body that tells an unauthenticated
// caller nothing of the cause (the log has it), and the gRPC health check
// says NOT_SERVING on both ports; both recover with the database.
func TestReadyDuringOutage(t *testing.T) {
	t.Parallel()

	proxy := pgtest.NewProxy(t)
	through := proxy.PoolConfig(t).ConnConfig
	u, err := neturl.Parse(databaseURL(t, pgtest.EmptySchema(t), "DATABASE_URL"))
	if err != nil {
		t.Fatalf("the test database's URL: %v", err)
	}
	u.Host = net.JoinHostPort(through.Host, strconv.Itoa(int(through.Port)))
	logs := &syncBuffer{}
	srv := startServerLogging(t, "", map[string]string{"DATABASE_URL": u.String(), "SPARROW_API_KEY": "a-long-enough-api-key"}, logs)
	// Registered after the server's: cleanups run last-in first-out, so the
	// server stops with its database back.
	t.Cleanup(func() { _ = proxy.Start() })
	bases := []string{srv.httpURL, "http://" + srv.grpcAddr}

	healthy := func() bool {
		code, _ := get(t, srv.httpURL+"/ready")
		return code == http.StatusOK && grpcHealth(t, bases[0]) == grpchealth.StatusServing && grpcHealth(t, bases[1]) == grpchealth.StatusServing
	}
	if !waitFor(15*time.Second, healthy) {
		t.Fatal("not ready with the database up")
	}
	proxy.Stop()
	var code int
	var body string
	if !waitFor(15*time.Second, func() bool { code, body = get(t, srv.httpURL+"/ready"); return code == http.StatusServiceUnavailable }) {
		t.Fatalf("/ready with the database cut off: %d %q, want 503", code, body)
	}
	if strings.TrimSpace(body) != "not ready" {
		t.Errorf("/ready told an unauthenticated caller %q, want only \"not ready\"", body)
	}
	if !strings.Contains(logs.String(), `msg="not ready" error=`) {
		t.Errorf("the log lacks the cause of not being ready:\n%s", logs.String())
	}
	for _, base := range bases {
		if status := grpcHealth(t, base); status != grpchealth.StatusNotServing {
			t.Errorf("gRPC health at %s with the database cut off: %s, want NOT_SERVING", base, status)
		}
	}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(15*time.Second, healthy) {
		t.Fatal("not ready again once the database is back")
	}
}

// TestGRPCHealthBothPorts calls grpc.health.v1.Health/Check, as Kubernetes
// gRPC probes and grpc-health-probe do, on HTTP_PORT and GRPC_PORT, with
// no API key although the server has one.
func TestGRPCHealthBothPorts(t *testing.T) {
	t.Parallel()

	srv := startServer(t, map[string]string{"SPARROW_API_KEY": "a-long-enough-api-key"})
	for _, base := range []string{srv.httpURL, "http://" + srv.grpcAddr} {
		if !waitFor(15*time.Second, func() bool { return grpcHealth(t, base) == grpchealth.StatusServing }) {
			t.Errorf("gRPC health at %s: %s, want SERVING", base, grpcHealth(t, base))
		}
	}
}

// TestRootRedirect checks / sends a browser to the dashboard.
func TestRootRedirect(t *testing.T) {
	t.Parallel()

	srv := startServer(t, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.httpURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /: %d to %q, want 302 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := get(t, srv.httpURL+"/"); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Fatalf("following the redirect: %d %.200s", code, body)
	}
}

// TestMaxRequestBytesEnv limits requests with SPARROW_MAX_REQUEST_BYTES:
// larger ones get ResourceExhausted over Connect and REST, smaller pass.
func TestMaxRequestBytesEnv(t *testing.T) {
	t.Parallel()

	const limit = 64 << 10
	srv := startServer(t, map[string]string{"SPARROW_MAX_REQUEST_BYTES": strconv.Itoa(limit)})
	c := http.DefaultClient
	if code, out := postJSON(t, c, srv.httpURL+"/webhook.EventService/RegisterEvent", `{"name": "order.created"}`, nil); code != 200 {
		t.Fatalf("RegisterEvent: %d %v", code, out)
	}
	push := func(path string, n int) (int, map[string]any) {
		return postJSON(t, c, srv.httpURL+path, `{"event": "order.created", "payload": {"blob": "`+strings.Repeat("x", n)+`"}}`, nil)
	}
	for path, code := range map[string]any{"/webhook.EventService/PushEvent": "resource_exhausted", "/webhook/events": 8.0} {
		if status, out := push(path, limit+1); status != http.StatusTooManyRequests || out["code"] != code {
			t.Errorf("%s over the limit: %d %v, want 429 and code %v", path, status, out, code)
		}
		if status, out := push(path, limit/2); status != http.StatusOK {
			t.Errorf("%s under the limit: %d %v", path, status, out)
		}
	}
}

// TestSecretKeys runs the server with SPARROW_SECRET_KEYS: a webhook's
// secret, registered through the API, is nowhere in the database in the
// clear (in no table, sealed with the first key), and deliveries are still
// signed with it.
func TestSecretKeys(t *testing.T) {
	t.Parallel()

	srv := startServer(t, map[string]string{"SPARROW_SECRET_KEYS": "key-2026:" + testSecretKey(2) + ",key-2025:" + testSecretKey(1)})
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	verified := make(chan error, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		verified <- err
	}))
	t.Cleanup(rcv.Close)
	c := http.DefaultClient
	postJSON(t, c, srv.httpURL+"/webhook.EventService/RegisterEvent", `{"name": "order.created"}`, nil)
	code, reg := postJSON(t, c, srv.httpURL+"/webhook.WebhookService/RegisterWebhook",
		`{"url": "`+rcv.URL+`", "events": ["order.created"], "webhookSecret": "`+secret+`"}`, nil)
	if code != 200 || reg["webhookSecret"] != secret {
		t.Fatalf("RegisterWebhook: %d %v", code, reg)
	}
	postJSON(t, c, srv.httpURL+"/webhook.EventService/PushEvent", `{"event": "order.created", "payload": {"order_id": "ord_1"}}`, nil)
	select {
	case err := <-verified:
		if err != nil {
			t.Fatalf("the delivery's signature does not verify with the webhook's secret: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the event was not delivered")
	}

	ctx := context.Background()
	db := pgtest.Pool(t)
	rows, err := db.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'", srv.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v %v", srv.schema, tables, err)
	}
	for _, table := range tables {
		var n int
		err := db.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{srv.schema, table}.Sanitize()+
			" t WHERE strpos(to_jsonb(t)::text, $1) > 0 OR strpos(to_jsonb(t)::text, $2) > 0", secret, strings.TrimPrefix(secret, "whsec_")).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("%s: %d rows hold the webhook secret in the clear", table, n)
		}
	}
	var keyID string
	var sealed bool
	if err := db.QueryRow(ctx, "SELECT coalesce(key_id, ''), sealed IS NOT NULL AND secret IS NULL FROM "+pgx.Identifier{srv.schema, "sparrow_webhook_secret"}.Sanitize()+
		" WHERE webhook_id = $1", reg["webhookId"]).Scan(&keyID, &sealed); err != nil {
		t.Fatal(err)
	}
	if keyID != "key-2026" || !sealed {
		t.Fatalf("the secret is stored under key %q (sealed: %v), want sealed by key-2026, the first", keyID, sealed)
	}
}

// TestHealthcheck: `server healthcheck`, a container's health check, passes
// against a ready server (plaintext or TLS) and fails where none answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	certFile, keyFile, _ := selfSignedCert(t)
	for name, env := range map[string]map[string]string{
		"Plaintext": nil,
		"TLS":       {"SPARROW_TLS_CERT_FILE": certFile, "SPARROW_TLS_KEY_FILE": keyFile},
	} {
		srv := startServer(t, env)
		u, err := url.Parse(srv.httpURL)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(u.Port())
		if err := healthcheck(ctx, config{httpPort: port, tlsCertFile: env["SPARROW_TLS_CERT_FILE"]}); err != nil {
			t.Errorf("%s: healthcheck of a ready server: %v", name, err)
		}
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	if err := healthcheck(ctx, config{httpPort: port}); err == nil {
		t.Error("healthcheck passed with no server listening")
	}
}

// TestOpenServerAnswersLoopbackOnly: without API keys the server answers
// only requests addressed to loopback names and SPARROW_ALLOWED_HOSTS (a
// page on another site can't reach it through DNS rebinding); with keys,
// any host, the keys guarding it.
func TestOpenServerAnswersLoopbackOnly(t *testing.T) {
	t.Parallel()

	call := func(srv *running, host string, header http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, srv.httpURL+"/webhook.EventService/ListEventTypes", strings.NewReader("{}"))
		if header != nil {
			req.Header = header.Clone()
		}
		req.Header.Set("Content-Type", "application/json")
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	open := startServer(t, map[string]string{"SPARROW_ALLOWED_HOSTS": "sparrow.internal"})
	for host, want := range map[string]int{
		"127.0.0.1:8080": http.StatusOK, "localhost:8080": http.StatusOK, "sparrow.internal": http.StatusOK,
		"attacker.example:8080": http.StatusForbidden, "10.0.0.5:8080": http.StatusForbidden,
	} {
		if got := call(open, host, nil); got != want {
			t.Errorf("open server, Host %s: %d, want %d", host, got, want)
		}
	}
	keyed := startServer(t, map[string]string{"SPARROW_API_KEY": "a-long-enough-api-key"})
	if got := call(keyed, "attacker.example:8080", http.Header{"X-Api-Key": {"a-long-enough-api-key"}}); got != http.StatusOK {
		t.Errorf("server with keys, any Host: %d, want 200", got)
	}
}
