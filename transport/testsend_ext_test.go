package transport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/sparrowtest"
	"github.com/sparrowhq/sparrow/webhook"
)

const sendTestSchema = `{"type": "object", "required": ["order_id"], "properties": {
  "order_id": {"type": "string", "examples": ["ord_123"]}, "total": {"type": "integer", "minimum": 5}}}`

// testSendServer is a test server with order.created (with a schema) and
// order.note registered, and a webhook on a verifying receiver subscribed
// to neither.
func testSendServer(t *testing.T) (*testServer, *sparrowtest.Receiver, string) {
	t.Helper()
	s := newTestServer(t)
	ctx := context.Background()
	if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Schema: json.RawMessage(sendTestSchema)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.note"}); err != nil {
		t.Fatal(err)
	}
	rcv := sparrowtest.NewReceiver(t)
	wh, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.SetSecrets(wh.Secret); err != nil {
		t.Fatal(err)
	}
	return s, rcv, wh.ID
}

// TestSendTestEventRPC: over Connect, gRPC and gRPC-Web, a test send
// answers the event, its delivery and the payload sent, which the webhook
// receives byte for byte. (JSON answers carry the payload as an object:
// TestSendTestEventREST.)
func TestSendTestEventRPC(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s, rcv, webhookID := testSendServer(t)
	const example = `{"order_id":"ord_123","total":5}`
	tests := []struct {
		name string
		opts []connect.ClientOption
		req  *pb.SendTestEventRequest
		want string
	}{
		{"ConnectExample", nil, &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.created"}, example},
		{"GRPCPayloadJSON", []connect.ClientOption{connect.WithGRPC()},
			&pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.note", PayloadJson: exactPayload}, exactPayload},
		{"GRPCWebNoSchema", []connect.ClientOption{connect.WithGRPCWeb()}, &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.note"}, `{}`},
	}
	for i, tt := range tests {
		resp, err := s.clients(tt.opts...).webhooks.SendTestEvent(ctx, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if resp.GetPayloadJson() != tt.want || resp.GetPayload() == nil || resp.GetEventId() == "" || resp.GetDeliveryId() == "" {
			t.Errorf("%s: answered %v, want payload %s", tt.name, resp, tt.want)
		}
		got := rcv.WaitForRequests(ctx, t, i+1)[i]
		if string(got.Body) != tt.want || got.DeliveryID != resp.GetDeliveryId() || got.EventID != resp.GetEventId() || got.SignatureErr != nil {
			t.Errorf("%s: received %s (delivery %s, signature %v), want %s (delivery %s)",
				tt.name, got.Body, got.DeliveryID, got.SignatureErr, tt.want, resp.GetDeliveryId())
		}
		d, err := s.clients().deliveries.GetDelivery(ctx, &pb.GetDeliveryRequest{DeliveryId: resp.GetDeliveryId()})
		if err != nil {
			t.Fatal(err)
		}
		if d.GetDelivery().GetWebhookId() != webhookID {
			t.Errorf("%s: delivery to %s, want %s", tt.name, d.GetDelivery().GetWebhookId(), webhookID)
		}
	}
}

// TestSendTestEventREST: POST /webhook/webhooks/{id}/test sends the
// payload given verbatim, answering it verbatim, or the schema's example.
func TestSendTestEventREST(t *testing.T) {
	t.Parallel()

	s, rcv, webhookID := testSendServer(t)
	path := "/webhook/webhooks/" + webhookID + "/test"
	status, raw := s.post(t, path, "application/json", `{"eventName": "order.note", "payload": `+exactPayload+`}`)
	if status != http.StatusOK || !strings.Contains(string(raw), `"payload":`+exactPayload) {
		t.Fatalf("%d %s, want the payload answered verbatim", status, raw)
	}
	got := rcv.WaitForRequests(context.Background(), t, 1)[0]
	if string(got.Body) != exactPayload {
		t.Errorf("received %s, want %s", got.Body, exactPayload)
	}
	out := s.ok(t, "POST", path, `{"eventName": "order.created"}`)
	if payload, _ := json.Marshal(out["payload"]); string(payload) != `{"order_id":"ord_123","total":5}` || out["deliveryId"] == "" || out["eventId"] == "" {
		t.Errorf("answered %v, want the schema's example", out)
	}
	event := s.ok(t, "GET", "/webhook/events/"+out["eventId"].(string), "")
	if labels := event["event"].(map[string]any)["labels"]; labels.(map[string]any)["sparrow.test"] != "true" {
		t.Errorf("the test event's labels are %v, want sparrow.test=true", labels)
	}
}

// TestSendTestEventErrors: each bad request is answered with its code (and
// REST status), naming the field where it is an argument's fault.
func TestSendTestEventErrors(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s, _, webhookID := testSendServer(t)
	paused, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: "https://example.com/hook", Inactive: true})
	if err != nil {
		t.Fatal(err)
	}
	c := s.clients()
	tests := []struct {
		name  string
		req   *pb.SendTestEventRequest
		code  connect.Code
		field string
		http  int
	}{
		{"UnknownWebhook", &pb.SendTestEventRequest{WebhookId: "wh_01aaaaaaaaaaaaaaaaaaaaaaaa", EventName: "order.note"}, connect.CodeNotFound, "", http.StatusNotFound},
		{"BadWebhookID", &pb.SendTestEventRequest{WebhookId: "nope", EventName: "order.note"}, connect.CodeInvalidArgument, "webhook_id", http.StatusBadRequest},
		{"UnknownType", &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.unknown"}, connect.CodeInvalidArgument, "event_name", http.StatusBadRequest},
		{"NoType", &pb.SendTestEventRequest{WebhookId: webhookID}, connect.CodeInvalidArgument, "event_name", http.StatusBadRequest},
		{"SystemType", &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "sparrow.delivery.exhausted"}, connect.CodePermissionDenied, "", http.StatusForbidden},
		{"PausedWebhook", &pb.SendTestEventRequest{WebhookId: paused.ID, EventName: "order.note"}, connect.CodeFailedPrecondition, "", http.StatusBadRequest},
		{"PayloadAgainstSchema", &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.created", PayloadJson: `{"total": 1}`},
			connect.CodeInvalidArgument, "payload", http.StatusBadRequest},
		{"PayloadNotAnObject", &pb.SendTestEventRequest{WebhookId: webhookID, EventName: "order.note", PayloadJson: `[1]`},
			connect.CodeInvalidArgument, "payload", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countEvents(t, s)
			_, err := c.webhooks.SendTestEvent(ctx, tt.req)
			if tt.field != "" {
				if field, _ := fieldViolation(t, err); field != tt.field {
					t.Errorf("field %q, want %q", field, tt.field)
				}
			} else {
				wantCode(t, err, tt.code)
			}
			body, _ := json.Marshal(map[string]any{"eventName": tt.req.GetEventName()})
			if tt.req.GetPayloadJson() != "" {
				body = []byte(`{"eventName": "` + tt.req.GetEventName() + `", "payload": ` + tt.req.GetPayloadJson() + `}`)
			}
			if status, out := s.post(t, "/webhook/webhooks/"+tt.req.GetWebhookId()+"/test", "application/json", string(body)); status != tt.http {
				t.Errorf("REST: %d %s, want %d", status, out, tt.http)
			}
			if after := countEvents(t, s); after != before {
				t.Errorf("refused, yet the events went from %d to %d", before, after)
			}
		})
	}
}

// TestSignatureSchemeAPI: over Connect and REST, a webhook registered or
// rotated for ed25519 answers its public key, every read shows scheme and
// key, and a bad scheme is refused naming its field.
func TestSignatureSchemeAPI(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients()

	reg, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Url: "https://example.com/hook", SignatureScheme: webhook.SchemeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	publicKey := webhook.PublicKey(reg.GetWebhookSecret())
	if !webhook.IsSigningKey(reg.GetWebhookSecret()) || publicKey == "" || reg.GetPublicKey() != publicKey ||
		reg.GetWebhook().GetPublicKey() != publicKey || reg.GetWebhook().GetSignatureScheme() != webhook.SchemeEd25519 {
		t.Fatalf("registered for ed25519: %v", reg)
	}
	id := reg.GetWebhookId()
	got, err := c.webhooks.GetWebhook(ctx, &pb.GetWebhookRequest{WebhookId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetWebhook().GetPublicKey() != publicKey || got.GetWebhook().GetSignatureScheme() != webhook.SchemeEd25519 {
		t.Errorf("GetWebhook: %v, want public key %s", got.GetWebhook(), publicKey)
	}
	list, err := c.webhooks.ListWebhooks(ctx, &pb.ListWebhooksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if w := list.GetWebhooks()[0]; w.GetPublicKey() != publicKey || w.GetSignatureScheme() != webhook.SchemeEd25519 {
		t.Errorf("ListWebhooks: %v, want public key %s", w, publicKey)
	}
	rest := s.ok(t, "GET", "/webhook/webhooks/"+id, "")["webhook"].(map[string]any)
	if rest["publicKey"] != publicKey || rest["signatureScheme"] != webhook.SchemeEd25519 {
		t.Errorf("REST GET: %v, want public key %s", rest, publicKey)
	}

	rotated, err := c.webhooks.RotateWebhookSecret(ctx, &pb.RotateWebhookSecretRequest{WebhookId: id, SignatureScheme: webhook.SchemeHMAC})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rotated.GetWebhookSecret(), webhook.SecretPrefix) || rotated.GetPublicKey() != "" ||
		rotated.GetWebhook().GetPublicKey() != "" || rotated.GetWebhook().GetSignatureScheme() != webhook.SchemeHMAC {
		t.Errorf("rotated to HMAC: %v", rotated)
	}
	out := s.ok(t, "POST", "/webhook/webhooks/"+id+"/rotate-secret", `{"signatureScheme": "ed25519"}`)
	secret, _ := out["webhookSecret"].(string)
	if !webhook.IsSigningKey(secret) || out["publicKey"] != webhook.PublicKey(secret) ||
		out["webhook"].(map[string]any)["publicKey"] != webhook.PublicKey(secret) {
		t.Errorf("REST rotation to ed25519: %v", out)
	}
	out = s.ok(t, "POST", "/webhook/webhooks", `{"url": "https://example.com/other"}`)
	if pk, _ := out["publicKey"].(string); pk != "" || out["webhook"].(map[string]any)["signatureScheme"] != webhook.SchemeHMAC {
		t.Errorf("REST registration by default: %v, want HMAC and no public key", out)
	}

	refusals := []struct {
		name, scheme, secret, field string
	}{
		{"UnknownScheme", "rsa", "", "signature_scheme"},
		{"SchemeAgainstSecret", webhook.SchemeHMAC, webhook.NewSigningKey(), "signature_scheme"},
		{"SecretAgainstScheme", webhook.SchemeEd25519, "a-passphrase-secret", "signature_scheme"},
		{"BadKey", "", webhook.SigningKeyPrefix + "AAAA", "webhook_secret"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Url: "https://example.com/hook", SignatureScheme: tt.scheme, WebhookSecret: tt.secret})
			if field, _ := fieldViolation(t, err); field != tt.field {
				t.Errorf("RegisterWebhook: field %q, want %q", field, tt.field)
			}
			_, err = c.webhooks.RotateWebhookSecret(ctx, &pb.RotateWebhookSecretRequest{WebhookId: id, SignatureScheme: tt.scheme, WebhookSecret: tt.secret})
			if field, _ := fieldViolation(t, err); field != tt.field {
				t.Errorf("RotateWebhookSecret: field %q, want %q", field, tt.field)
			}
			body, _ := json.Marshal(map[string]string{"url": "https://example.com/hook", "signatureScheme": tt.scheme, "webhookSecret": tt.secret})
			if status, out := s.rest(t, "POST", "/webhook/webhooks", string(body)); status != http.StatusBadRequest {
				t.Errorf("REST: %d %v, want 400", status, out)
			}
		})
	}
	// The refusals left the webhook as the REST rotation made it.
	got, err = c.webhooks.GetWebhook(ctx, &pb.GetWebhookRequest{WebhookId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetWebhook().GetPublicKey() != webhook.PublicKey(secret) {
		t.Errorf("after refusals the public key is %q, want %q", got.GetWebhook().GetPublicKey(), webhook.PublicKey(secret))
	}
}
