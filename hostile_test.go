package sparrow_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dnstest"
)

// hostileReceiver is a local endpoint that misbehaves on purpose. It keeps
// the Webhook-Id of every request, attempt by attempt.
type hostileReceiver struct {
	mu         sync.Mutex
	webhookIDs []string
}

func (h *hostileReceiver) serve(t *testing.T, tls bool, misbehave func(attempt int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.webhookIDs = append(h.webhookIDs, r.Header.Get("Webhook-Id"))
		attempt := len(h.webhookIDs)
		h.mu.Unlock()
		misbehave(attempt, w, r)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(handler)
	} else {
		srv = httptest.NewServer(handler)
	}
	t.Cleanup(srv.Close)
	return srv
}

func (h *hostileReceiver) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.webhookIDs...)
}

// hijackConn takes over a request's connection, for receivers that break
// HTTP itself.
func hijackConn(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
	}
	return conn
}

// TestHostileReceivers delivers through the whole engine to receivers that
// misbehave, and checks what is recorded, what is retried, and that every
// attempt of a delivery carries the same webhook-id.
func TestHostileReceivers(t *testing.T) {
	t.Parallel()

	const bodyLimit = 16 << 10
	var gibWritten atomic.Int64
	redirectTarget := newReceiver(t, nil)

	tests := []struct {
		name      string
		tls       bool
		misbehave func(t *testing.T, attempt int, w http.ResponseWriter, r *http.Request)
		// maxAttempts bounds the delivery; wantClasses lists every attempt's class.
		maxAttempts int
		wantStatus  delivery.Status
		wantClasses []delivery.ErrorClass
		check       func(t *testing.T, d *delivery.Delivery)
	}{
		{
			name: "HeadersOneByteASecond",
			misbehave: func(t *testing.T, _ int, w http.ResponseWriter, r *http.Request) {
				conn := hijackConn(t, w)
				defer conn.Close()
				for _, c := range []byte("HTTP/1.1 200 OK\r\n") {
					if _, err := conn.Write([]byte{c}); err != nil {
						return
					}
					time.Sleep(time.Second)
				}
			},
			maxAttempts: 2,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassTimeout, delivery.ClassTimeout},
		},
		{
			name: "EndlessBody",
			misbehave: func(_ *testing.T, _ int, w http.ResponseWriter, r *http.Request) {
				chunk := []byte(strings.Repeat("y", 4096))
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			maxAttempts: 2,
			wantStatus:  delivery.StatusSucceeded,
			wantClasses: []delivery.ErrorClass{delivery.ClassNone},
			check: func(t *testing.T, d *delivery.Delivery) {
				if a := d.Attempts[0]; len(a.ResponseBody) != bodyLimit || !a.ResponseBodyTruncated {
					t.Errorf("kept %d bytes (truncated %v), want the first %d", len(a.ResponseBody), a.ResponseBodyTruncated, bodyLimit)
				}
			},
		},
		{
			name: "GiBBody",
			misbehave: func(_ *testing.T, _ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(1<<30))
				w.WriteHeader(http.StatusInternalServerError)
				chunk := []byte(strings.Repeat("z", 64<<10))
				for written := 0; written < 1<<30; written += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					gibWritten.Add(int64(len(chunk)))
				}
			},
			maxAttempts: 1,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassHTTP5xx},
			check: func(t *testing.T, d *delivery.Delivery) {
				if a := d.Attempts[0]; len(a.ResponseBody) != bodyLimit || !a.ResponseBodyTruncated {
					t.Errorf("kept %d bytes (truncated %v), want the first %d", len(a.ResponseBody), a.ResponseBodyTruncated, bodyLimit)
				}
				// The engine closes the connection instead of draining the
				// body: the receiver gets a write error after at most a few
				// socket buffers, never the whole GiB.
				deadline := time.Now().Add(10 * time.Second)
				for {
					n := gibWritten.Load()
					time.Sleep(200 * time.Millisecond)
					if gibWritten.Load() == n {
						if n > 64<<20 {
							t.Errorf("the receiver wrote %d MiB of its 1 GiB body: the engine kept reading", n>>20)
						}
						t.Logf("the receiver wrote %d KiB of its 1 GiB body before the connection closed", n>>10)
						return
					}
					if time.Now().After(deadline) {
						t.Errorf("the receiver is still writing (%d MiB): the connection was not closed", n>>20)
						return
					}
				}
			},
		},
		{
			name: "RedirectToLoopback",
			misbehave: func(_ *testing.T, _ int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, redirectTarget.URL+"/admin", http.StatusFound)
			},
			maxAttempts: 3,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassHTTP3xx},
			check: func(t *testing.T, d *delivery.Delivery) {
				if n := len(redirectTarget.received()); n != 0 {
					t.Errorf("the redirect was followed: its target got %d requests", n)
				}
			},
		},
		{
			name:        "SelfSignedCertificate",
			tls:         true,
			misbehave:   func(*testing.T, int, http.ResponseWriter, *http.Request) {},
			maxAttempts: 3,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassTLS},
		},
		{
			name: "ResetHalfWayThroughTheBody",
			misbehave: func(t *testing.T, attempt int, w http.ResponseWriter, r *http.Request) {
				if attempt > 1 {
					return
				}
				conn := hijackConn(t, w)
				conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"))
				time.Sleep(50 * time.Millisecond)
				conn.(*net.TCPConn).SetLinger(0) // an RST, not a FIN
				conn.Close()
			},
			maxAttempts: 3,
			wantStatus:  delivery.StatusSucceeded,
			wantClasses: []delivery.ErrorClass{delivery.ClassConnectionReset, delivery.ClassNone},
		},
		{
			name: "OKAfterTheTimeout",
			misbehave: func(_ *testing.T, attempt int, w http.ResponseWriter, r *http.Request) {
				if attempt == 1 {
					time.Sleep(1500 * time.Millisecond) // the timeout is 1s
				}
				w.WriteHeader(http.StatusOK)
			},
			maxAttempts: 3,
			wantStatus:  delivery.StatusSucceeded,
			wantClasses: []delivery.ErrorClass{delivery.ClassTimeout, delivery.ClassNone},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			b := setup(t, sparrow.WithResponseBodyLimit(bodyLimit))
			b.start(t)
			var h hostileReceiver
			srv := h.serve(t, tt.tls, func(attempt int, w http.ResponseWriter, r *http.Request) { tt.misbehave(t, attempt, w, r) })
			b.registerEvent(t, "order.created")
			w := b.registerWebhook(t, sparrow.RegisterWebhookParams{
				URL: srv.URL, Events: []string{"order.created"}, Timeout: time.Second, MaxAttempts: tt.maxAttempts,
			})
			ev, err := b.eng.PushEvent(ctx, sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			d := b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0]
			got := b.waitDelivery(t, w.Namespace, d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
			if got.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", got.Status, tt.wantStatus)
			}
			var classes []delivery.ErrorClass
			for _, a := range got.Attempts {
				classes = append(classes, a.ErrorClass)
			}
			if diff := cmp.Diff(tt.wantClasses, classes); diff != "" {
				t.Errorf("attempt classes (-want +got):\n%s", diff)
			}
			if !tt.tls { // a failed handshake never reaches the handler
				for i, id := range h.ids() {
					if id != d.ID {
						t.Errorf("attempt %d carried webhook-id %q, want %q on every attempt", i+1, id, d.ID)
					}
				}
				if n := len(h.ids()); n != len(tt.wantClasses) {
					t.Errorf("the receiver got %d requests for %d recorded attempts", n, len(tt.wantClasses))
				}
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestPrivateHostnameRefused registers a hostname that resolves to a
// loopback address on an engine with the default network policy: the name
// is resolved, the address refused, and nothing connects.
func TestPrivateHostnameRefused(t *testing.T) {
	t.Parallel()

	rcv := newReceiver(t, nil)
	port := rcv.Listener.Addr().(*net.TCPAddr).Port
	dns := dnstest.New(t, map[string][]netip.Addr{
		"hooks.customer.test.": {netip.MustParseAddr("127.0.0.1")},
	})
	b := setup(t)
	eng, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithLogger(testLogger(t)), sparrow.WithResolver(dns.Resolver()))
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	b.start(t)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: fmt.Sprintf("http://hooks.customer.test:%d/hook", port), Events: []string{"order.created"}})
	ev, err := b.eng.PushEvent(context.Background(), sparrow.Event{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, w.Namespace, ev.ID, 1)[0]
	got := b.waitDelivery(t, w.Namespace, d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
	if got.Status != delivery.StatusFailed || got.LastErrorClass != delivery.ClassBlockedDestination || got.AttemptCount != 1 {
		t.Fatalf("status %s class %q after %d attempts, want failed blocked_destination after 1", got.Status, got.LastErrorClass, got.AttemptCount)
	}
	if n := len(rcv.received()); n != 0 {
		t.Fatalf("the loopback receiver behind the hostname got %d requests", n)
	}
}
