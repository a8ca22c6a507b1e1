package sparrow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
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

// serve starts the receiver, over TLS when overTLS is set: with cert when
// given, else with httptest's self-signed certificate.
func (h *hostileReceiver) serve(t *testing.T, overTLS bool, cert *tls.Certificate, misbehave func(attempt int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.webhookIDs = append(h.webhookIDs, r.Header.Get("Webhook-Id"))
		attempt := len(h.webhookIDs)
		h.mu.Unlock()
		misbehave(attempt, w, r)
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(newTWriter(t), "", 0) // failed handshakes, expected here
	switch {
	case cert != nil:
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		srv.StartTLS()
	case overTLS:
		srv.StartTLS()
	default:
		srv.Start()
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

	const bodyLimit, gib = 16 << 10, 1 << 30
	var gibWritten, endlessWritten atomic.Int64
	endlessEnded := make(chan string, 1)
	redirectTarget := newReceiver(t, nil)
	// A CA the engine trusts, whose certificates are each wrong in one way.
	ca := newTestCA(t)
	now := time.Now()
	trustCA := []sparrow.Option{sparrow.WithHTTPClient(ca.client())}

	tests := []struct {
		name      string
		tls       bool
		cert      *tls.Certificate // the receiver's, when not httptest's self-signed one
		opts      []sparrow.Option
		misbehave func(t *testing.T, attempt int, w http.ResponseWriter, r *http.Request)
		// measureHeap: the attempt must not grow the process's heap by
		// anything like the body's size.
		measureHeap bool
		// timeout is the webhook's; default 1s.
		timeout time.Duration
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
				ended := func(why string) {
					select {
					case endlessEnded <- why:
					default:
					}
				}
				chunk := []byte(strings.Repeat("y", 4096))
				for {
					if err := r.Context().Err(); err != nil {
						ended("its request's context ended: " + err.Error())
						return
					}
					if _, err := w.Write(chunk); err != nil {
						ended("a write failed: " + err.Error())
						return
					}
					endlessWritten.Add(int64(len(chunk)))
				}
			},
			// Long enough that only the engine's closing can end the body in
			// time for the check.
			timeout:     15 * time.Second,
			maxAttempts: 2,
			wantStatus:  delivery.StatusSucceeded,
			wantClasses: []delivery.ErrorClass{delivery.ClassNone},
			check: func(t *testing.T, d *delivery.Delivery) {
				if a := d.Attempts[0]; len(a.ResponseBody) != bodyLimit || !a.ResponseBodyTruncated {
					t.Errorf("kept %d bytes (truncated %v), want the first %d", len(a.ResponseBody), a.ResponseBodyTruncated, bodyLimit)
				}
				// Past the cap the engine closes the connection: the
				// receiver's writes fail, and it stops, a few socket buffers on.
				select {
				case why := <-endlessEnded:
					n := endlessWritten.Load()
					if n > 64<<20 {
						t.Errorf("the receiver wrote %d MiB of its endless body: the engine kept reading", n>>20)
					}
					t.Logf("the receiver stopped after %d KiB (%d KiB kept): %s", n>>10, bodyLimit>>10, why)
				case <-time.After(10 * time.Second):
					t.Errorf("the receiver is still writing (%d MiB): the connection was not closed", endlessWritten.Load()>>20)
				}
			},
		},
		{
			name: "GiBBody",
			misbehave: func(_ *testing.T, _ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(gib))
				w.WriteHeader(http.StatusInternalServerError)
				chunk := []byte(strings.Repeat("z", 64<<10))
				for written := 0; written < gib; written += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					gibWritten.Add(int64(len(chunk)))
				}
			},
			measureHeap: true,
			// Time enough to read the whole body, were the engine to try.
			timeout:     15 * time.Second, // within waitDelivery's patience
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
			check:       wantAttemptError("signed by unknown authority"),
		},
		{
			// The control for the two below: the engine does trust the CA.
			name:        "CertificateFromTrustedCA",
			tls:         true,
			cert:        ca.issue(t, now.Add(-time.Hour), now.Add(time.Hour), "127.0.0.1"),
			opts:        trustCA,
			misbehave:   func(*testing.T, int, http.ResponseWriter, *http.Request) {},
			maxAttempts: 3,
			wantStatus:  delivery.StatusSucceeded,
			wantClasses: []delivery.ErrorClass{delivery.ClassNone},
		},
		{
			name:        "ExpiredCertificate",
			tls:         true,
			cert:        ca.issue(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "127.0.0.1"),
			opts:        trustCA,
			misbehave:   func(*testing.T, int, http.ResponseWriter, *http.Request) {},
			maxAttempts: 3,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassTLS},
			check:       wantAttemptError("certificate has expired"),
		},
		{
			name:        "CertificateForAnotherHost",
			tls:         true,
			cert:        ca.issue(t, now.Add(-time.Hour), now.Add(time.Hour), "127.0.0.2", "hooks.other.test"),
			opts:        trustCA,
			misbehave:   func(*testing.T, int, http.ResponseWriter, *http.Request) {},
			maxAttempts: 3,
			wantStatus:  delivery.StatusFailed,
			wantClasses: []delivery.ErrorClass{delivery.ClassTLS},
			check:       wantAttemptError("certificate is valid for 127.0.0.2, not 127.0.0.1"),
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
			b := setup(t, append([]sparrow.Option{sparrow.WithResponseBodyLimit(bodyLimit)}, tt.opts...)...)
			b.start(t)
			var h hostileReceiver
			srv := h.serve(t, tt.tls, tt.cert, func(attempt int, w http.ResponseWriter, r *http.Request) { tt.misbehave(t, attempt, w, r) })
			b.registerEvent(t, "order.created")
			// A second where a case wants its receiver to outlast the
			// timeout; elsewhere room for a loaded machine's slow TLS
			// handshake, which a short timeout would turn into a timeout.
			timeout := 10 * time.Second
			if slices.Contains(tt.wantClasses, delivery.ClassTimeout) {
				timeout = time.Second
			}
			if tt.timeout != 0 {
				timeout = tt.timeout
			}
			w := b.registerWebhook(t, sparrow.RegisterWebhookParams{
				URL: srv.URL, Events: []string{"order.created"}, Timeout: timeout, MaxAttempts: tt.maxAttempts,
			})
			if tt.measureHeap {
				// Deferred: the heap speaks even when the attempt never ends.
				defer watchHeap().check(t, gib)
			}
			ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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
			if !tt.tls || tt.wantStatus == delivery.StatusSucceeded { // a failed handshake never reaches the handler
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

// wantAttemptError checks that the first attempt's error says what went
// wrong, so a failure of one kind can't pass for another.
func wantAttemptError(want string) func(t *testing.T, d *delivery.Delivery) {
	return func(t *testing.T, d *delivery.Delivery) {
		if a := d.Attempts[0]; !strings.Contains(a.Error, want) {
			t.Errorf("attempt error %q, want it to say %q", a.Error, want)
		}
	}
}

// heapWatch follows the process's heap while an attempt runs: its size
// after a collection before and after, and its peak in between, garbage
// included (a body read whole and dropped shows only there).
type heapWatch struct {
	before uint64
	peak   atomic.Uint64
	stop   chan struct{}
	done   chan struct{}
}

func watchHeap() *heapWatch {
	w := &heapWatch{before: liveHeap(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			w.peak.Store(max(w.peak.Load(), ms.HeapAlloc))
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// check stops the watch and fails t if the heap grew by more than a
// fraction of bodySize: other tests run alongside, so only a growth of the
// body's order means something.
func (w *heapWatch) check(t *testing.T, bodySize int64) {
	t.Helper()
	close(w.stop)
	<-w.done
	after := liveHeap()
	peak := max(w.peak.Load(), after)
	mib := func(n uint64) int64 { return (int64(n) - int64(w.before)) >> 20 }
	t.Logf("heap %d MiB before; %+d MiB at the peak, %+d MiB after a collection", w.before>>20, mib(peak), mib(after))
	if int64(after)-int64(w.before) > bodySize/8 {
		t.Errorf("the heap grew by %d MiB with a %d MiB body: the engine kept it", mib(after), bodySize>>20)
	}
	if int64(peak)-int64(w.before) > bodySize/4 {
		t.Errorf("the heap peaked %d MiB higher with a %d MiB body: the engine read it in", mib(peak), bodySize>>20)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// testCA is a certificate authority of the test's own, so a receiver's
// certificate can be wrong in one way only, everything else checking out.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Sparrow test CA"},
		NotBefore:             time.Now().Add(-72 * time.Hour),
		NotAfter:              time.Now().Add(72 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue returns a server certificate for hosts (IP addresses or names),
// valid from notBefore to notAfter.
func (ca *testCA) issue(t *testing.T, notBefore, notAfter time.Time, hosts ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// client returns Sparrow's own delivery client, private addresses allowed,
// trusting the CA.
func (ca *testCA) client() *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	client := delivery.NewClient(&delivery.Guard{AllowPrivate: true}, nil)
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
	return client
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
	ev, err := b.eng.PushEvent(context.Background(), sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
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
