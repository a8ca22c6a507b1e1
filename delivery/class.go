package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrorClass names the kind of failure of an attempt; empty for success.
type ErrorClass string

const (
	// ClassNone: no failure; the attempt was answered with a 2xx.
	ClassNone ErrorClass = ""
	// ClassTimeout: no complete answer within the webhook's timeout.
	ClassTimeout ErrorClass = "timeout"
	// ClassDNS: the host name did not resolve.
	ClassDNS ErrorClass = "dns"
	// ClassTLS: the TLS handshake or certificate check failed.
	ClassTLS ErrorClass = "tls"
	// ClassConnectionRefused: nothing listens at the address.
	ClassConnectionRefused ErrorClass = "connection_refused"
	// ClassConnectionReset: the receiver reset the connection.
	ClassConnectionReset ErrorClass = "connection_reset"
	// ClassConnectionClosed: the connection ended before a whole answer.
	ClassConnectionClosed ErrorClass = "connection_closed"
	// ClassNetwork: any other network failure.
	ClassNetwork ErrorClass = "network"
	// ClassBlockedDestination: the address is not public and the engine was
	// not configured to allow it.
	ClassBlockedDestination ErrorClass = "blocked_destination"
	// ClassHTTP3xx: a redirect, which Sparrow does not follow.
	ClassHTTP3xx ErrorClass = "http_3xx"
	// ClassHTTP4xx: a client error status.
	ClassHTTP4xx ErrorClass = "http_4xx"
	// ClassHTTP5xx: a server error status.
	ClassHTTP5xx ErrorClass = "http_5xx"
	// ClassTransform: the subscription's template failed; nothing was sent.
	ClassTransform ErrorClass = "transform"
)

// errorClasses are the classes of failed attempts, in the order people read
// them.
var errorClasses = []ErrorClass{
	ClassTimeout, ClassDNS, ClassTLS, ClassConnectionRefused, ClassConnectionReset, ClassConnectionClosed, ClassNetwork,
	ClassBlockedDestination, ClassHTTP3xx, ClassHTTP4xx, ClassHTTP5xx, ClassTransform,
}

// ErrorClasses returns the classes of failed attempts (every class but
// ClassNone).
func ErrorClasses() []ErrorClass { return slices.Clone(errorClasses) }

// ValidErrorClass reports whether c is the class of a failed attempt.
func ValidErrorClass(c ErrorClass) bool { return slices.Contains(errorClasses, c) }

// Classify returns the class of an attempt's result: the HTTP status when
// there was an answer, else the kind of error.
func Classify(statusCode int, err error) ErrorClass {
	if err != nil {
		return classifyError(err)
	}
	switch {
	case statusCode >= 200 && statusCode < 300:
		return ClassNone
	case statusCode >= 300 && statusCode < 400:
		return ClassHTTP3xx
	case statusCode >= 400 && statusCode < 500:
		return ClassHTTP4xx
	default:
		return ClassHTTP5xx
	}
}

func classifyError(err error) ErrorClass {
	var (
		blocked     *BlockedError
		dnsErr      *net.DNSError
		netErr      net.Error
		recordErr   tls.RecordHeaderError
		verifyErr   *tls.CertificateVerificationError
		alertErr    tls.AlertError
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidCert x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &blocked):
		return ClassBlockedDestination
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout
	case errors.As(err, &recordErr), errors.As(err, &verifyErr), errors.As(err, &alertErr),
		errors.As(err, &unknownCA), errors.As(err, &hostnameErr), errors.As(err, &invalidCert):
		return ClassTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassConnectionRefused
	// A reset during a handshake is a reset (retried), not a TLS failure.
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ClassConnectionReset
	// crypto/tls reports many handshake failures as plain errors.
	case strings.Contains(err.Error(), "tls: "):
		return ClassTLS
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ClassConnectionClosed
	}
	return ClassNetwork
}

