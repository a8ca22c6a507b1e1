package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
	"github.com/sparrowhq/sparrow/transport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testServer is Sparrow served over HTTP/1.1 and h2c by a real server.
type testServer struct {
	eng    *sparrow.Engine
	url    string
	client *http.Client // speaks HTTP/1.1 and h2c
	logs   *syncBuffer
	schema string
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testPortalSecret is the portal secret of newTestServer's servers, so
// that every RPC, CreatePortalToken among them, can succeed on them.
var testPortalSecret = []byte("portal-secret-for-tests-0123456789abcdef")

// newTestServer serves an engine with opts, after a portal secret.
func newTestServer(t testing.TB, opts ...transport.Option) *testServer {
	t.Helper()
	return newBareTestServer(t, append([]transport.Option{transport.WithPortalSecret(testPortalSecret)}, opts...)...)
}

// newBareTestServer serves an engine with opts alone.
func newBareTestServer(t testing.TB, opts ...transport.Option) *testServer {
	t.Helper()
	schema := pgtest.Schema(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(schema), sparrow.WithAllowPrivateNetworks(), sparrow.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Stop(context.Background()) })
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	opts = append([]transport.Option{transport.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	if err := transport.Mount(mux, eng, opts...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protocols
	srv.Start()
	t.Cleanup(srv.Close)
	clientProtocols := new(http.Protocols)
	clientProtocols.SetUnencryptedHTTP2(true)
	return &testServer{
		eng:    eng,
		url:    srv.URL,
		client: &http.Client{Transport: &http.Transport{Protocols: clientProtocols}},
		logs:   logs,
		schema: schema,
	}
}

// clients are the five service clients over one protocol.
type clients struct {
	webhooks      webhookpbconnect.WebhookServiceClient
	events        webhookpbconnect.EventServiceClient
	subscriptions webhookpbconnect.SubscriptionServiceClient
	deliveries    webhookpbconnect.DeliveryServiceClient
	health        webhookpbconnect.HealthServiceClient
}

func (s *testServer) clients(opts ...connect.ClientOption) clients {
	return clients{
		webhooks:      webhookpbconnect.NewWebhookServiceClient(s.client, s.url, opts...),
		events:        webhookpbconnect.NewEventServiceClient(s.client, s.url, opts...),
		subscriptions: webhookpbconnect.NewSubscriptionServiceClient(s.client, s.url, opts...),
		deliveries:    webhookpbconnect.NewDeliveryServiceClient(s.client, s.url, opts...),
		health:        webhookpbconnect.NewHealthServiceClient(s.client, s.url, opts...),
	}
}

// withKey sends key on every call.
func withKey(key string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("X-Api-Key", key)
			return next(ctx, req)
		}
	}))
}

