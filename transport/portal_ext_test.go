package transport_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/transport"
)

// signPortalToken makes a token of the documented format from claims, as
// a host in another language would.
func signPortalToken(secret []byte, claims map[string]any) string {
	raw, _ := json.Marshal(claims)
	signed := transport.PortalTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func newPortalToken(t *testing.T, secret []byte, g transport.PortalGrant) string {
	t.Helper()
	token, _, err := transport.NewPortalToken(secret, g)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// wantRefused fails unless err has code and its message contains text.
func wantRefused(t *testing.T, err error, code connect.Code, text string) {
	t.Helper()
	if connect.CodeOf(err) != code || !strings.Contains(err.Error(), text) {
		t.Fatalf("err = %v, want %s mentioning %q", err, code, text)
	}
}

func TestPortalTokens(t *testing.T) {
	t.Parallel()

	const (
		adminKey  = "admin-key-0123456789"
		scopedKey = "scoped-key-0123456789"
	)
	s := newTestServer(t, transport.WithAPIKeys(
		transport.APIKey{Key: adminKey},
		transport.APIKey{Key: scopedKey, Namespaces: []string{"a"}},
	))
	populate(t, s)
	ctx := context.Background()

	issued, err := s.namespaces(withKey(adminKey)).CreatePortalToken(ctx, &pb.CreatePortalTokenRequest{Namespace: "a"})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := issued.GetToken()
	if left := time.Until(issued.GetExpiresAt().AsTime()); left < 59*time.Minute || left > time.Hour {
		t.Fatalf("a token without ttl_seconds expires in %v, want an hour", left)
	}
	manager := newPortalToken(t, testPortalSecret, transport.PortalGrant{
		Namespace: "a", Capabilities: []transport.Capability{transport.CapabilityRead, transport.CapabilityManageWebhooks},
	})
	register := &pb.RegisterWebhookRequest{Namespace: "a", Url: "https://example.com/portal"}

	t.Run("ReadsItsNamespace", func(t *testing.T) {
		for _, opt := range []connect.ClientOption{withBearer(readOnly), withKey(readOnly)} {
			res, err := s.clients(opt).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetWebhooks()) != 2 {
				t.Fatalf("%d webhooks, want 2", len(res.GetWebhooks()))
			}
		}
	})
	t.Run("NotAnotherNamespace", func(t *testing.T) {
		c := s.clients(withBearer(manager))
		_, err := c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "b"})
		wantRefused(t, err, connect.CodePermissionDenied, `this portal token may not use namespace "b"`)
		_, err = c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{}) // the default namespace
		wantCode(t, err, connect.CodePermissionDenied)
		_, err = c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Namespace: "b", Url: "https://example.com/portal"})
		wantCode(t, err, connect.CodePermissionDenied)
	})
	t.Run("ListNamespaces", func(t *testing.T) {
		res, err := s.namespaces(withBearer(readOnly)).ListNamespaces(ctx, &pb.ListNamespacesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		access := res.GetAccess()
		if !slices.Equal(namespaceNames(res), []string{"a"}) || access.GetAllNamespaces() || !access.GetPortal() ||
			!slices.Equal(access.GetNamespaces(), []string{"a"}) || !slices.Equal(access.GetCapabilities(), []string{"read"}) ||
			!access.GetExpiresAt().AsTime().Equal(issued.GetExpiresAt().AsTime()) {
			t.Fatalf("%v", res)
		}
		res, err = s.namespaces(withBearer(manager)).ListNamespaces(ctx, &pb.ListNamespacesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if caps := res.GetAccess().GetCapabilities(); !slices.Equal(caps, []string{"read", "manage_webhooks"}) {
			t.Fatalf("capabilities %v", caps)
		}
	})
	t.Run("ReadOnlyCannotWrite", func(t *testing.T) {
		_, err := s.clients(withBearer(readOnly)).webhooks.RegisterWebhook(ctx, register)
		wantRefused(t, err, connect.CodePermissionDenied, `lacks the "manage_webhooks" capability`)
	})
	t.Run("ManageWebhooks", func(t *testing.T) {
		c := s.clients(withBearer(manager))
		if _, err := c.webhooks.RegisterWebhook(ctx, register); err != nil {
			t.Fatal(err)
		}
		_, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Namespace: "a", Event: "order.created", PayloadJson: `{}`})
		wantRefused(t, err, connect.CodePermissionDenied, `lacks the "push_events" capability`)
		_, err = c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "portal.made"})
		wantRefused(t, err, connect.CodePermissionDenied, `lacks the "manage_event_types" capability`)
		// Event types are shared, and readable.
		if _, err := c.events.ListEventTypes(ctx, &pb.ListEventTypesRequest{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CreatePortalTokenNeedsAnUnscopedKey", func(t *testing.T) {
		query := s.snapshotQuery(t)
		before := s.snapshot(t, query)
		req := &pb.CreatePortalTokenRequest{Namespace: "a"}
		_, err := s.namespaces(withKey(scopedKey)).CreatePortalToken(ctx, req)
		wantRefused(t, err, connect.CodePermissionDenied, "needs an API key not limited to namespaces")
		_, err = s.namespaces(withBearer(manager)).CreatePortalToken(ctx, req)
		wantRefused(t, err, connect.CodePermissionDenied, "a portal token may not issue portal tokens")
		if tables := changed(before, s.snapshot(t, query)); len(tables) > 0 {
			t.Fatalf("refused calls changed %v", tables)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		past := time.Now().Add(-time.Minute)
		expired := signPortalToken(testPortalSecret, map[string]any{
			"ns": "a", "caps": []string{"read"}, "exp": past.Unix(), "iat": past.Add(-time.Hour).Unix(),
		})
		_, err := s.clients(withBearer(expired)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
		wantRefused(t, err, connect.CodeUnauthenticated, "portal token expired")
		// The same claims, unexpired, pass: the format is the documented one.
		fresh := signPortalToken(testPortalSecret, map[string]any{
			"ns": "a", "caps": []string{"read"}, "exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix(),
		})
		if _, err := s.clients(withBearer(fresh)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		signed, sig, _ := strings.Cut(readOnly, ".")
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(signed, transport.PortalTokenPrefix))
		if err != nil {
			t.Fatal(err)
		}
		// The same signature over claims widened to manage_webhooks, or to
		// namespace b.
		for _, claims := range []string{
			strings.Replace(string(raw), `["read"]`, `["read","manage_webhooks"]`, 1),
			strings.Replace(string(raw), `"ns":"a"`, `"ns":"b"`, 1),
		} {
			if claims == string(raw) {
				t.Fatalf("the claims %s changed nothing", raw)
			}
			forged := transport.PortalTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + sig
			_, err := s.clients(withBearer(forged)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
			wantRefused(t, err, connect.CodeUnauthenticated, "invalid portal token")
		}
		for _, bad := range []string{readOnly + "x", readOnly[:len(readOnly)-2], signed, transport.PortalTokenPrefix} {
			_, err := s.clients(withBearer(bad)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
			wantRefused(t, err, connect.CodeUnauthenticated, "invalid portal token")
		}
	})
	t.Run("AnotherServersSecret", func(t *testing.T) {
		other := newTestServer(t, transport.WithAPIKeys(transport.APIKey{Key: adminKey}),
			transport.WithPortalSecret([]byte("another-portal-secret-0123456789abcdef")))
		_, err := other.clients(withBearer(readOnly)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
		wantRefused(t, err, connect.CodeUnauthenticated, "invalid portal token")
	})
	t.Run("REST", func(t *testing.T) {
		bearer := []string{"Authorization", "Bearer " + readOnly}
		if code, out := s.rest(t, "GET", "/webhook/webhooks?namespace=a", "", bearer...); code != http.StatusOK {
			t.Fatalf("own namespace: HTTP %d %v", code, out)
		}
		if code, out := s.rest(t, "GET", "/webhook/webhooks?namespace=b", "", bearer...); code != http.StatusForbidden {
			t.Fatalf("another namespace: HTTP %d %v", code, out)
		}
		if code, out := s.rest(t, "POST", "/webhook/webhooks", `{"namespace": "a", "url": "https://example.com/rest"}`, bearer...); code != http.StatusForbidden {
			t.Fatalf("a write: HTTP %d %v", code, out)
		}
		if code, out := s.rest(t, "POST", "/webhook/portal-tokens", `{"namespace": "a"}`, bearer...); code != http.StatusForbidden {
			t.Fatalf("CreatePortalToken: HTTP %d %v", code, out)
		}
		expired := signPortalToken(testPortalSecret, map[string]any{"ns": "a", "caps": []string{"read"}, "exp": time.Now().Add(-time.Second).Unix()})
		code, out := s.rest(t, "GET", "/webhook/webhooks?namespace=a", "", "X-Api-Key", expired)
		if code != http.StatusUnauthorized || out["message"] != "portal token expired" {
			t.Fatalf("expired: HTTP %d %v", code, out)
		}
	})
}

// TestPortalTokensOnAnOpenServer: without API keys, calls without a token
// may do everything, and a token still limits its bearer.
func TestPortalTokensOnAnOpenServer(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	populate(t, s)
	ctx := context.Background()
	issued, err := s.namespaces().CreatePortalToken(ctx, &pb.CreatePortalTokenRequest{Namespace: "a", TtlSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	c := s.clients(withBearer(issued.GetToken()))
	if _, err := c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "b"})
	wantCode(t, err, connect.CodePermissionDenied)
	if _, err := s.clients().webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "b"}); err != nil {
		t.Fatal(err)
	}
}

// TestPortalTokensWithoutSecret: a server without a portal secret issues
// none and accepts none.
func TestPortalTokensWithoutSecret(t *testing.T) {
	t.Parallel()

	const adminKey = "admin-key-0123456789"
	s := newBareTestServer(t, transport.WithAPIKeys(transport.APIKey{Key: adminKey}))
	ctx := context.Background()
	_, err := s.namespaces(withKey(adminKey)).CreatePortalToken(ctx, &pb.CreatePortalTokenRequest{Namespace: "a"})
	wantRefused(t, err, connect.CodeFailedPrecondition, "WithPortalSecret")
	token := newPortalToken(t, testPortalSecret, transport.PortalGrant{Namespace: "a"})
	_, err = s.clients(withBearer(token)).webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "a"})
	wantRefused(t, err, connect.CodeUnauthenticated, "no portal secret")
}

