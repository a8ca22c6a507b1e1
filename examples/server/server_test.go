package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// running is a server started by a test.
type running struct {
	httpURL, grpcAddr, riverUIAddr string
	schema                         string
	stop                           func() error
}

// startServer runs the server on free loopback ports, on a schema of its own.
func startServer(t *testing.T, env map[string]string) *running {
	t.Helper()
	return startServerIn(t, pgtest.EmptySchema(t), env)
}

// startServerOnSameDB starts another server on the schema of one stopped.
func startServerOnSameDB(t *testing.T, stopped *running) *running {
	t.Helper()
	return startServerIn(t, stopped.schema, nil)
}

func startServerIn(t *testing.T, schema string, env map[string]string) *running {
	t.Helper()
	return startServerLogging(t, schema, env, io.Discard)
}

// startServerLogging is startServerIn, with the server's log written to log.
func startServerLogging(t *testing.T, schema string, env map[string]string, log io.Writer) *running {
	t.Helper()
	base := map[string]string{
		"DATABASE_URL":                   databaseURL(t, schema, "DATABASE_URL"),
		"SPARROW_BIND":                   "127.0.0.1",
		"HTTP_PORT":                      "0",
		"GRPC_PORT":                      "0",
		"RIVER_UI_PORT":                  "0",
		"SPARROW_ALLOW_PRIVATE_NETWORKS": "true",
		"SPARROW_SHUTDOWN_TIMEOUT":       "5s",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := configFromEnv(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [3]string, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(log, nil))
	go func() { done <- run(ctx, cfg, logger, func(h, g, u string) { addrs <- [3]string{h, g, u} }) }()
	r := running{schema: schema}
	select {
	case a := <-addrs:
		scheme := "http://"
		if cfg.tlsCertFile != "" {
			scheme = "https://"
		}
		r.httpURL, r.grpcAddr, r.riverUIAddr = scheme+a[0], a[1], a[2]
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start within 30s")
	}
	stopped := false
	r.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("server did not stop within 20s")
			return nil
		}
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return &r
}

// postJSON sends body to path as a curl with -H "Content-Type: application/json" would.
func postJSON(t *testing.T, client *http.Client, url, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: status %d, body %s", url, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// TestDocumentFlow runs the Connect curl flow of the API documentation
// verbatim, the receiver's URL aside, and checks the delivery is signed with
// the given webhookSecret.
func TestDocumentFlow(t *testing.T) {
	t.Parallel()

	srv := startServer(t, nil)
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		bodies <- body
		got <- r
	}))
	t.Cleanup(rcv.Close)
	c := http.DefaultClient

	code, _ := postJSON(t, c, srv.httpURL+"/webhook.EventService/RegisterEvent",
		`{"name": "order.created", "description": "Fires when a new order is placed", "active": true}`, nil)
	if code != 200 {
		t.Fatalf("RegisterEvent: %d", code)
	}
	code, reg := postJSON(t, c, srv.httpURL+"/webhook.WebhookService/RegisterWebhook", `{
    "namespace": "default",
    "url": "`+rcv.URL+`/webhooks",
    "events": ["order.created"],
    "active": true,
    "webhookSecret": "your-secret"
  }`, nil)
	if code != 200 || reg["webhookId"] == "" {
		t.Fatalf("RegisterWebhook: %d %v", code, reg)
	}
	webhookID := reg["webhookId"].(string)
	code, push := postJSON(t, c, srv.httpURL+"/webhook.EventService/PushEvent",
		`{"namespace": "default","event": "order.created","payload": {"order_id": "ord_123", "total": 49.99}}`, nil)
	if code != 200 || push["eventId"] == "" {
		t.Fatalf("PushEvent: %d %v", code, push)
	}
	code, sub := postJSON(t, c, srv.httpURL+"/webhook.SubscriptionService/CreateSubscription", `{
    "webhookId": "`+webhookID+`",
    "eventName": "order.created",
    "namespace": "default",
    "active": true
  }`, nil)
	if code != 200 || sub["subscriptionId"] == "" {
		t.Fatalf("CreateSubscription (the subscription registration made): %d %v", code, sub)
	}

	select {
	case r := <-got:
		body := <-bodies
		wh, _ := standardwebhooks.NewWebhookRaw([]byte("your-secret"))
		if err := wh.Verify(body, r.Header); err != nil {
			t.Fatalf("signature by webhookSecret: %v", err)
		}
		if r.URL.Path != "/webhooks" || string(body) != `{"order_id": "ord_123", "total": 49.99}` { // as pushed, byte for byte
			t.Fatalf("received %s %s", r.URL.Path, body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the event was not delivered")
	}

	var deliveries []any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, list := postJSON(t, c, srv.httpURL+"/webhook.DeliveryService/ListDeliveries",
			`{"webhook_id": "`+webhookID+`", "namespace": "default", "limit": 10}`, nil)
		deliveries, _ = list["deliveries"].([]any)
		if len(deliveries) == 1 && deliveries[0].(map[string]any)["status"] == "succeeded" {
			break
		}
	}
	if len(deliveries) != 1 || deliveries[0].(map[string]any)["status"] != "succeeded" || deliveries[0].(map[string]any)["attemptCount"] != 1.0 {
		t.Fatalf("deliveries: %v", deliveries)
	}
	_, health := postJSON(t, c, srv.httpURL+"/webhook.HealthService/GetWebhookHealth",
		`{"webhook_id": "`+webhookID+`", "namespace": "default"}`, nil)
	if health["healthStatus"] != "healthy" || health["successRate"] != 100.0 {
		t.Fatalf("health: %v", health)
	}
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()

	srv := startServer(t, map[string]string{"SPARROW_API_KEY": "a-long-enough-api-key"})
	for _, path := range []string{"/health", "/ready"} {
		resp, err := http.Get(srv.httpURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d without an API key, want 200", path, resp.StatusCode)
		}
	}
	code, _ := postJSON(t, http.DefaultClient, srv.httpURL+"/webhook.EventService/ListEventTypes", `{}`, nil)
	if code != http.StatusUnauthorized {
		t.Fatalf("API without a key: %d, want 401", code)
	}
	code, _ = postJSON(t, http.DefaultClient, srv.httpURL+"/webhook.EventService/ListEventTypes", `{}`,
		http.Header{"X-Api-Key": {"a-long-enough-api-key"}})
	if code != 200 {
		t.Fatalf("API with the key: %d", code)
	}
}

