package delivery_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dnstest"
	"github.com/sparrowhq/sparrow/webhook"
)

const bodyLimit = 1024

func newSender(guard *delivery.Guard) *delivery.Sender {
	return delivery.NewSender(delivery.NewClient(guard, nil), bodyLimit, "Sparrow-Test/1")
}

var allowAll = &delivery.Guard{AllowPrivate: true}

func request(url string) *delivery.Request {
	return &delivery.Request{
		URL:        url,
		Body:       []byte(`{"order_id":"ord_123"}`),
		Timeout:    2 * time.Second,
		Timestamp:  time.Now(),
		DeliveryID: "dlv_1",
		EventID:    "evt_1",
		EventName:  "order.created",
		Namespace:  "default",
		WebhookID:  "wh_1",
		Attempt:    1,
		Signer:     delivery.NewSigner([][]byte{[]byte("key-one")}),
	}
}

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// hijack takes over the connection of a request, for receivers that break
// HTTP on purpose.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
	}
	return conn, buf
}

func TestSenderOutcomes(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		handler    http.HandlerFunc
		timeout    time.Duration
		wantClass  delivery.ErrorClass
		wantStatus int
		retried    bool
		retryAfter time.Duration
	}{
		{
			name:       "OK",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) },
			wantStatus: 200,
		},
		{
			name:       "NoContent",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
			wantStatus: 204,
		},
		{
			name:       "ServerError",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
			wantClass:  delivery.ClassHTTP5xx,
			wantStatus: 500,
			retried:    true,
		},
		{
			name: "ServiceUnavailableRetryAfterSeconds",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(503)
			},
			wantClass:  delivery.ClassHTTP5xx,
			wantStatus: 503,
			retried:    true,
			retryAfter: 120 * time.Second,
		},
		{
			name: "TooManyRequests",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(429)
			},
			wantClass:  delivery.ClassHTTP4xx,
			wantStatus: 429,
			retried:    true,
			retryAfter: 7 * time.Second,
		},
		{
			name:       "RequestTimeout",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(408) },
			wantClass:  delivery.ClassHTTP4xx,
			wantStatus: 408,
			retried:    true,
		},
		{
			name:       "NotFound",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) },
			wantClass:  delivery.ClassHTTP4xx,
			wantStatus: 404,
		},
		{
			name:       "Gone",
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) },
			wantClass:  delivery.ClassHTTP4xx,
			wantStatus: 410,
		},
		{
			name: "RedirectNotFollowed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
			},
			wantClass:  delivery.ClassHTTP3xx,
			wantStatus: 302,
		},
		{
			name:      "Timeout",
			handler:   func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond); w.WriteHeader(200) },
			timeout:   100 * time.Millisecond,
			wantClass: delivery.ClassTimeout,
			retried:   true,
		},
		{
			name: "HeadersDripFed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, buf := hijack(t, w)
				defer conn.Close()
				for _, c := range []byte("HTTP/1.1 200 OK\r\n") {
					buf.WriteByte(c)
					buf.Flush()
					time.Sleep(50 * time.Millisecond)
				}
			},
			timeout:   200 * time.Millisecond,
			wantClass: delivery.ClassTimeout,
			retried:   true,
		},
		{
			name: "Reset",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _ := hijack(t, w)
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			},
			wantClass: delivery.ClassConnectionReset,
			retried:   true,
		},
		{
			name: "ClosedMidBody",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, buf := hijack(t, w)
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
				buf.Flush()
				conn.Close()
			},
			wantClass:  delivery.ClassConnectionClosed,
			wantStatus: 200,
			retried:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			srv := server(t, tt.handler)
			req := request(srv.URL)
			if tt.timeout != 0 {
				req.Timeout = tt.timeout
			}
			res := newSender(allowAll).Send(context.Background(), req)
			if res.Class != tt.wantClass || res.StatusCode != tt.wantStatus {
				t.Fatalf("class %q status %d (err %q), want class %q status %d", res.Class, res.StatusCode, res.Err, tt.wantClass, tt.wantStatus)
			}
			if got := delivery.DefaultCheckRetry(&res.Outcome); got != tt.retried && !res.Succeeded() {
				t.Fatalf("retried = %v, want %v", got, tt.retried)
			}
			if res.RetryAfter != tt.retryAfter {
				t.Fatalf("RetryAfter = %s, want %s", res.RetryAfter, tt.retryAfter)
			}
			if (res.Class == delivery.ClassNone) != (res.Err == "") {
				t.Fatalf("class %q with error text %q", res.Class, res.Err)
			}
		})
	}
}