func TestCreatePortalTokenInvalid(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	ctx := context.Background()
	query := s.snapshotQuery(t)
	before := s.snapshot(t, query)
	for _, tt := range []struct {
		name  string
		req   *pb.CreatePortalTokenRequest
		field string
	}{
		{"TTLTooShort", &pb.CreatePortalTokenRequest{TtlSeconds: 59}, "ttl_seconds"},
		{"TTLTooLong", &pb.CreatePortalTokenRequest{TtlSeconds: 30*24*3600 + 1}, "ttl_seconds"},
		{"TTLNegative", &pb.CreatePortalTokenRequest{TtlSeconds: -1}, "ttl_seconds"},
		{"UnknownCapability", &pb.CreatePortalTokenRequest{Capabilities: []string{"read", "admin"}}, "capabilities[1]"},
		{"PushEvents", &pb.CreatePortalTokenRequest{Capabilities: []string{"push_events"}}, "capabilities[0]"},
		{"ManageEventTypes", &pb.CreatePortalTokenRequest{Capabilities: []string{"manage_event_types"}}, "capabilities[0]"},
		{"Namespace", &pb.CreatePortalTokenRequest{Namespace: "not a namespace"}, "namespace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.namespaces().CreatePortalToken(ctx, tt.req)
			wantRefused(t, err, connect.CodeInvalidArgument, tt.field)
		})
	}
	if tables := changed(before, s.snapshot(t, query)); len(tables) > 0 {
		t.Fatalf("refused calls changed %v", tables)
	}
	// The bounds themselves are accepted.
	for _, ttl := range []int64{60, 30 * 24 * 3600} {
		res, err := s.namespaces().CreatePortalToken(ctx, &pb.CreatePortalTokenRequest{TtlSeconds: ttl})
		if err != nil {
			t.Fatalf("ttl_seconds %d: %v", ttl, err)
		}
		if left := time.Until(res.GetExpiresAt().AsTime()); left > time.Duration(ttl)*time.Second || left < time.Duration(ttl-5)*time.Second {
			t.Fatalf("ttl_seconds %d: expires in %v", ttl, left)
		}
	}
}