// TestGRPCPort calls the gRPC port over h2c, as grpcio clients do.
func TestGRPCPort(t *testing.T) {
	t.Parallel()

	srv := startServer(t, nil)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols}}
	client := webhookpbconnect.NewEventServiceClient(h2c, "http://"+srv.grpcAddr, connect.WithGRPC())
	if _, err := client.RegisterEvent(context.Background(), &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
}

// TestTLS serves TLS on both ports with a certificate made here.
func TestTLS(t *testing.T) {
	t.Parallel()

	certFile, keyFile, pool := selfSignedCert(t)
	srv := startServer(t, map[string]string{"SPARROW_TLS_CERT_FILE": certFile, "SPARROW_TLS_KEY_FILE": keyFile})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	ctx := context.Background()
	for _, base := range []string{srv.httpURL, "https://" + srv.grpcAddr} {
		for name, opts := range map[string][]connect.ClientOption{"Connect": nil, "GRPC": {connect.WithGRPC()}, "GRPCWeb": {connect.WithGRPCWeb()}} {
			c := webhookpbconnect.NewEventServiceClient(client, base, opts...)
			if _, err := c.ListEventTypes(ctx, &pb.ListEventTypesRequest{}); err != nil {
				t.Fatalf("%s over TLS to %s: %v", name, base, err)
			}
		}
	}
	plain := webhookpbconnect.NewEventServiceClient(http.DefaultClient, strings.Replace(srv.httpURL, "https", "http", 1))
	if _, err := plain.ListEventTypes(ctx, &pb.ListEventTypesRequest{}); err == nil {
		t.Fatal("plaintext accepted on a TLS port")
	}
}

