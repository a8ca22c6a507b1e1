package transport_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
	"github.com/sparrowhq/sparrow/sparrowtest"
	"github.com/sparrowhq/sparrow/transport"
)

// withBearer sends token as "Authorization: Bearer" on every call.
func withBearer(token string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}))
}

func (s *testServer) namespaces(opts ...connect.ClientOption) webhookpbconnect.NamespaceServiceClient {
	return webhookpbconnect.NewNamespaceServiceClient(s.client, s.url, opts...)
}

// namespaceNames are the names a listing lists, in its order.
func namespaceNames(res *pb.ListNamespacesResponse) []string {
	var out []string
	for _, n := range res.GetNamespaces() {
		out = append(out, n.GetNamespace())
	}
	return out
}

// populate makes webhooks in "a" (two, one paused, three subscriptions)
// and "b" (one), and an event in "c".
func populate(t *testing.T, s *testServer) {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{"order.created", "order.shipped"} {
		if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []struct {
		ns     string
		events []string
		pause  bool
	}{
		{"a", []string{"order.created", "order.shipped"}, false},
		{"a", []string{"order.created"}, true},
		{"b", nil, false},
	} {
		hook, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: w.ns, URL: "https://example.com/hook", Events: w.events})
		if err != nil {
			t.Fatal(err)
		}
		if w.pause {
			if _, err := s.eng.PauseWebhook(ctx, w.ns, hook.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "c", Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// Fanned out before the tests look: a fan-out running late (a busy
	// machine) would change the tables under a test's snapshots.
	sparrowtest.Drain(ctx, t, s.eng)
}

func TestListNamespacesAccess(t *testing.T) {
	t.Parallel()

	const (
		adminKey  = "admin-key-0123456789"
		scopedKey = "scoped-key-0123456789"
	)
	keyed := newTestServer(t, transport.WithAPIKeys(
		transport.APIKey{Key: adminKey},
		transport.APIKey{Key: scopedKey, Namespaces: []string{"b", "empty"}},
	))
	populate(t, keyed)
	open := newTestServer(t)
	populate(t, open)
	everything := &pb.CallerAccess{AllNamespaces: true, Capabilities: []string{"read", "manage_webhooks", "push_events", "manage_event_types"}}

	tests := []struct {
		name   string
		client webhookpbconnect.NamespaceServiceClient
		names  []string
		access *pb.CallerAccess
	}{
		{"NoKeysConfigured", open.namespaces(), []string{"a", "b", "c"}, everything},
		{"UnscopedKey", keyed.namespaces(withKey(adminKey)), []string{"a", "b", "c"}, everything},
		{"ScopedKey", keyed.namespaces(withBearer(scopedKey)), []string{"b", "empty"}, &pb.CallerAccess{
			Namespaces: []string{"b", "empty"}, Capabilities: []string{"read", "manage_webhooks", "push_events"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.client.ListNamespaces(context.Background(), &pb.ListNamespacesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.names, namespaceNames(res)); diff != "" {
				t.Errorf("namespaces (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.access, res.GetAccess(), protocmp.Transform()); diff != "" {
				t.Errorf("access (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Counts", func(t *testing.T) {
		res, err := keyed.namespaces(withKey(adminKey)).ListNamespaces(context.Background(), &pb.ListNamespacesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		got := res.GetNamespaces()
		if len(got) != 3 || got[2].GetLastEventAt() == nil {
			t.Fatalf("%v", got)
		}
		got[2].LastEventAt = nil // when: checked above
		want := []*pb.NamespaceSummary{
			{Namespace: "a", Webhooks: 2, PausedWebhooks: 1, Subscriptions: 3},
			{Namespace: "b", Webhooks: 1},
			{Namespace: "c"},
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
	})
	t.Run("REST", func(t *testing.T) {
		code, out := keyed.rest(t, "GET", "/webhook/namespaces", "", "X-Api-Key", scopedKey)
		if code != http.StatusOK {
			t.Fatalf("HTTP %d: %v", code, out)
		}
		list := out["namespaces"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["namespace"] != "b" || list[0].(map[string]any)["webhooks"] != 1.0 {
			t.Fatalf("%v", out)
		}
		if code, _ := keyed.rest(t, "GET", "/webhook/namespaces", ""); code != http.StatusUnauthorized {
			t.Fatalf("without a key: HTTP %d", code)
		}
	})
}
