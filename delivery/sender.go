package delivery

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sparrowhq/sparrow/webhook"
)

// Sparrow's own delivery headers, besides Standard Webhooks'.
const (
	HeaderEvent            = "Sparrow-Event"
	HeaderEventID          = "Sparrow-Event-Id"
	HeaderNamespace        = "Sparrow-Namespace"
	HeaderAttempt          = "Sparrow-Attempt"
	HeaderSparrowWebhookID = "Sparrow-Webhook-Id"
)

// dialTimeout bounds connecting to a receiver, whatever its webhook's
// timeout.
const dialTimeout = 10 * time.Second

// Bounds on what an attempt records of a response.
const (
	maxRecordedHeaders     = 50
	maxRecordedHeaderValue = 1024
	maxRecordedErrorLen    = 1024
)

// NewClient returns the HTTP client Sparrow delivers with: every dial passes
// guard, environment proxies are ignored (a proxy would dial for us, past
// the guard), and redirects are returned rather than followed. Names resolve
// through resolver, or the system's when it is nil.
func NewClient(guard *Guard, resolver *net.Resolver) *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: guard.Control, Resolver: resolver}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   256, // several webhooks of one host, each with many attempts at once
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Sender makes delivery attempts.
type Sender struct {
	client            *http.Client
	responseBodyLimit int
	userAgent         string
}

// NewSender returns a Sender using client that keeps at most
// responseBodyLimit bytes of each response body.
func NewSender(client *http.Client, responseBodyLimit int, userAgent string) *Sender {
	return &Sender{client: client, responseBodyLimit: responseBodyLimit, userAgent: userAgent}
}

// Request is one attempt to make.
type Request struct {
	URL string
	// Body is sent as is, and signed.
	Body []byte
	// Timeout bounds the whole attempt, response body included.
	Timeout time.Duration
	// Timestamp is the attempt's webhook-timestamp.
	Timestamp  time.Time
	DeliveryID string
	EventID    string
	EventName  string
	Namespace  string
	WebhookID  string
	Attempt    int
	// Signer signs the body, with one signature per key; nil signs nothing.
	Signer *Signer
	// Headers are the webhook's custom headers.
	Headers map[string]string
}

// Result is what an attempt came to.
type Result struct {
	Outcome
	// Err is the failure's description; empty on success.
	Err       string
	StartedAt time.Time
	Duration  time.Duration
	// RequestHeaders are the headers sent, custom values masked.
	RequestHeaders        map[string]string
	ResponseHeaders       map[string]string
	ResponseBody          []byte
	ResponseBodyTruncated bool
}

// Send makes one attempt. It never returns an error: every failure is
// described in the Result.
func (s *Sender) Send(ctx context.Context, req *Request) *Result {
	res := &Result{StartedAt: req.Timestamp}
	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		res.fail(0, err, "", req.Timeout)
		return res
	}
	host := httpReq.URL.Host
	s.setHeaders(httpReq.Header, req)
	res.RequestHeaders = recordedRequestHeaders(httpReq.Header, req.Headers)
	// Marks the POST as safe to send again (webhook-id names it), without
	// sending the header: the transport then resends it on a new connection
	// when a reused one turns out closed by the receiver (an idle timeout
	// shorter than ours: Node's is 5 s) before any answer, rather than fail
	// the attempt with a reset. A webhook's own Idempotency-Key header
	// marks it already, and is sent.
	if _, set := httpReq.Header["Idempotency-Key"]; !set {
		httpReq.Header["Idempotency-Key"] = []string{}
	}

	start := time.Now()
	resp, err := s.client.Do(httpReq)
	if err != nil {
		res.Duration = time.Since(start)
		res.fail(0, err, host, req.Timeout)
		return res
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.ResponseHeaders = recordedResponseHeaders(resp.Header)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), req.Timestamp)
	}
	// Read one byte past the limit to learn whether there was more, and no
	// further: the rest of a huge or endless body is never read.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(s.responseBodyLimit)+1))
	res.Duration = time.Since(start)
	if len(body) > s.responseBodyLimit {
		body, res.ResponseBodyTruncated = body[:s.responseBodyLimit], true
	}
	res.ResponseBody = body
	if readErr != nil {
		res.fail(resp.StatusCode, readErr, host, req.Timeout)
		return res
	}
	res.Class = Classify(resp.StatusCode, nil)
	if res.Class != ClassNone {
		res.Err = describeStatus(resp.StatusCode, resp.Header.Get("Location"))
	}
	return res
}

// fail records err, what went wrong with an attempt to host after an
// answer of statusCode (0: none), in people's words (see describe).
func (r *Result) fail(statusCode int, err error, host string, timeout time.Duration) {
	r.StatusCode = statusCode
	r.Class = Classify(0, err)
	r.Err = truncate(describe(err, statusCode, host, timeout), maxRecordedErrorLen)
}

func (s *Sender) setHeaders(h http.Header, req *Request) {
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", s.userAgent)
	h.Set(HeaderWebhookID, req.DeliveryID)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(req.Timestamp.Unix(), 10))
	if req.Signer != nil {
		if sig := req.Signer.Sign(req.DeliveryID, req.Timestamp, req.Body); sig != "" {
			h.Set(HeaderWebhookSignature, sig)
		}
	}
	h.Set(HeaderEvent, req.EventName)
	h.Set(HeaderEventID, req.EventID)
	h.Set(HeaderNamespace, req.Namespace)
	h.Set(HeaderSparrowWebhookID, req.WebhookID)
	h.Set(HeaderAttempt, strconv.Itoa(req.Attempt))
	for name, value := range req.Headers {
		// Validation refuses reserved names; this keeps Sparrow's headers
		// authoritative even for rows written some other way.
		if h.Get(name) == "" {
			h.Set(name, value)
		}
	}
}

func recordedRequestHeaders(h http.Header, custom map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		out[name] = strings.Join(values, ", ")
	}
	for name := range custom {
		if canonical := http.CanonicalHeaderKey(name); out[canonical] != "" {
			out[canonical] = webhook.MaskedHeaderValue
		}
	}
	return out
}

func recordedResponseHeaders(h http.Header) map[string]string {
	out := make(map[string]string, min(len(h), maxRecordedHeaders))
	for name, values := range h {
		if len(out) == maxRecordedHeaders {
			break
		}
		out[name] = truncate(strings.Join(values, ", "), maxRecordedHeaderValue)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
