package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/sparrowtest"
)

// exactPayload has numbers no float64 holds, keys out of order, and
// whitespace: it must reach receivers byte for byte.
const exactPayload = `{"z": 9007199254740993, "max_u64": 18446744073709551615, "min_i64": -9223372036854775808,
  "price": 10.10, "tiny": 1e-400, "huge": 123456789012345678901234567890, "html": "<a&b>", "a": [1.0, 2.50]}`

// subscribedServer is a test server with order.created registered and a
// webhook on a verifying receiver subscribed to it.
func subscribedServer(t *testing.T) (*testServer, *sparrowtest.Receiver) {
	t.Helper()
	s := newTestServer(t)
	ctx := context.Background()
	if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	rcv := sparrowtest.NewReceiver(t)
	wh, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.SetSecrets(wh.Secret); err != nil {
		t.Fatal(err)
	}
	return s, rcv
}

// post sends body to path with content type and returns the status and
// answer.
func (s *testServer) post(t *testing.T, path, contentType, body string) (int, []byte) {
	t.Helper()
	resp, err := s.client.Post(s.url+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestPayloadsExact: a payload pushed over any protocol reaches the
// receiver as the text pushed, and GetEvent answers it as such: Connect
// JSON (both content types), REST, a batch, gRPC and gRPC-Web (with
// payload_json, which a Struct could not carry), and the Go API.
func TestPayloadsExact(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s, rcv := subscribedServer(t)
	pushJSON := `{"event": "order.created", "payload": ` + exactPayload + `}`
	pushes := map[string]func(t *testing.T){
		"ConnectJSON": func(t *testing.T) {
			if code, out := s.post(t, "/webhook.EventService/PushEvent", "application/json", pushJSON); code != http.StatusOK {
				t.Fatalf("%d %s", code, out)
			}
		},
		"ConnectJSONCharset": func(t *testing.T) {
			if code, out := s.post(t, "/webhook.EventService/PushEvent", "application/json; charset=utf-8", pushJSON); code != http.StatusOK {
				t.Fatalf("%d %s", code, out)
			}
		},
		"REST": func(t *testing.T) {
			if code, out := s.post(t, "/webhook/events", "application/json", pushJSON); code != http.StatusOK {
				t.Fatalf("%d %s", code, out)
			}
		},
		"ConnectJSONBatch": func(t *testing.T) {
			body := `{"events": [{"event": "order.created", "payload": ` + exactPayload + `}]}`
			if code, out := s.post(t, "/webhook.EventService/PushEvents", "application/json", body); code != http.StatusOK {
				t.Fatalf("%d %s", code, out)
			}
		},
		"GRPC": func(t *testing.T) {
			c := s.clients(connect.WithGRPC())
			if _, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", PayloadJson: exactPayload}); err != nil {
				t.Fatal(err)
			}
		},
		"GRPCWeb": func(t *testing.T) {
			c := s.clients(connect.WithGRPCWeb())
			if _, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", PayloadJson: exactPayload}); err != nil {
				t.Fatal(err)
			}
		},
		"GoAPI": func(t *testing.T) {
			if _, err := s.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(exactPayload)}); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, push := range pushes {
		t.Run(name, func(t *testing.T) {
			before := len(rcv.Requests())
			push(t)
			got := rcv.WaitForRequests(ctx, t, before+1)[before]
			if string(got.Body) != exactPayload {
				t.Fatalf("received\n%s\nwant\n%s", got.Body, exactPayload)
			}
			eventID := got.EventID
			code, out := s.post(t, "/webhook.EventService/GetEvent", "application/json", `{"event_id": "`+eventID+`"}`)
			if code != http.StatusOK || !bytes.Contains(out, []byte(`"payload":`+exactPayload)) || bytes.Contains(out, []byte("payloadJson")) {
				t.Fatalf("GetEvent over Connect JSON: %d %s", code, out)
			}
			restCode, restOut := s.get(t, "/webhook/events/"+eventID)
			if restCode != http.StatusOK || !bytes.Contains(restOut, []byte(`"payload":`+exactPayload)) {
				t.Fatalf("GetEvent over REST: %d %s", restCode, restOut)
			}
			grpcOut, err := s.clients(connect.WithGRPC()).events.GetEvent(ctx, &pb.GetEventRequest{EventId: eventID})
			if err != nil || grpcOut.GetEvent().GetPayloadJson() != exactPayload {
				t.Fatalf("GetEvent over gRPC: %v %q", err, grpcOut.GetEvent().GetPayloadJson())
			}
		})
	}
}

