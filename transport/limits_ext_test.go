package transport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/transport"
)

// TestMaxRequestBytes sends a request over the limit in every protocol the
// server speaks: each is refused with ResourceExhausted (REST: the status
// the error table gives it, and the code in a JSON body), and one under the
// limit passes, so the limit is what refused the others.
func TestMaxRequestBytes(t *testing.T) {
	t.Parallel()

	const limit = 64 << 10
	ctx := context.Background()
	s := newTestServer(t, transport.WithMaxRequestBytes(limit))
	if _, err := s.clients().events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	blob := func(n int) *structpb.Struct {
		p, err := structpb.NewStruct(map[string]any{"blob": strings.Repeat("x", n)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, opts := range map[string][]connect.ClientOption{
		"Connect":     nil,
		"ConnectJSON": {connect.WithProtoJSON()},
		"GRPC":        {connect.WithGRPC()},
		"GRPCWeb":     {connect.WithGRPCWeb()},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			events := s.clients(opts...).events
			_, err := events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: blob(limit + 1)})
			wantCode(t, err, connect.CodeResourceExhausted)
			if _, err := events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: blob(limit / 2)}); err != nil {
				t.Fatalf("a request under the limit: %v", err)
			}
		})
	}
	t.Run("REST", func(t *testing.T) {
		t.Parallel()
		body := `{"event": "order.created", "payload": {"blob": "` + strings.Repeat("x", limit+1) + `"}}`
		status, out := s.rest(t, "POST", "/webhook/events", body)
		if status != http.StatusTooManyRequests || out["code"] != float64(connect.CodeResourceExhausted) || out["message"] == "" {
			t.Fatalf("over the limit: %d %v, want 429 and code %d", status, out, connect.CodeResourceExhausted)
		}
		small := `{"event": "order.created", "payload": {"blob": "` + strings.Repeat("x", limit/2) + `"}}`
		if status, out := s.rest(t, "POST", "/webhook/events", small); status != http.StatusOK {
			t.Fatalf("under the limit: %d %v", status, out)
		}
	})
}
