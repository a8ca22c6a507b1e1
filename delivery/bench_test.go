package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/benchcmp"
)

// BenchmarkSign signs a 1 KiB body with one key as a delivery job does (a
// Signer shared by its attempts), beside the bare HMAC-SHA256 of the same
// bytes with a new HMAC: what signing costs beyond the cryptography.
func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	keys := [][]byte{[]byte("whsec-key-0123456789abcdef0123456789")}
	ts := time.Unix(1700000000, 0)
	signer := delivery.NewSigner(keys)
	b.ReportAllocs()
	for b.Loop() {
		signer.Sign("dlv_01JEXAMPLE", ts, body)
	}
	benchcmp.Report(b, func() {
		mac := hmac.New(sha256.New, keys[0])
		mac.Write(body)
		mac.Sum(nil)
	})
}

// BenchmarkClassify classifies the errors deliveries meet, beside a single
// errors.Is over the same errors.
func BenchmarkClassify(b *testing.B) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.example.com", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	errs := []error{
		wrap(os.NewSyscallError("connect", syscall.ECONNREFUSED)),
		wrap(os.NewSyscallError("read", syscall.ECONNRESET)),
		wrap(context.DeadlineExceeded),
		wrap(&net.DNSError{Err: "no such host", Name: "hooks.example.com", IsNotFound: true}),
		fmt.Errorf("read body: %w", errors.New("unexpected EOF")),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		delivery.Classify(0, errs[i%len(errs)])
	}
	i := 0
	benchcmp.Report(b, func() {
		_ = errors.Is(errs[i%len(errs)], syscall.ECONNREFUSED)
		i++
	})
}