// describe says in people's words what went wrong with an attempt to host
// (the URL's host, port included when given) bounded by timeout: what
// failed err, after an answer of statusCode (0: none). It leaves out Go's
// error chain (the method and URL, "dial tcp", package prefixes), which
// the attempt record shows or people need not read; the error's class
// says the same in one word.
func describe(err error, statusCode int, host string, timeout time.Duration) string {
	var (
		blocked  *BlockedError
		dnsErr   *net.DNSError
		opErr    *net.OpError
		urlErr   *url.Error
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		netErr   net.Error
		answered = statusText(statusCode)
	)
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	peer := host
	if errors.As(err, &opErr) && opErr.Addr != nil {
		peer = opErr.Addr.String()
	}
	switch class := classifyError(err); {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "DNS lookup of " + dnsErr.Name + " timed out"
	case errors.As(err, &dnsErr):
		return "DNS lookup of " + dnsErr.Name + " failed: " + dnsErr.Err
	case class == ClassTimeout && statusCode != 0:
		return "answered " + answered + ", but the rest of the answer did not arrive within " + seconds(timeout)
	case class == ClassTimeout && strings.Contains(err.Error(), "TLS handshake timeout"):
		return "TLS handshake with " + host + " timed out"
	case class == ClassTimeout && opErr != nil && opErr.Op == "dial":
		return "no connection to " + peer + " within " + seconds(min(timeout, dialTimeout))
	case class == ClassTimeout:
		return "no answer within " + seconds(timeout)
	case errors.As(err, &verify):
		return "TLS handshake failed: " + withoutPrefixes(verify.Err.Error())
	case errors.As(err, &record):
		return "TLS handshake failed: " + host + " does not speak TLS"
	case class == ClassTLS:
		return "TLS handshake failed: " + tlsReason(err)
	case class == ClassConnectionRefused:
		return "connection refused by " + peer
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by " + peer + " while the request was being sent"
	case class == ClassConnectionReset && statusCode != 0:
		return "answered " + answered + ", then the connection was reset before the end of the answer"
	case class == ClassConnectionReset:
		return "connection reset by " + peer
	case class == ClassConnectionClosed && statusCode != 0:
		return "answered " + answered + ", then closed the connection before the end of the answer"
	case class == ClassConnectionClosed:
		return "connection closed by " + peer + " before an answer"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return host + " answered in plain HTTP, not HTTPS"
	case opErr != nil && opErr.Op == "dial":
		return "could not connect to " + peer + ": " + innermost(err)
	case opErr != nil:
		return "connection to " + peer + " failed: " + innermost(err)
	case errors.As(err, &netErr):
		return innermost(err)
	}
	return withoutPrefixes(err.Error())
}

// describeStatus says what a failed answer was: "answered 503 Service
// Unavailable", and where a redirect pointed.
func describeStatus(statusCode int, location string) string {
	s := "answered " + statusText(statusCode)
	if location != "" && statusCode >= 300 && statusCode < 400 {
		s += ", a redirect to " + truncate(location, maxRecordedHeaderValue) + " (not followed)"
	}
	return s
}

// statusText is "503 Service Unavailable", or the bare number for a
// status without a name.
func statusText(statusCode int) string {
	if text := http.StatusText(statusCode); text != "" {
		return strconv.Itoa(statusCode) + " " + text
	}
	return strconv.Itoa(statusCode)
}

// seconds writes d as people do: "30s", "1.5s", "500ms".
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// tlsReason is why a TLS handshake failed, without Go's prefixes; an alert
// from the receiver says so.
func tlsReason(err error) string {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return "the receiver refused it (" + withoutPrefixes(alert.Error()) + ")"
	}
	if s := err.Error(); strings.Contains(s, "remote error: ") {
		return "the receiver refused it (" + withoutPrefixes(s[strings.LastIndex(s, "remote error: ")+len("remote error: "):]) + ")"
	}
	return withoutPrefixes(err.Error())
}

// innermost is the message of the last error of err's chain, such as a
// system call's "no route to host".
func innermost(err error) string {
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return withoutPrefixes(err.Error())
}

// goPrefixes begin the messages of Go's packages.
var goPrefixes = []string{"net/http: ", "http: ", "tls: ", "x509: ", "remote error: "}

// withoutPrefixes drops the package prefixes Go puts before its messages
// ("tls: ", "x509: "), at the start and after each colon.
func withoutPrefixes(s string) string {
	for _, p := range goPrefixes {
		s = strings.ReplaceAll(strings.TrimPrefix(s, p), ": "+p, ": ")
	}
	return s
}
