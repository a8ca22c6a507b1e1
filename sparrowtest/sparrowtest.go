// Package sparrowtest helps a host test its use of Sparrow with real parts:
// a receiver that checks each delivery's Standard Webhooks signature and
// records what it got, waits for deliveries with a timeout, and Drain,
// which delivers what is due without the test running a River client.
//
// A typical test:
//
//	rcv := sparrowtest.NewReceiver(t)
//	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
//	rcv.SetSecrets(wh.Secret)
//	ev, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: payload})
//	sparrowtest.Drain(ctx, t, eng)
//	sparrowtest.WaitForDelivery(ctx, t, eng, "default", ev.ID, wh.ID)
//	req := rcv.Requests()[0] // verified, with its body and headers
//
// The engine must allow the receiver's loopback address
// (sparrow.WithAllowPrivateNetworks).
package sparrowtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/webhook"
)

// WaitTimeoutDefault bounds the waits of this package when their context
// has no deadline.
const WaitTimeoutDefault = 10 * time.Second

// Request is one request a Receiver got.
type Request struct {
	Header http.Header
	Body   []byte
	At     time.Time
	// DeliveryID (the webhook-id header), EventID, EventName, Namespace,
	// WebhookID and Attempt are read from the request's headers.
	DeliveryID, EventID, EventName, Namespace, WebhookID string
	Attempt                                              int
	// SignatureErr says why the signature did not verify with the secrets
	// given to SetSecrets; nil when it verified. Without secrets it is nil
	// and nothing is checked.
	SignatureErr error
}

// Receiver is a webhook endpoint on loopback (an httptest.Server): it
// verifies each request's signature, records it, and answers as Respond
// says (200 by default; 401 to a request whose signature fails).
type Receiver struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	verifier []verifier
	respond  func(n int, w http.ResponseWriter, r *http.Request)
	arrived  chan struct{}
}

// NewReceiver starts a Receiver, closed when the test ends.
func NewReceiver(tb testing.TB) *Receiver {
	tb.Helper()
	r := &Receiver{arrived: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.Close)
	return r
}

// SetSecrets sets the webhook secrets signatures are verified with
// (Standard Webhooks' whsec_ form, or any other string as its bytes; for
// an ed25519 webhook its whsk_ signing key or whpk_ public key): one valid
// signature for one of them verifies a request, as during a rotation.
func (r *Receiver) SetSecrets(secrets ...string) error {
	var verifiers []verifier
	for _, s := range secrets {
		v, err := newVerifier(s)
		if err != nil {
			return fmt.Errorf("sparrowtest: secret: %w", err)
		}
		verifiers = append(verifiers, v)
	}
	r.mu.Lock()
	r.verifier = verifiers
	r.mu.Unlock()
	return nil
}

// verifier checks a request's signature, as standardwebhooks.Webhook does.
type verifier interface {
	Verify(body []byte, header http.Header) error
}

func newVerifier(secret string) (verifier, error) {
	switch {
	case strings.HasPrefix(secret, webhook.PublicKeyPrefix):
		key, err := webhook.ParsePublicKey(secret)
		return ed25519Verifier(key), err
	case webhook.IsSigningKey(secret):
		key, err := webhook.Ed25519Key(secret)
		if err != nil {
			return nil, err
		}
		return ed25519Verifier(key.Public().(ed25519.PublicKey)), nil
	}
	key, err := webhook.SigningKey(secret)
	if err != nil {
		return nil, err
	}
	return standardwebhooks.NewWebhookRaw(key)
}

// ed25519Verifier verifies Standard Webhooks' asymmetric ("v1a")
// signatures with a public key.
type ed25519Verifier ed25519.PublicKey

// timestampTolerance is how far a request's timestamp may be from now, as
// Standard Webhooks' verifiers have it.
const timestampTolerance = 5 * time.Minute

var errNoValidSignature = errors.New("no matching v1a signature")