func TestSenderConnectionRefused(t *testing.T) {
	t.Parallel()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res := newSender(allowAll).Send(context.Background(), request("http://"+addr+"/"))
	if res.Class != delivery.ClassConnectionRefused || !delivery.DefaultCheckRetry(&res.Outcome) {
		t.Fatalf("class %q (%s), want a retried connection_refused", res.Class, res.Err)
	}
}

func TestSenderDNSFailure(t *testing.T) {
	t.Parallel()

	dns := dnstest.New(t, nil)
	sender := delivery.NewSender(delivery.NewClient(allowAll, dns.Resolver()), bodyLimit, "t")
	res := sender.Send(context.Background(), request("http://receiver.example.com/"))
	if res.Class != delivery.ClassDNS || delivery.DefaultCheckRetry(&res.Outcome) {
		t.Fatalf("class %q (%s), want an unretried dns", res.Class, res.Err)
	}
}

func TestSenderTLSFailure(t *testing.T) {
	t.Parallel()

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	t.Cleanup(srv.Close)
	res := newSender(allowAll).Send(context.Background(), request(srv.URL))
	if res.Class != delivery.ClassTLS || delivery.DefaultCheckRetry(&res.Outcome) {
		t.Fatalf("class %q (%s), want an unretried tls", res.Class, res.Err)
	}

	// With the certificate trusted the same server is fine.
	client := delivery.NewClient(allowAll, nil)
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	res = delivery.NewSender(client, bodyLimit, "t").Send(context.Background(), request(srv.URL))
	if res.Class != delivery.ClassNone {
		t.Fatalf("trusted TLS: class %q (%s)", res.Class, res.Err)
	}
}

func TestSenderBlocksPrivateDestinations(t *testing.T) {
	t.Parallel()

	var hits int
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	res := newSender(&delivery.Guard{}).Send(context.Background(), request(srv.URL))
	if res.Class != delivery.ClassBlockedDestination || delivery.DefaultCheckRetry(&res.Outcome) {
		t.Fatalf("class %q (%s), want an unretried blocked_destination", res.Class, res.Err)
	}
	// A public-looking name that resolves to loopback (DNS rebinding) is
	// refused the same way: the check runs on the dialed address, after DNS.
	dns := dnstest.New(t, map[string][]netip.Addr{"rebind.example.com": {netip.MustParseAddr("127.0.0.1")}})
	sender := delivery.NewSender(delivery.NewClient(&delivery.Guard{}, dns.Resolver()), bodyLimit, "t")
	res = sender.Send(context.Background(), request(strings.Replace(srv.URL, "127.0.0.1", "rebind.example.com", 1)))
	if res.Class != delivery.ClassBlockedDestination {
		t.Fatalf("via a name resolving to loopback: class %q (%s)", res.Class, res.Err)
	}
	if hits != 0 {
		t.Fatalf("the blocked receiver got %d requests", hits)
	}
}

func TestSenderResponseBody(t *testing.T) {
	t.Parallel()

	t.Run("Truncated", func(t *testing.T) {
		t.Parallel()

		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, strings.Repeat("x", 10*bodyLimit))
		})
		res := newSender(allowAll).Send(context.Background(), request(srv.URL))
		if len(res.ResponseBody) != bodyLimit || !res.ResponseBodyTruncated {
			t.Fatalf("kept %d bytes, truncated=%v; want %d, true", len(res.ResponseBody), res.ResponseBodyTruncated, bodyLimit)
		}
	})

	t.Run("EndlessBody", func(t *testing.T) {
		t.Parallel()

		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			chunk := []byte(strings.Repeat("y", 4096))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
		res := newSender(allowAll).Send(context.Background(), request(srv.URL))
		if res.Class != delivery.ClassNone || !res.ResponseBodyTruncated {
			t.Fatalf("class %q truncated=%v: an endless 200 should succeed with its body cut", res.Class, res.ResponseBodyTruncated)
		}
	})

	t.Run("Short", func(t *testing.T) {
		t.Parallel()

		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Receiver", "yes")
			io.WriteString(w, "thanks")
		})
		res := newSender(allowAll).Send(context.Background(), request(srv.URL))
		if string(res.ResponseBody) != "thanks" || res.ResponseBodyTruncated || res.ResponseHeaders["X-Receiver"] != "yes" {
			t.Fatalf("body %q truncated=%v headers %v", res.ResponseBody, res.ResponseBodyTruncated, res.ResponseHeaders)
		}
	})
}