func (s *testServer) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := s.client.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestPayloadJSONRefusals: payload and payload_json together, or a
// payload_json that is not a JSON object, are refused and store nothing.
func TestPayloadJSONRefusals(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s, _ := subscribedServer(t)
	for name, body := range map[string]string{
		"Both":      `{"event": "order.created", "payload": {"a": 1}, "payloadJson": "{\"a\": 1}"}`,
		"BothSnake": `{"event": "order.created", "payload": {"a": 1}, "payload_json": "{\"a\": 1}"}`,
		"NotObject": `{"event": "order.created", "payloadJson": "[1, 2]"}`,
		"NotJSON":   `{"event": "order.created", "payloadJson": "{nope"}`,
	} {
		code, out := s.post(t, "/webhook.EventService/PushEvent", "application/json", body)
		if code != http.StatusBadRequest || !strings.Contains(string(out), "invalid_argument") {
			t.Errorf("%s: %d %s, want 400 invalid_argument", name, code, out)
		}
	}
	_, err := s.clients(connect.WithGRPC()).events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", PayloadJson: "[]"})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("gRPC payload_json not an object: %v", err)
	}
	if n := countEvents(t, s); n != 0 {
		t.Fatalf("%d events stored by refused pushes", n)
	}
}

func countEvents(t *testing.T, s *testServer) int {
	t.Helper()
	page, err := s.eng.ListEvents(context.Background(), sparrow.ListEventsParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

// TestRESTWrappedBodies: the resource-wrapped bodies, {"webhook": {...}}
// and {"event": {..., "name": ...}}, are taken as the requests they wrap.
func TestRESTWrappedBodies(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	for _, name := range []string{"user.created", "user.updated"} {
		if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	rcv := sparrowtest.NewReceiver(t)
	code, out := s.post(t, "/webhook/webhooks", "application/json", `{
    "webhook": {
      "namespace": "my-app",
      "url": "`+rcv.URL+`/webhook",
      "events": ["user.created", "user.updated"]
    }
  }`)
	var wh struct {
		WebhookID string `json:"webhookId"`
	}
	if code != http.StatusOK || json.Unmarshal(out, &wh) != nil || wh.WebhookID == "" {
		t.Fatalf("RegisterWebhook, wrapped: %d %s", code, out)
	}
	code, out = s.post(t, "/webhook/events", "application/json", `{
    "event": {
      "namespace": "my-app",
      "name": "user.created",
      "payload": {
        "user_id": "12345",
        "email": "user@example.com",
        "created_at": "2024-01-15T10:30:00Z"
      }
    }
  }`)
	if code != http.StatusOK {
		t.Fatalf("PushEvent, wrapped: %d %s", code, out)
	}
	ctxTimeout, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got := rcv.WaitForRequests(ctxTimeout, t, 1)[0]
	if got.Namespace != "my-app" || got.WebhookID != wh.WebhookID || !strings.Contains(string(got.Body), `"user_id": "12345"`) {
		t.Fatalf("delivered %+v", got)
	}
}

// TestSystemEventPushRefused: a client pushing one of Sparrow's own event
// types gets PermissionDenied (403), over Connect and REST.
func TestSystemEventPushRefused(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	body := `{"event": "sparrow.webhook.disabled", "payload": {"webhook_id": "wh_x"}}`
	for _, path := range []string{"/webhook.EventService/PushEvent", "/webhook/events"} {
		if code, out := s.post(t, path, "application/json", body); code != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", path, code, out)
		}
	}
}