func (v ed25519Verifier) Verify(body []byte, header http.Header) error {
	id, stamp := header.Get(delivery.HeaderWebhookID), header.Get(delivery.HeaderWebhookTimestamp)
	unix, err := strconv.ParseInt(stamp, 10, 64)
	if id == "" || err != nil {
		return errors.New("missing webhook-id or webhook-timestamp")
	}
	if d := time.Since(time.Unix(unix, 0)); d > timestampTolerance || d < -timestampTolerance {
		return errors.New("timestamp out of tolerance")
	}
	signed := append([]byte(id+"."+stamp+"."), body...)
	for _, sig := range strings.Fields(header.Get(delivery.HeaderWebhookSignature)) {
		encoded, ok := strings.CutPrefix(sig, "v1a,")
		if !ok {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(encoded); err == nil && ed25519.Verify(ed25519.PublicKey(v), signed, raw) {
			return nil
		}
	}
	return errNoValidSignature
}

// Respond makes the receiver answer with fn, given the request's number
// (from 1) among those received and the request, its body readable; a
// request whose signature fails is answered 401 all the same.
func (r *Receiver) Respond(fn func(n int, w http.ResponseWriter, req *http.Request)) {
	r.mu.Lock()
	r.respond = fn
	r.mu.Unlock()
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	attempt, _ := strconv.Atoi(req.Header.Get(delivery.HeaderAttempt))
	got := Request{
		Header: req.Header.Clone(), Body: body, At: time.Now(),
		DeliveryID: req.Header.Get(delivery.HeaderWebhookID), EventID: req.Header.Get(delivery.HeaderEventID),
		EventName: req.Header.Get(delivery.HeaderEvent), Namespace: req.Header.Get(delivery.HeaderNamespace),
		WebhookID: req.Header.Get(delivery.HeaderSparrowWebhookID), Attempt: attempt,
	}
	r.mu.Lock()
	got.SignatureErr = verify(r.verifier, body, req.Header)
	r.requests = append(r.requests, got)
	n, respond := len(r.requests), r.respond
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	switch {
	case got.SignatureErr != nil:
		http.Error(w, got.SignatureErr.Error(), http.StatusUnauthorized)
	case respond != nil:
		req.Body = io.NopCloser(bytes.NewReader(body)) // for respond to read again
		respond(n, w, req)
	}
}

// verify returns nil when a signature verifies with one of verifiers (or
// there are none), else the first failure.
func verify(verifiers []verifier, body []byte, header http.Header) error {
	var first error
	for _, v := range verifiers {
		err := v.Verify(body, header)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// Requests returns the requests received so far, in order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// WaitForRequests waits until the receiver has got n requests and returns
// them, failing the test when ctx ends (or WaitTimeoutDefault passes)
// first, or when a signature did not verify.
func (r *Receiver) WaitForRequests(ctx context.Context, tb testing.TB, n int) []Request {
	tb.Helper()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for {
		got := r.Requests()
		for _, req := range got {
			if req.SignatureErr != nil {
				tb.Fatalf("sparrowtest: delivery %s: signature did not verify: %v", req.DeliveryID, req.SignatureErr)
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-ctx.Done():
			tb.Fatalf("sparrowtest: the receiver got %d requests, want %d: %v", len(got), n, ctx.Err())
		}
	}
}

// WaitForDelivery waits until the delivery of event eventID to webhook
// webhookID has succeeded and returns it. It fails the test when the
// delivery ends otherwise (failed, expired, cancelled), naming its last
// error, or when ctx ends (or WaitTimeoutDefault passes) first.
func WaitForDelivery(ctx context.Context, tb testing.TB, eng *sparrow.Engine, namespace, eventID, webhookID string) *delivery.Delivery {
	tb.Helper()
	return waitForSucceeded(ctx, tb, eng, sparrow.ListDeliveriesParams{Namespace: namespace, EventID: eventID, WebhookID: webhookID}, 1)[0]
}

// WaitForDeliveries waits until n deliveries to webhook webhookID have
// succeeded and returns them, newest first. It fails the test when one of
// them ends otherwise, or when ctx ends (or WaitTimeoutDefault passes)
// first.
func WaitForDeliveries(ctx context.Context, tb testing.TB, eng *sparrow.Engine, namespace, webhookID string, n int) []*delivery.Delivery {
	tb.Helper()
	return waitForSucceeded(ctx, tb, eng, sparrow.ListDeliveriesParams{Namespace: namespace, WebhookID: webhookID}, n)
}

// waitPoll is how often waits look at the deliveries again.
const waitPoll = 20 * time.Millisecond

func waitForSucceeded(ctx context.Context, tb testing.TB, eng *sparrow.Engine, p sparrow.ListDeliveriesParams, n int) []*delivery.Delivery {
	tb.Helper()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for {
		succeeded, err := listSucceeded(ctx, eng, p)
		if err != nil {
			tb.Fatalf("sparrowtest: %v", err)
		}
		if len(succeeded) >= n {
			return succeeded
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("sparrowtest: %d deliveries succeeded, want %d (%s): %v", len(succeeded), n, describe(p), ctx.Err())
		case <-time.After(waitPoll):
		}
	}
}

// listSucceeded returns the succeeded deliveries p selects, or an error
// naming one that ended otherwise.
func listSucceeded(ctx context.Context, eng *sparrow.Engine, p sparrow.ListDeliveriesParams) ([]*delivery.Delivery, error) {
	var succeeded []*delivery.Delivery
	p.Limit = 100
	for {
		page, err := eng.ListDeliveries(ctx, p)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			d := &page.Items[i]
			switch {
			case d.Status == delivery.StatusSucceeded:
				succeeded = append(succeeded, d)
			case d.Status.Final():
				return nil, fmt.Errorf("delivery %s ended %s after %d attempts: %s %s", d.ID, d.Status, d.AttemptCount, d.LastErrorClass, d.LastError)
			}
		}
		if page.NextCursor == "" {
			return succeeded, nil
		}
		p.Cursor = page.NextCursor
	}
}

func describe(p sparrow.ListDeliveriesParams) string {
	if p.EventID != "" {
		return fmt.Sprintf("event %s to webhook %s", p.EventID, p.WebhookID)
	}
	return "to webhook " + p.WebhookID
}

// Drain works Sparrow's queue until nothing is left to do now: pushed
// events fanned out, and every delivery due attempted (retries scheduled
// for later stay scheduled). An engine not started runs its own River
// client for the while (Engine.Start, then Engine.Stop); a started one, or
// one whose host runs a client with Install's configuration, is waited
// for. It fails the test when ctx ends (or WaitTimeoutDefault passes)
// first.
func Drain(ctx context.Context, tb testing.TB, eng *sparrow.Engine) {
	tb.Helper()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if eng.RiverClient() == nil {
		if err := eng.Start(ctx); err != nil {
			tb.Fatalf("sparrowtest: %v", err)
		}
		defer func() {
			if err := eng.Stop(context.WithoutCancel(ctx)); err != nil {
				tb.Errorf("sparrowtest: %v", err)
			}
		}()
	}
	for {
		b, err := eng.Backlog(ctx)
		switch {
		case err != nil:
			tb.Fatalf("sparrowtest: %v", err)
		case b.Idle():
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("sparrowtest: still to do: %d events to fan out, %d jobs due, %d running: %v",
				b.QueuedEvents, b.DueJobs, b.RunningJobs, ctx.Err())
		case <-time.After(waitPoll):
		}
	}
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, WaitTimeoutDefault)
}