func TestSenderHeaders(t *testing.T) {
	t.Parallel()

	var got http.Header
	var body []byte
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
	})
	req := request(srv.URL)
	keys := [][]byte{[]byte("new-key"), []byte("old-key")}
	req.Signer = delivery.NewSigner(keys)
	req.Headers = map[string]string{"Authorization": "Bearer s3cret", "X-Tenant": "t1"}
	req.Attempt = 3
	res := newSender(allowAll).Send(context.Background(), req)
	if res.Class != delivery.ClassNone {
		t.Fatal(res.Err)
	}

	want := map[string]string{
		"Content-Type":       "application/json",
		"User-Agent":         "Sparrow-Test/1",
		"Webhook-Id":         "dlv_1",
		"Sparrow-Event":      "order.created",
		"Sparrow-Event-Id":   "evt_1",
		"Sparrow-Namespace":  "default",
		"Sparrow-Webhook-Id": "wh_1",
		"Sparrow-Attempt":    "3",
		"Authorization":      "Bearer s3cret",
		"X-Tenant":           "t1",
	}
	for name, value := range want {
		if got.Get(name) != value {
			t.Errorf("header %s = %q, want %q", name, got.Get(name), value)
		}
	}
	// Both keys sign: a receiver holding either verifies.
	for _, key := range keys {
		wh, _ := standardwebhooks.NewWebhookRaw(key)
		if err := wh.Verify(body, got); err != nil {
			t.Errorf("signature by %q: %v", key, err)
		}
	}
	if res.RequestHeaders["Authorization"] != "********" || res.RequestHeaders["X-Tenant"] != "********" {
		t.Errorf("custom header values recorded unmasked: %v", res.RequestHeaders)
	}
	if res.RequestHeaders["Webhook-Id"] != "dlv_1" {
		t.Errorf("recorded request headers lack Webhook-Id: %v", res.RequestHeaders)
	}
}

func TestSign(t *testing.T) {
	t.Parallel()

	// The reference implementation signs; Sparrow must produce the same.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	want, err := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, secret)
	if diff := cmp.Diff(want, delivery.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body, [][]byte{key})); diff != "" {
		t.Fatalf("signature (-reference +sparrow):\n%s", diff)
	}
	// A Signer reuses its keyed HMACs: every use signs as the first did,
	// each key in turn.
	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!"))
	otherWh, err := standardwebhooks.NewWebhook(otherSecret)
	if err != nil {
		t.Fatal(err)
	}
	wantOther, err := otherWh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	wantBoth := want + " " + wantOther
	if got := delivery.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body, [][]byte{key, mustKey(t, otherSecret)}); got != wantBoth {
		t.Fatalf("two keys: %q, want %q", got, wantBoth)
	}
	signer := delivery.NewSigner([][]byte{key, mustKey(t, otherSecret)})
	for range 3 {
		if got := signer.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); got != wantBoth {
			t.Fatalf("Signer.Sign = %q, want %q", got, wantBoth)
		}
	}
	if got := delivery.NewSigner(nil).Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); got != "" {
		t.Fatalf("no keys: %q, want no signature", got)
	}
}

// TestSignEd25519: a "whsk_" secret signs "v1a" signatures that
// crypto/ed25519 verifies with its public key; beside an HMAC secret (a
// rotation between kinds) both sign, newest first, and the reference
// verifier still accepts the HMAC one.
func TestSignEd25519(t *testing.T) {
	t.Parallel()

	signingKey := webhook.NewSigningKey()
	hmacSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	signer, err := delivery.NewSecretSigner([]string{signingKey, hmacSecret})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	header := signer.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body)
	parts := strings.Split(header, " ")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "v1a,") || !strings.HasPrefix(parts[1], "v1,") {
		t.Fatalf("signature header %q, want a v1a signature then a v1 one", header)
	}
	public, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(webhook.PublicKey(signingKey), webhook.PublicKeyPrefix))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(parts[0], "v1a,"))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(public, []byte("msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330."+string(body)), sig) {
		t.Error("the v1a signature does not verify with the webhook's public key")
	}
	if ed25519.Verify(public, []byte("msg_p5jXN8AQM9LWM0D4loKWxJek.1614265331."+string(body)), sig) {
		t.Error("the v1a signature verifies another timestamp")
	}
	wh, err := standardwebhooks.NewWebhook(hmacSecret)
	if err != nil {
		t.Fatal(err)
	}
	headers := http.Header{}
	headers.Set("Webhook-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	headers.Set("Webhook-Timestamp", "1614265330")
	headers.Set("Webhook-Signature", header)
	if err := wh.VerifyIgnoringTimestamp(body, headers); err != nil {
		t.Errorf("the reference verifier refuses the HMAC signature beside a v1a one: %v", err)
	}
	if _, err := delivery.NewSecretSigner([]string{webhook.SigningKeyPrefix + "AAAA"}); err == nil {
		t.Error("a malformed signing key made a signer")
	}
}