// TestGracefulShutdown stops the server while a delivery is in flight: the
// attempt finishes and is recorded before the server returns.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()

	srv := startServer(t, nil)
	arrived := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(time.Second)
	}))
	t.Cleanup(rcv.Close)
	c := http.DefaultClient
	postJSON(t, c, srv.httpURL+"/webhook.EventService/RegisterEvent", `{"name": "order.created"}`, nil)
	_, reg := postJSON(t, c, srv.httpURL+"/webhook.WebhookService/RegisterWebhook", `{"url": "`+rcv.URL+`", "events": ["order.created"]}`, nil)
	postJSON(t, c, srv.httpURL+"/webhook.EventService/PushEvent", `{"event": "order.created", "payload": {}}`, nil)
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the delivery did not start")
	}
	start := time.Now()
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("shutdown took %s, beyond its 5s timeout", elapsed)
	}
	// The server is gone: read the record straight from a new one.
	again := startServerOnSameDB(t, srv)
	_, list := postJSON(t, c, again.httpURL+"/webhook.DeliveryService/ListDeliveries", `{"webhook_id": "`+reg["webhookId"].(string)+`"}`, nil)
	ds := list["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["status"] != "succeeded" {
		t.Fatalf("after shutdown the in-flight delivery is %v, want succeeded", ds)
	}
	if len(arrived) != 0 {
		t.Fatal("the delivery was sent again: its attempt was cut short by the shutdown")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()

	for _, env := range []map[string]string{
		{"HTTP_PORT": "eighty"},
		{"GRPC_PORT": "70000"},
		{"SPARROW_TLS_CERT_FILE": "cert.pem"},
		{"SPARROW_ALLOW_PRIVATE_NETWORKS": "maybe"},
		{"LOG_LEVEL": "loud"},
		{"SPARROW_API_KEYS": "keywithoutnamespaces"},
		{"SPARROW_API_KEY": "short"},
		{"SPARROW_API_KEYS": "shortkey:ns1"},
		{"SPARROW_API_KEYS": "a-long-enough-key:no spaces"},
		{"SPARROW_API_KEYS": "a-long-enough-key:ns1,"}, // a stray comma must not grant "default"
		{"SPARROW_ALLOWED_ORIGINS": "app.example.com"},
		{"SPARROW_SHUTDOWN_TIMEOUT": "soon"},
		{"SPARROW_MAX_REQUEST_BYTES": "lots"},
		{"SPARROW_MAX_REQUEST_BYTES": "0"},
		{"SPARROW_SECRET_KEYS": "k1"},
		{"SPARROW_SECRET_KEYS": ":" + testSecretKey(1)},
		{"SPARROW_SECRET_KEYS": "k1:not base64"},
		{"SPARROW_SECRET_KEYS": "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"SPARROW_PORTAL_SECRET": "shorter-than-32-characters"},
	} {
		if _, err := configFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"SPARROW_API_KEY": "k1-long-enough-key", "SPARROW_API_KEYS": "k2-long-enough-key:a,b k3-long-enough-key:c"}[k]
	})
	if err != nil || len(cfg.apiKeys) != 3 || len(cfg.apiKeys[1].Namespaces) != 2 || cfg.httpPort != 8080 || cfg.grpcPort != 50051 {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
	cfg, err = configFromEnv(func(k string) string {
		return map[string]string{"SPARROW_MAX_REQUEST_BYTES": "65536", "SPARROW_SECRET_KEYS": "new:" + testSecretKey(2) + ", old:" + testSecretKey(1)}[k]
	})
	if err != nil || cfg.maxRequestBytes != 65536 || len(cfg.secretKeys) != 2 || cfg.secretKeys[0].ID != "new" || cfg.secretKeys[1].ID != "old" ||
		cfg.secretKeys[0].Key[0] != 2 || len(cfg.secretKeys[0].Key) != 32 {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
	// A bad key is named by its id, never shown.
	_, err = configFromEnv(func(k string) string {
		return map[string]string{"SPARROW_SECRET_KEYS": "short:c2VjcmV0LWtleS1tYXRlcmlhbA=="}[k]
	})
	if err == nil || !strings.Contains(err.Error(), `"short"`) || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("err = %v, want the key's id and not its material", err)
	}
}

// testSecretKey is a 32-byte key filled with b, in base64.
func testSecretKey(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sparrow test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRiverUI checks River's UI answers on its port, behind the API key
// when the server has one.
func TestRiverUI(t *testing.T) {
	t.Parallel()

	open := startServer(t, nil)
	resp, err := http.Get("http://" + open.riverUIAddr + "/jobs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<html") {
		t.Fatalf("River UI without keys: %d %.200s", resp.StatusCode, body)
	}
	// Its queue listing, what the page shows, has Sparrow's queue: the UI
	// reads the database and River client the server works with. The queue
	// is listed once the client's producer has registered it.
	var queues []string
	listed := waitFor(15*time.Second, func() bool {
		var list struct {
			Data []struct {
				Name string `json:"name"`
			} `json:"data"`
		}
		resp, err := http.Get("http://" + open.riverUIAddr + "/api/queues")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/api/queues: %d, %v", resp.StatusCode, err)
		}
		queues = queues[:0]
		for _, q := range list.Data {
			queues = append(queues, q.Name)
		}
		return slices.Contains(queues, sparrow.QueueDefault)
	})
	if !listed {
		t.Fatalf("River UI lists queues %q, without Sparrow's %q", queues, sparrow.QueueDefault)
	}

	const key = "river-ui-admin-key-123"
	guarded := startServer(t, map[string]string{"SPARROW_API_KEY": key, "SPARROW_API_KEYS": "tenant-key-0123456789:acme"})
	for _, tc := range []struct {
		user, password string
		want           int
	}{
		{"", "", http.StatusUnauthorized},
		{"admin", "wrong-key-0123456789", http.StatusUnauthorized},
		{"admin", "tenant-key-0123456789", http.StatusUnauthorized}, // limited to a namespace: not for River's UI
		{"anyone", key, http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+guarded.riverUIAddr+"/api/queues", nil)
		if tc.password != "" {
			req.SetBasicAuth(tc.user, tc.password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Basic %s:%s: %d, want %d", tc.user, tc.password, resp.StatusCode, tc.want)
		}
	}
	host, _, _ := net.SplitHostPort(guarded.riverUIAddr)
	if host != "127.0.0.1" {
		t.Fatalf("River UI listens on %s, want loopback by default", guarded.riverUIAddr)
	}
}
