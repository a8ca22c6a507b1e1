package delivery_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/webhook"
)

func mustKey(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := webhook.SigningKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestGuard(t *testing.T) {
	t.Parallel()

	blocked := []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "fe80::1", "fc00::1", "fd12:3456::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "198.18.0.1", "192.0.2.10",
		"255.255.255.255", "64:ff9b::a00:1", "2002:a00:1::", "2001:db8::1",
		// IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d)
		// and NAT64 forms of non-public IPv4 addresses.
		"::7f00:1", "::127.0.0.1", "::a00:1", "::a9fe:a9fe", "::ffff:0:7f00:1", "::ffff:0:10.0.0.1",
		"::ffff:0:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::192.168.1.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",
		// Deprecated site-local, discard, RFC 9637 documentation.
		"fec0::1", "feff::1", "100::1", "3fff::1",
	}
	public := []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001:82b::200e"}

	guard := &delivery.Guard{}
	for _, s := range blocked {
		if guard.Permits(netip.MustParseAddr(s)) {
			t.Errorf("%s permitted by default", s)
		}
	}
	for _, s := range public {
		if !guard.Permits(netip.MustParseAddr(s)) {
			t.Errorf("public %s refused", s)
		}
	}

	allowed := &delivery.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	if !allowed.Permits(netip.MustParseAddr("10.1.2.3")) || allowed.Permits(netip.MustParseAddr("10.2.0.1")) {
		t.Error("Allowed CIDRs not applied exactly")
	}
	if !(&delivery.Guard{AllowPrivate: true}).Permits(netip.MustParseAddr("127.0.0.1")) {
		t.Error("AllowPrivate refused loopback")
	}

	var blockedErr *delivery.BlockedError
	if err := guard.Control("tcp4", "127.0.0.1:80", nil); !errors.As(err, &blockedErr) {
		t.Errorf("Control(127.0.0.1:80) = %v, want a BlockedError", err)
	}
	if err := guard.Control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("Control(8.8.8.8:443) = %v", err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()

	for attempt, base := range delivery.DefaultSchedule {
		for range 50 {
			got := delivery.DefaultBackoff(attempt+1, &delivery.Outcome{Class: delivery.ClassHTTP5xx})
			if got < base*8/10 || got > base*12/10 {
				t.Fatalf("after attempt %d: %s, want %s ± 20%%", attempt+1, got, base)
			}
		}
	}
	last := delivery.DefaultSchedule[len(delivery.DefaultSchedule)-1]
	if got := delivery.DefaultBackoff(40, &delivery.Outcome{}); got < last*8/10 || got > last*12/10 {
		t.Fatalf("past the schedule: %s, want about %s", got, last)
	}
	if got := delivery.DefaultBackoff(1, &delivery.Outcome{RetryAfter: 42 * time.Second}); got != 42*time.Second {
		t.Fatalf("Retry-After 42s gave %s", got)
	}
	if got := delivery.DefaultBackoff(1, &delivery.Outcome{RetryAfter: 1000 * time.Hour}); got != delivery.RetryAfterMax {
		t.Fatalf("huge Retry-After gave %s, want the %s bound", got, delivery.RetryAfterMax)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"-5":                            0,
		"soon":                          0,
		"Wed, 25 Nov 2026 12:01:00 GMT": time.Minute,
		"Wed, 25 Nov 2026 11:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := delivery.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDefaultCheckRetry(t *testing.T) {
	t.Parallel()

	retried := map[delivery.ErrorClass]bool{
		delivery.ClassHTTP5xx: true, delivery.ClassTimeout: true, delivery.ClassConnectionRefused: true,
		delivery.ClassConnectionReset: true, delivery.ClassConnectionClosed: true, delivery.ClassNetwork: true,
		delivery.ClassDNS: false, delivery.ClassTLS: false, delivery.ClassBlockedDestination: false,
		delivery.ClassHTTP3xx: false, delivery.ClassTransform: false,
	}
	for class, want := range retried {
		if got := delivery.DefaultCheckRetry(&delivery.Outcome{Class: class}); got != want {
			t.Errorf("%s retried = %v, want %v", class, got, want)
		}
	}
	for code, want := range map[int]bool{400: false, 401: false, 404: false, 408: true, 410: false, 422: false, 429: true} {
		if got := delivery.DefaultCheckRetry(&delivery.Outcome{Class: delivery.ClassHTTP4xx, StatusCode: code}); got != want {
			t.Errorf("HTTP %d retried = %v, want %v", code, got, want)
		}
	}
}