func TestNewPortalToken(t *testing.T) {
	t.Parallel()

	secret := []byte("0123456789abcdef0123456789abcdef")
	t.Run("RoundTrip", func(t *testing.T) {
		token, expiresAt, err := transport.NewPortalToken(secret, transport.PortalGrant{
			Namespace: "acme", Capabilities: []transport.Capability{transport.CapabilityManageWebhooks}, TTL: 10 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := transport.ParsePortalToken(secret, token)
		if err != nil {
			t.Fatal(err)
		}
		// Every token reads: read comes first, asked for or not.
		want := []transport.Capability{transport.CapabilityRead, transport.CapabilityManageWebhooks}
		if got.Namespace != "acme" || !slices.Equal(got.Capabilities, want) || !got.ExpiresAt.Equal(expiresAt) ||
			got.ExpiresAt.Sub(got.IssuedAt) != 10*time.Minute {
			t.Fatalf("%+v, expiring at %v", got, expiresAt)
		}
		if _, err := transport.ParsePortalToken([]byte("another-secret-0123456789abcdef!"), token); !errors.Is(err, transport.ErrInvalidPortalToken) {
			t.Fatalf("another secret: %v", err)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		token, expiresAt, err := transport.NewPortalToken(secret, transport.PortalGrant{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := transport.ParsePortalToken(secret, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.Namespace != "default" || !slices.Equal(got.Capabilities, []transport.Capability{transport.CapabilityRead}) ||
			expiresAt.Sub(got.IssuedAt) != transport.PortalTTLDefault {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("SignedElsewhere", func(t *testing.T) {
		exp := time.Now().Add(time.Minute).Unix()
		got, err := transport.ParsePortalToken(secret, signPortalToken(secret, map[string]any{"ns": "acme", "caps": []string{"manage_webhooks"}, "exp": exp}))
		if err != nil {
			t.Fatal(err)
		}
		if want := []transport.Capability{transport.CapabilityRead, transport.CapabilityManageWebhooks}; !slices.Equal(got.Capabilities, want) {
			t.Fatalf("capabilities %v, want %v", got.Capabilities, want)
		}
		for _, claims := range []map[string]any{
			{"ns": "acme", "caps": []string{"read", "push_events"}, "exp": exp}, // not a portal capability
			{"ns": "acme", "caps": []string{"read"}},                            // no expiry
			{"ns": "not a namespace", "caps": []string{"read"}, "exp": exp},
			{"caps": []string{"read"}, "exp": exp},
		} {
			if _, err := transport.ParsePortalToken(secret, signPortalToken(secret, claims)); !errors.Is(err, transport.ErrInvalidPortalToken) {
				t.Errorf("%v: %v, want ErrInvalidPortalToken", claims, err)
			}
		}
	})
	for _, tt := range []struct {
		name   string
		secret []byte
		grant  transport.PortalGrant
		field  string
	}{
		{"NoSecret", nil, transport.PortalGrant{}, "secret"},
		{"ShortSecret", secret[:31], transport.PortalGrant{}, "secret"},
		{"TTLTooShort", secret, transport.PortalGrant{TTL: 59 * time.Second}, "ttl"},
		{"TTLTooLong", secret, transport.PortalGrant{TTL: transport.PortalTTLMax + time.Second}, "ttl"},
		{"TTLNegative", secret, transport.PortalGrant{TTL: -time.Hour}, "ttl"},
		{"UnknownCapability", secret, transport.PortalGrant{Capabilities: []transport.Capability{"write"}}, "capabilities[0]"},
		{"PushEvents", secret, transport.PortalGrant{Capabilities: []transport.Capability{transport.CapabilityPushEvents}}, "capabilities[0]"},
		{"Namespace", secret, transport.PortalGrant{Namespace: "a/b"}, "namespace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token, _, err := transport.NewPortalToken(tt.secret, tt.grant)
			var invalid *sparrow.InvalidArgumentError
			if !errors.As(err, &invalid) || invalid.Field != tt.field || token != "" {
				t.Fatalf("token %q, err %v; want InvalidArgument on %s", token, err, tt.field)
			}
		})
	}
}

func TestMountPortalSecret(t *testing.T) {
	t.Parallel()

	eng := newBareTestServer(t).eng
	for _, secret := range [][]byte{nil, {}, []byte("too-short-0123456789")} {
		err := transport.Mount(http.NewServeMux(), eng, transport.WithPortalSecret(secret))
		if err == nil || !strings.Contains(err.Error(), "portal secret is shorter than 32 bytes") {
			t.Errorf("secret %q: %v", secret, err)
		}
	}
}