func wantCode(t *testing.T, err error, code connect.Code) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func receiver(t *testing.T) (*httptest.Server, chan http.Header) {
	t.Helper()
	got := make(chan http.Header, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header.Clone()
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// TestProtocols runs the documents' flow (register an event type and a
// webhook, push, list deliveries, read health) over each protocol.
func TestProtocols(t *testing.T) {
	t.Parallel()

	protocols := map[string][]connect.ClientOption{
		"Connect":    nil,
		"ConnectGET": {connect.WithHTTPGet()},
		"GRPC":       {connect.WithGRPC()},
		"GRPCWeb":    {connect.WithGRPCWeb()},
	}
	for name, opts := range protocols {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			ctx := context.Background()
			s := newTestServer(t)
			c := s.clients(opts...)
			rcv, got := receiver(t)
			if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created", Description: "Fires when a new order is placed", Active: new(true)}); err != nil {
				t.Fatal(err)
			}
			reg, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{
				Namespace: "default", Events: []string{"order.created"}, Url: rcv.URL, Active: new(true), WebhookSecret: "your-secret",
			})
			if err != nil {
				t.Fatal(err)
			}
			if reg.GetWebhookId() == "" || reg.GetWebhookSecret() != "your-secret" || reg.GetWebhook().GetEvents()[0] != "order.created" {
				t.Fatalf("RegisterWebhook: %v", reg)
			}
			payload, _ := structpb.NewStruct(map[string]any{"order_id": "ord_123", "total": 49.99})
			push, err := c.events.PushEvent(ctx, &pb.PushEventRequest{
				Namespace: "default", Event: "order.created", Payload: payload, TtlSeconds: 3600,
				Labels: map[string]string{"plan": "premium", "region": "us-east-1"},
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case h := <-got:
				if h.Get("Sparrow-Event-Id") != push.GetEventId() {
					t.Fatalf("received event %s, pushed %s", h.Get("Sparrow-Event-Id"), push.GetEventId())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the pushed event was not delivered")
			}
			var list *pb.ListDeliveriesResponse
			for deadline := time.Now().Add(10 * time.Second); ; {
				if list, err = c.deliveries.ListDeliveries(ctx, &pb.ListDeliveriesRequest{WebhookId: reg.GetWebhookId(), Namespace: "default", Limit: 10}); err != nil {
					t.Fatal(err)
				}
				if len(list.GetDeliveries()) == 1 && list.GetDeliveries()[0].GetStatus() == "succeeded" || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			d := list.GetDeliveries()[0]
			if d.GetStatus() != "succeeded" || d.GetAttemptCount() != 1 {
				t.Fatalf("delivery: %v", d)
			}
			full, err := c.deliveries.GetDelivery(ctx, &pb.GetDeliveryRequest{DeliveryId: d.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			if full.GetDelivery().GetBody() != `{"order_id":"ord_123","total":49.99}` || len(full.GetDelivery().GetAttempts()) != 1 {
				t.Fatalf("delivery with attempts: %v", full.GetDelivery())
			}
			health, err := c.health.GetWebhookHealth(ctx, &pb.GetWebhookHealthRequest{WebhookId: reg.GetWebhookId(), Namespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			if health.GetHealthStatus() != "healthy" || health.GetSuccessRate() != 100 {
				t.Fatalf("health: %v", health)
			}
			ev, err := c.events.GetEvent(ctx, &pb.GetEventRequest{EventId: push.GetEventId()})
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEvent().GetPayload().GetFields()["order_id"].GetStringValue() != "ord_123" || ev.GetEvent().GetLabels()["plan"] != "premium" {
				t.Fatalf("event: %v", ev)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()

	const (
		adminKey  = "admin-key-0123456789"
		tenantKey = "tenant-key-0123456789"
	)
	ctx := context.Background()
	s := newTestServer(t, transport.WithAPIKeys(
		transport.APIKey{Key: adminKey},
		transport.APIKey{Key: tenantKey, Namespaces: []string{"acme"}},
	))
	admin := s.clients(withKey(adminKey))
	if _, err := admin.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}

	t.Run("MissingKey", func(t *testing.T) {
		_, err := s.clients().events.ListEventTypes(ctx, &pb.ListEventTypesRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
	})
	t.Run("WrongKey", func(t *testing.T) {
		_, err := s.clients(withKey("not-the-key-0123456789")).events.ListEventTypes(ctx, &pb.ListEventTypesRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
	})
	t.Run("GRPCWithKey", func(t *testing.T) {
		_, err := s.clients(withKey(adminKey), connect.WithGRPC()).events.ListEventTypes(ctx, &pb.ListEventTypesRequest{})
		if err != nil {
			t.Fatal(err)
		}
	})
	authorization := func(value string) connect.ClientOption {
		return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
				req.Header().Set("Authorization", value)
				return next(ctx, req)
			}
		}))
	}
	t.Run("BearerToken", func(t *testing.T) {
		// The scheme's name is case-insensitive (RFC 7235 section 2.1).
		for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
			if _, err := s.clients(authorization(scheme+" "+adminKey)).events.ListEventTypes(ctx, &pb.ListEventTypesRequest{}); err != nil {
				t.Errorf("Authorization: %s <key>: %v", scheme, err)
			}
		}
		for _, value := range []string{"Basic " + adminKey, "Bearer" + adminKey, adminKey} {
			_, err := s.clients(authorization(value)).events.ListEventTypes(ctx, &pb.ListEventTypesRequest{})
			wantCode(t, err, connect.CodeUnauthenticated)
		}
	})
	t.Run("ScopedKey", func(t *testing.T) {
		tenant := s.clients(withKey(tenantKey))
		if _, err := tenant.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "acme"}); err != nil {
			t.Fatalf("own namespace: %v", err)
		}
		_, err := tenant.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{Namespace: "other"})
		wantCode(t, err, connect.CodePermissionDenied)
		_, err = tenant.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{}) // the default namespace
		wantCode(t, err, connect.CodePermissionDenied)
		_, err = tenant.events.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.PushEventRequest{
			{Namespace: "acme", Event: "order.created", Payload: &structpb.Struct{}},
			{Namespace: "other", Event: "order.created", Payload: &structpb.Struct{}},
		}})
		wantCode(t, err, connect.CodePermissionDenied)
		_, err = tenant.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "tenant.made"})
		wantCode(t, err, connect.CodePermissionDenied)
		if _, err := tenant.events.ListEventTypes(ctx, &pb.ListEventTypesRequest{}); err != nil {
			t.Fatalf("reading the shared event types: %v", err)
		}
		if _, err := admin.events.GetEventType(ctx, &pb.GetEventTypeRequest{Name: "tenant.made"}); connect.CodeOf(err) != connect.CodeNotFound {
			t.Fatalf("a refused RegisterEvent registered: %v", err)
		}
	})
	t.Run("ShortKeysRefused", func(t *testing.T) {
		err := transport.Mount(http.NewServeMux(), s.eng, transport.WithAPIKeys(transport.APIKey{Key: "short"}))
		if err == nil {
			t.Fatal("a 5-character key was accepted")
		}
	})
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t, transport.WithMaxRequestBytes(64<<10))
	c := s.clients()
	if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}

	t.Run("InvalidArgument", func(t *testing.T) {
		_, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Url: "ftp://example.com"})
		wantCode(t, err, connect.CodeInvalidArgument)
		var connectErr *connect.Error
		if !errors.As(err, &connectErr) || len(connectErr.Details()) != 1 {
			t.Fatalf("no error detail: %v", err)
		}
		detail, err := connectErr.Details()[0].Value()
		if err != nil {
			t.Fatal(err)
		}
		if v := detail.(*errdetails.BadRequest).GetFieldViolations(); len(v) != 1 || v[0].GetField() != "url" {
			t.Fatalf("field violations: %v", v)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := c.webhooks.GetWebhook(ctx, &pb.GetWebhookRequest{WebhookId: "wh_01aaaaaaaaaaaaaaaaaaaaaaaa"})
		wantCode(t, err, connect.CodeNotFound)
	})
	t.Run("AlreadyExists", func(t *testing.T) {
		_, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"})
		wantCode(t, err, connect.CodeAlreadyExists)
	})
	t.Run("FailedPrecondition", func(t *testing.T) {
		if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.retired", Active: new(false)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.retired", Payload: &structpb.Struct{}})
		wantCode(t, err, connect.CodeFailedPrecondition)
	})
	t.Run("ResourceExhaustedBatch", func(t *testing.T) {
		evs := make([]*pb.PushEventRequest, sparrow.MaxPushBatch+1)
		for i := range evs {
			evs[i] = &pb.PushEventRequest{Event: "order.created"}
		}
		_, err := c.events.PushEvents(ctx, &pb.PushEventsRequest{Events: evs})
		wantCode(t, err, connect.CodeResourceExhausted)
	})
	t.Run("ResourceExhaustedSize", func(t *testing.T) {
		big, _ := structpb.NewStruct(map[string]any{"blob": strings.Repeat("x", 100<<10)})
		_, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: big})
		wantCode(t, err, connect.CodeResourceExhausted)
	})
	t.Run("Internal", func(t *testing.T) {
		// Break the database under the engine: the client must learn nothing
		// of it but an id, which the server's log ties to the cause.
		if _, err := pgtest.Pool(t).Exec(ctx, fmt.Sprintf("ALTER TABLE %s.sparrow_webhook RENAME TO sparrow_webhook_gone", s.schema)); err != nil {
			t.Fatal(err)
		}
		_, err := c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{})
		wantCode(t, err, connect.CodeInternal)
		msg := connect.NewError(connect.CodeInternal, nil)
		if errors.As(err, &msg) && (strings.Contains(msg.Message(), "sparrow_webhook") || strings.Contains(msg.Message(), "SQLSTATE")) {
			t.Fatalf("internal details leaked to the client: %q", msg.Message())
		}
		if !strings.Contains(msg.Message(), "internal error (id ") {
			t.Fatalf("message %q lacks an error id", msg.Message())
		}
		id := strings.TrimSuffix(strings.TrimPrefix(msg.Message(), "internal error (id "), ")")
		if logs := s.logs.String(); !strings.Contains(logs, id) || !strings.Contains(logs, "sparrow_webhook") {
			t.Fatalf("the server log lacks the error %s: %s", id, logs)
		}
	})
}

func TestReflection(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	client := grpcreflect.NewClient(s.client, s.url)
	stream := client.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, n := range names {
		listed[string(n)] = true
	}
	for _, want := range transport.ServiceNames {
		if !listed[want] {
			t.Errorf("reflection does not list %s (lists %v)", want, names)
		}
	}
}
