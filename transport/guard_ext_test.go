package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/transport"
)

const guardKey = "a-long-enough-api-key"

// bigPush is an 8 MiB-ish PushEvent body: what an attacker sends to make
// the server decode before it answers.
func bigPush() string {
	return `{"event": "order.created", "payload": {"blob": "` + strings.Repeat("x", 8<<20-100) + `"}}`
}

// allocated returns the bytes the process allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestUnauthenticatedCostsNothing: with API keys, a request without a valid
// one is answered from its headers: its 8 MiB body is never read, let alone
// decoded, over Connect, REST, gRPC and gRPC-Web alike.
func TestUnauthenticatedCostsNothing(t *testing.T) {
	t.Parallel()

	s := newTestServer(t, transport.WithAPIKeys(transport.APIKey{Key: guardKey}))
	body := bigPush()
	for name, path := range map[string]string{"Connect": "/webhook.EventService/PushEvent", "REST": "/webhook/events"} {
		var code int
		var out []byte
		alloc := allocated(func() {
			req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", "not-the-key-at-all")
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		})
		if code != http.StatusUnauthorized || !strings.Contains(string(out), "invalid API key") {
			t.Errorf("%s: %d %s, want 401 invalid API key", name, code, out)
		}
		// The client's own copy of the body is 8 MiB; decoding it on the
		// server would cost several times that.
		if alloc > 24<<20 {
			t.Errorf("%s: %d MiB allocated answering an unauthenticated 8 MiB request", name, alloc>>20)
		}
	}
	for name, opt := range map[string]connect.ClientOption{"GRPC": connect.WithGRPC(), "GRPCWeb": connect.WithGRPCWeb()} {
		_, err := s.clients(opt).events.PushEvent(context.Background(), &pb.PushEventRequest{Event: "order.created", PayloadJson: `{"a": 1}`})
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%s without a key: %v, want Unauthenticated", name, err)
		}
	}
	if n := len(s.logs.String()); n > 0 && strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("refusals logged as errors:\n%s", s.logs.String())
	}
}

// gzipBomb compresses a JSON push whose payload decompresses to size bytes.
func gzipBomb(t *testing.T, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(`{"event": "order.created", "payload": {"a": "`))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range size >> 20 {
		zw.Write(chunk)
	}
	zw.Write([]byte(`"}}`))
	zw.Close()
	return buf.Bytes()
}

// TestGzipBombStopsAtTheLimit: a compressed request is decompressed only up
// to the server's request limit, then refused (ResourceExhausted); it was
// decompressed to the end to report its size.
func TestGzipBombStopsAtTheLimit(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	bomb := gzipBomb(t, 1<<30)
	for name, path := range map[string]string{"Connect": "/webhook.EventService/PushEvent", "REST": "/webhook/events"} {
		req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(bomb))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(out), "larger than the server's limit once decompressed") {
			t.Errorf("%s: %d %s, want 429 refused at the limit (a refusal naming the whole size means it was all decompressed)",
				name, resp.StatusCode, out)
		}
	}
}