// TestSenderErrorsInPeoplesWords makes attempts that fail for real (a
// receiver that hangs, a closed port, an untrusted certificate, a name that
// doesn't resolve...) and checks the error each records: what happened, in
// the words of someone reading the delivery's history, without Go's error
// chain ("Post \"...\":", "dial tcp", "url:", package prefixes).
func TestSenderErrorsInPeoplesWords(t *testing.T) {
	t.Parallel()

	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	serve := func(h http.HandlerFunc) func(t *testing.T) (string, *delivery.Sender) {
		return func(t *testing.T) (string, *delivery.Sender) { return server(t, h).URL, newSender(allowAll) }
	}
	// hang holds a request until the client gives up. The body is read
	// first: only then does the server watch the connection, and end the
	// request's context when the client leaves.
	hang := func(r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	tests := []struct {
		name    string
		target  func(t *testing.T) (url string, sender *delivery.Sender)
		timeout time.Duration
		class   delivery.ErrorClass
		// want is the error recorded, given the URL's host:port.
		want func(host string) string
	}{
		{
			name:    "Hangs",
			target:  serve(func(w http.ResponseWriter, r *http.Request) { hang(r) }),
			timeout: 300 * time.Millisecond,
			class:   delivery.ClassTimeout,
			want:    func(string) string { return "no answer within 300ms" },
		},
		{
			name:    "HangsWithinSeconds",
			target:  serve(func(w http.ResponseWriter, r *http.Request) { hang(r) }),
			timeout: time.Second,
			class:   delivery.ClassTimeout,
			want:    func(string) string { return "no answer within 1s" },
		},
		{
			name: "BodyStalls",
			target: serve(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				hang(r)
			}),
			timeout: 300 * time.Millisecond,
			class:   delivery.ClassTimeout,
			want:    func(string) string { return "answered 200 OK, but the rest of the answer did not arrive within 300ms" },
		},
		{
			name: "ClosedPort",
			target: func(t *testing.T) (string, *delivery.Sender) {
				return "http://" + closedPort(t) + "/hook", newSender(allowAll)
			},
			class: delivery.ClassConnectionRefused,
			want:  func(host string) string { return "connection refused by " + host },
		},
		{
			name: "UntrustedCertificate",
			target: func(t *testing.T) (string, *delivery.Sender) {
				srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				t.Cleanup(srv.Close)
				return srv.URL, newSender(allowAll)
			},
			class: delivery.ClassTLS,
			want:  func(string) string { return "TLS handshake failed: certificate signed by unknown authority" },
		},
		{
			name: "PlainHTTPForHTTPS",
			target: func(t *testing.T) (string, *delivery.Sender) {
				return strings.Replace(server(t, nil).URL, "http:", "https:", 1), newSender(allowAll)
			},
			class: delivery.ClassNetwork,
			want:  func(host string) string { return host + " answered in plain HTTP, not HTTPS" },
		},
		{
			name: "NameDoesNotResolve",
			target: func(t *testing.T) (string, *delivery.Sender) {
				resolver := dnstest.New(t, nil).Resolver()
				return "http://receiver.example.invalid/hook", delivery.NewSender(delivery.NewClient(allowAll, resolver), bodyLimit, "t")
			},
			class: delivery.ClassDNS,
			want:  func(string) string { return "DNS lookup of receiver.example.invalid failed: no such host" },
		},
		{
			name: "PrivateAddress",
			target: func(t *testing.T) (string, *delivery.Sender) {
				return server(t, nil).URL, newSender(&delivery.Guard{})
			},
			class: delivery.ClassBlockedDestination,
			want: func(string) string {
				return "destination 127.0.0.1 is not a public address (allow it with sparrow.WithAllowedCIDRs or WithAllowPrivateNetworks)"
			},
		},
		{
			name: "Reset",
			target: serve(func(w http.ResponseWriter, r *http.Request) {
				conn, _ := hijack(t, w)
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}),
			class: delivery.ClassConnectionReset,
			want:  func(host string) string { return "connection reset by " + host },
		},
		{
			name: "ClosedBeforeAnswering",
			target: serve(func(w http.ResponseWriter, r *http.Request) {
				conn, _ := hijack(t, w)
				conn.Close()
			}),
			class: delivery.ClassConnectionClosed,
			want:  func(host string) string { return "connection closed by " + host + " before an answer" },
		},
		{
			name: "ClosedMidBody",
			target: serve(func(w http.ResponseWriter, r *http.Request) {
				conn, buf := hijack(t, w)
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
				buf.Flush()
				conn.Close()
			}),
			class: delivery.ClassConnectionClosed,
			want:  func(string) string { return "answered 200 OK, then closed the connection before the end of the answer" },
		},
		{
			name:   "ServiceUnavailable",
			target: serve(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }),
			class:  delivery.ClassHTTP5xx,
			want:   func(string) string { return "answered 503 Service Unavailable" },
		},
		{
			name:   "UnnamedStatus",
			target: serve(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) }),
			class:  delivery.ClassHTTP5xx,
			want:   func(string) string { return "answered 599" },
		},
		{
			name: "Redirect",
			target: serve(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://example.com/elsewhere", http.StatusFound)
			}),
			class: delivery.ClassHTTP3xx,
			want: func(string) string {
				return "answered 302 Found, a redirect to https://example.com/elsewhere (not followed)"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			url, sender := tt.target(t)
			req := request(url)
			if tt.timeout != 0 {
				req.Timeout = tt.timeout
			}
			res := sender.Send(context.Background(), req)
			host := strings.TrimSuffix(strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[0], "/")
			if res.Class != tt.class {
				t.Errorf("class %q, want %q (error %q)", res.Class, tt.class, res.Err)
			}
			if want := tt.want(host); res.Err != want {
				t.Errorf("error\n got %q\nwant %q", res.Err, want)
			}
			for _, jargon := range []string{"url:", `Post "`, "dial tcp", "context deadline exceeded", "x509: ", "tls: ", "net/http: "} {
				if strings.Contains(res.Err, jargon) {
					t.Errorf("error %q carries Go's %q", res.Err, jargon)
				}
			}
		})
	}
}

