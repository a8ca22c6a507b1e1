package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a local HTTP server standing in for webhook endpoints. Paths
// registered with a secret verify every request's Standard Webhooks
// signature, as a careful receiver does; a request that fails is answered
// 400 and counted. It listens on loopback only.
type receiver struct {
	srv *httptest.Server

	mu       sync.RWMutex
	verifier map[string]*standardwebhooks.Webhook // by path; nil: unsigned

	received atomic.Int64
	rejected atomic.Int64
	firstErr atomic.Pointer[string]
	want     atomic.Int64
	reached  chan struct{}

	// delay, when set, is how long each answer takes: a receiver slower
	// than the pushes, so that a backlog builds.
	delay time.Duration

	// Latencies, when recording: push to receipt, from the payload's
	// sent_ns (see payload).
	recording bool
	latMu     sync.Mutex
	latencies []time.Duration
}

func newReceiver(recordLatency bool) *receiver {
	r := &receiver{verifier: map[string]*standardwebhooks.Webhook{}, reached: make(chan struct{}), recording: recordLatency}
	r.srv = httptest.NewServer(r)
	return r
}

func (r *receiver) close() { r.srv.Close() }

// endpoint registers a path and returns its URL. With a secret, requests to
// it must be signed with it.
func (r *receiver) endpoint(path, secret string) (string, error) {
	var wh *standardwebhooks.Webhook
	if secret != "" {
		var err error
		if wh, err = standardwebhooks.NewWebhook(secret); err != nil {
			return "", err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verifier[path] = wh
	return r.srv.URL + path, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := since()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		r.reject(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return
	}
	r.mu.RLock()
	wh, known := r.verifier[req.URL.Path]
	r.mu.RUnlock()
	switch {
	case !known:
		r.reject(w, http.StatusNotFound, fmt.Errorf("unknown path %s", req.URL.Path))
		return
	case wh != nil:
		if err := wh.Verify(body, req.Header); err != nil {
			r.reject(w, http.StatusBadRequest, err)
			return
		}
	}
	if r.recording {
		if sent, ok := sentAt(body); ok {
			r.latMu.Lock()
			r.latencies = append(r.latencies, at-sent)
			r.latMu.Unlock()
		}
	}
	if n := r.received.Add(1); n == r.want.Load() {
		close(r.reached)
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) reject(w http.ResponseWriter, code int, err error) {
	r.rejected.Add(1)
	msg := err.Error()
	r.firstErr.CompareAndSwap(nil, &msg)
	http.Error(w, msg, code)
}

// expect sets how many requests await waits for. Call it once, before any
// traffic.
func (r *receiver) expect(n int64) { r.want.Store(n) }

// await returns once the expected requests have been received, or fails on
// the first rejected request, on timeout or when ctx ends.
func (r *receiver) await(ctx context.Context, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.reached:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("timed out after %s: %d of %d received", timeout, r.received.Load(), r.want.Load())
		case <-tick.C:
			if err := r.err(); err != nil {
				return err
			}
		}
	}
}

// err describes the rejected requests, if any.
func (r *receiver) err() error {
	if n := r.rejected.Load(); n > 0 {
		return fmt.Errorf("receiver rejected %d requests, the first: %s", n, *r.firstErr.Load())
	}
	return nil
}

// takeLatencies returns the latencies recorded since the last call.
func (r *receiver) takeLatencies() []time.Duration {
	r.latMu.Lock()
	defer r.latMu.Unlock()
	out := r.latencies
	r.latencies = nil
	return out
}

// origin is the zero of the monotonic clock pushes and receipts are stamped
// with; both sides live in this process.
var origin = time.Now()

func since() time.Duration { return time.Since(origin) }

const sentPrefix = `{"sent_ns":`

// payload returns a JSON object of size bytes (at least) carrying sent, the
// push time, first, so the receiver finds it without parsing.
func payload(size int, sent time.Duration) []byte {
	head := sentPrefix + strconv.FormatInt(int64(sent), 10) + `,"order_id":"ord_bench","total":49.99,"pad":"`
	pad := max(size-len(head)-2, 0)
	return []byte(head + strings.Repeat("x", pad) + `"}`)
}

func sentAt(body []byte) (time.Duration, bool) {
	rest, ok := bytes.CutPrefix(body, []byte(sentPrefix))
	if !ok {
		return 0, false
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	return time.Duration(ns), err == nil
}