// TestCrossSite: a browser's cross-site request is refused unless its
// origin is allowed; the page's own origin is always allowed; a REST write
// must be JSON (a browser sends text/plain and forms cross-site without
// asking); requests addressed to a host name not served are refused.
func TestCrossSite(t *testing.T) {
	t.Parallel()

	s := newTestServer(t, transport.WithAllowedHosts(transport.LoopbackHosts, "sparrow.internal"),
		transport.WithAllowedOrigins("https://app.example.com"))
	type request struct {
		method, path, contentType, origin, host, body string
	}
	list := request{method: http.MethodPost, path: "/webhook.EventService/ListEventTypes", contentType: "application/json", body: "{}"}
	register := request{method: http.MethodPost, path: "/webhook/event-types", contentType: "application/json", body: `{"name": "x.created"}`}
	with := func(r request, edit func(*request)) request {
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		req  request
		want int
	}{
		{"NoOrigin", list, http.StatusOK},
		{"SameOrigin", with(list, func(r *request) { r.origin = s.url }), http.StatusOK},
		{"AllowedOrigin", with(list, func(r *request) { r.origin = "https://app.example.com" }), http.StatusOK},
		{"CrossSite", with(list, func(r *request) { r.origin = "https://evil.example" }), http.StatusForbidden},
		{"CrossSiteREST", with(register, func(r *request) { r.origin = "https://evil.example" }), http.StatusForbidden},
		{"NullOrigin", with(list, func(r *request) { r.origin = "null" }), http.StatusForbidden},
		{"RESTJSON", register, http.StatusOK},
		{"RESTTextPlain", with(register, func(r *request) { r.contentType = "text/plain" }), http.StatusUnsupportedMediaType},
		{"RESTForm", with(register, func(r *request) { r.contentType = "application/x-www-form-urlencoded" }), http.StatusUnsupportedMediaType},
		{"RESTNoContentType", with(register, func(r *request) { r.contentType = "" }), http.StatusUnsupportedMediaType},
		{"ConnectTextPlain", with(list, func(r *request) { r.contentType = "text/plain" }), http.StatusUnsupportedMediaType},
		{"RebindedHost", with(list, func(r *request) { r.host = "attacker.example:8080" }), http.StatusForbidden},
		{"AllowedHost", with(list, func(r *request) { r.host = "sparrow.internal:8080" }), http.StatusOK},
		{"LoopbackIPv6", with(list, func(r *request) { r.host = "[::1]:8080" }), http.StatusOK},
		{"Localhost", with(list, func(r *request) { r.host = "localhost" }), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.req.body
			if tt.req.path == register.path {
				body = `{"name": "x.` + strings.ToLower(tt.name) + `"}` // each its own
			}
			req, _ := http.NewRequest(tt.req.method, s.url+tt.req.path, strings.NewReader(body))
			if tt.req.contentType != "" {
				req.Header.Set("Content-Type", tt.req.contentType)
			}
			if tt.req.origin != "" {
				req.Header.Set("Origin", tt.req.origin)
			}
			if tt.req.host != "" {
				req.Host = tt.req.host
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, out, tt.want)
			}
		})
	}
}

func TestAPIKeyValidate(t *testing.T) {
	t.Parallel()

	eng, err := sparrow.New(pgtest.Pool(t))
	if err != nil {
		t.Fatal(err)
	}
	long := "a-long-enough-api-key"
	for name, tt := range map[string]struct {
		key transport.APIKey
		ok  bool
	}{
		"Valid":          {transport.APIKey{Key: long, Namespaces: []string{"ns1", "ns2"}}, true},
		"AllNamespaces":  {transport.APIKey{Key: long}, true},
		"Short":          {transport.APIKey{Key: "short"}, false},
		"EmptyNamespace": {transport.APIKey{Key: long, Namespaces: []string{"ns1", ""}}, false},
		"BadNamespace":   {transport.APIKey{Key: long, Namespaces: []string{"no spaces"}}, false},
	} {
		err := tt.key.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", name, err, tt.ok)
		}
		if mountErr := transport.Mount(http.NewServeMux(), eng, transport.WithAPIKeys(tt.key)); (mountErr == nil) != tt.ok {
			t.Errorf("%s: Mount = %v, want ok %v", name, mountErr, tt.ok)
		}
	}
}

// TestSmallAnswersNotCompressed: a client accepting gzip gets a small
// answer as it is, and a large one compressed.
func TestSmallAnswersNotCompressed(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	call := func(path, body string) (encoding string, answer []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport then leaves the answer compressed
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		answer, err = io.ReadAll(r)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s (%v)", path, resp.StatusCode, answer, err)
		}
		return resp.Header.Get("Content-Encoding"), answer
	}
	call("/webhook.EventService/RegisterEvent", `{"name":"order.created"}`)
	large := `{"note":"` + strings.Repeat("x", 4000) + `"}`
	encoding, answer := call("/webhook.EventService/PushEvent", `{"event":"order.created","payload":`+large+`}`)
	if encoding != "" {
		t.Errorf("PushEvent's %d-byte answer came with Content-Encoding %q", len(answer), encoding)
	}
	var pushed struct{ EventID string }
	if err := json.Unmarshal(answer, &pushed); err != nil || pushed.EventID == "" {
		t.Fatalf("PushEvent answered %s (%v)", answer, err)
	}
	encoding, answer = call("/webhook.EventService/GetEvent", `{"event_id":"`+pushed.EventID+`"}`)
	if encoding != "gzip" || !strings.Contains(string(answer), strings.Repeat("x", 4000)) {
		t.Errorf("GetEvent's %d-byte answer came with Content-Encoding %q, want gzip", len(answer), encoding)
	}
}