// TestSenderReusedConnectionClosed: a receiver that closes a kept-alive
// connection as the next request arrives on it, before answering (its idle
// timeout ran out just then), gets the request again on a new connection,
// and the attempt succeeds.
func TestSenderReusedConnectionClosed(t *testing.T) {
	t.Parallel()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	received := make(chan string, 4)
	go func() {
		for conn := 0; ; conn++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			for n := 0; ; n++ {
				req, err := http.ReadRequest(r)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				received <- req.Header.Get("webhook-id")
				if conn == 0 && n == 1 {
					break // the second request on the first connection: closed unanswered
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			}
			c.Close()
		}
	}()
	s := newSender(allowAll)
	url := "http://" + l.Addr().String()
	if res := s.Send(context.Background(), request(url)); res.StatusCode != http.StatusOK {
		t.Fatalf("first attempt: %+v", res)
	}
	second := request(url)
	second.DeliveryID = "dlv_2"
	res := s.Send(context.Background(), second)
	if res.StatusCode != http.StatusOK || res.Err != "" {
		t.Fatalf("second attempt on the closed connection: status %d, %s (%s)", res.StatusCode, res.Err, res.Class)
	}
	if _, sent := res.RequestHeaders["Idempotency-Key"]; sent {
		t.Errorf("recorded headers include Idempotency-Key: %v", res.RequestHeaders)
	}
	want := []string{"dlv_1", "dlv_2", "dlv_2"}
	for i, id := range want {
		if got := <-received; got != id {
			t.Fatalf("request %d carried webhook-id %q, want %q", i, got, id)
		}
	}
}

// TestSenderOwnIdempotencyKey: a webhook's own Idempotency-Key header is
// sent as it is.
func TestSenderOwnIdempotencyKey(t *testing.T) {
	t.Parallel()

	got := make(chan http.Header, 1)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() })
	req := request(srv.URL)
	req.Headers = map[string]string{"Idempotency-Key": "from-the-webhook"}
	if res := newSender(allowAll).Send(context.Background(), req); res.StatusCode != http.StatusOK {
		t.Fatalf("%+v", res)
	}
	if h := <-got; h.Get("Idempotency-Key") != "from-the-webhook" {
		t.Fatalf("Idempotency-Key %q, want the webhook's", h.Get("Idempotency-Key"))
	}
}
