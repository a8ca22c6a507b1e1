package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
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
