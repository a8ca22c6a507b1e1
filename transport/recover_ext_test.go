package transport_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/sparrowtest"
)

// waitRecovered polls a recovery over Connect until it has ended.
func waitRecovered(t *testing.T, c clients, namespace, id string) *pb.Recovery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := c.webhooks.GetRecovery(context.Background(), &pb.GetRecoveryRequest{Namespace: namespace, RecoveryId: id})
		if err != nil {
			t.Fatal(err)
		}
		if r := got.GetRecovery(); r.GetStatus() != "running" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery %s still running: %v", id, got.GetRecovery())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRecoverOverConnect: a receiver fails a delivery, comes back, and a
// recovery started over Connect re-sends the event; the recovery reads back
// with its progress, lists, and, once ended, is not cancelled. Bad requests
// are refused naming the field, and another namespace's webhook or
// recovery is not found.
func TestRecoverOverConnect(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients()
	var healthy atomic.Bool
	rcv := sparrowtest.NewReceiver(t)
	rcv.Respond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Namespace: "shop", Url: rcv.URL, Events: []string{"order.created"}})
	if err != nil {
		t.Fatal(err)
	}
	since := timestamppb.New(time.Now())
	pushed, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Namespace: "shop", Event: "order.created", Payload: &structpb.Struct{}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		list, err := c.deliveries.ListDeliveries(ctx, &pb.ListDeliveriesRequest{Namespace: "shop", EventId: pushed.GetEventId(), Status: "failed"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetDeliveries()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery did not fail")
		}
	}
	healthy.Store(true)

	started, err := c.webhooks.RecoverWebhook(ctx, &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId(), Since: since})
	if err != nil {
		t.Fatal(err)
	}
	r := started.GetRecovery()
	if !strings.HasPrefix(r.GetId(), "rcv_") || r.GetNamespace() != "shop" || r.GetWebhookId() != reg.GetWebhookId() ||
		!r.GetSince().AsTime().Equal(since.AsTime().Truncate(time.Microsecond)) || r.GetUntil() != nil || r.GetCreatedAt() == nil {
		t.Fatalf("recovery as started: %v", r)
	}
	r = waitRecovered(t, c, "shop", r.GetId())
	if r.GetStatus() != "succeeded" || r.GetTotal() != 1 || r.GetDone() != 1 || r.GetResent() != 1 || r.GetUpdatedAt() == nil {
		t.Fatalf("recovery ended as %v, want succeeded with its one event re-sent", r)
	}
	reqs := rcv.WaitForRequests(ctx, t, 2)
	if reqs[1].EventID != pushed.GetEventId() || reqs[1].DeliveryID == reqs[0].DeliveryID {
		t.Fatalf("re-sent event %s in delivery %s (first %s), want %s in a new delivery", reqs[1].EventID, reqs[1].DeliveryID, reqs[0].DeliveryID, pushed.GetEventId())
	}
	list, err := c.webhooks.ListRecoveries(ctx, &pb.ListRecoveriesRequest{Namespace: "shop", WebhookId: reg.GetWebhookId()})
	if err != nil || len(list.GetRecoveries()) != 1 || list.GetRecoveries()[0].GetId() != r.GetId() || list.GetNextCursor() != "" {
		t.Fatalf("listed %v (%v), want the recovery alone", list, err)
	}
	_, err = c.webhooks.CancelRecovery(ctx, &pb.CancelRecoveryRequest{Namespace: "shop", RecoveryId: r.GetId()})
	wantCode(t, err, connect.CodeFailedPrecondition)

	hour := timestamppb.New(time.Now().Add(-time.Hour))
	future := timestamppb.New(time.Now().Add(time.Hour))
	for _, bad := range []struct {
		name  string
		req   *pb.RecoverWebhookRequest
		field string
	}{
		{"NoSince", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId()}, "since"},
		{"SinceInTheFuture", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId(), Since: future}, "since"},
		{"UntilBeforeSince", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId(), Since: since, Until: hour}, "until"},
		{"UntilInTheFuture", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId(), Since: hour, Until: future}, "until"},
		{"UntilNotATime", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: reg.GetWebhookId(), Since: hour, Until: &timestamppb.Timestamp{Nanos: -1}}, "until"},
		{"BadWebhookID", &pb.RecoverWebhookRequest{Namespace: "shop", WebhookId: "nope", Since: hour}, "webhook_id"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := c.webhooks.RecoverWebhook(ctx, bad.req)
			if field, _ := fieldViolation(t, err); field != bad.field {
				t.Errorf("field %q, want %q", field, bad.field)
			}
		})
	}
	_, err = c.webhooks.RecoverWebhook(ctx, &pb.RecoverWebhookRequest{WebhookId: reg.GetWebhookId(), Since: hour})
	wantCode(t, err, connect.CodeNotFound)
	_, err = c.webhooks.GetRecovery(ctx, &pb.GetRecoveryRequest{RecoveryId: r.GetId()})
	wantCode(t, err, connect.CodeNotFound)
	_, err = c.webhooks.CancelRecovery(ctx, &pb.CancelRecoveryRequest{RecoveryId: r.GetId()})
	wantCode(t, err, connect.CodeNotFound)
	_, err = c.webhooks.GetRecovery(ctx, &pb.GetRecoveryRequest{Namespace: "shop", RecoveryId: "rcv_nope"})
	if field, _ := fieldViolation(t, err); field != "recovery_id" {
		t.Errorf("field %q, want recovery_id", field)
	}
	_, err = c.webhooks.ListRecoveries(ctx, &pb.ListRecoveriesRequest{Namespace: "shop", Limit: 101})
	if field, _ := fieldViolation(t, err); field != "limit" {
		t.Errorf("field %q, want limit", field)
	}
	page, err := s.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{Namespace: "shop"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%d recoveries (%v), want the one: the refused requests started none", len(page.Items), err)
	}
}

// TestRecoverOverREST starts a recovery through its REST route for an event
// pushed before the webhook existed, follows it, lists it and tries to
// cancel it once ended, in the API's JSON names; bad requests answer 400
// naming the field, an unknown webhook 404.
func TestRecoverOverREST(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	rcv := sparrowtest.NewReceiver(t)
	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.created"}`)
	since := time.Now().UTC().Format(time.RFC3339Nano)
	pushed := s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {"n": 1}}`)
	wh := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+rcv.URL+`", "events": ["order.created"]}`)["webhook"].(map[string]any)
	id := wh["id"].(string)

	r := s.ok(t, "POST", "/webhook/webhooks/"+id+"/recover", `{"namespace": "shop", "since": "`+since+`"}`)["recovery"].(map[string]any)
	recoveryID, _ := r["id"].(string)
	if !strings.HasPrefix(recoveryID, "rcv_") || r["webhookId"] != id || r["namespace"] != "shop" || r["since"] == nil || r["createdAt"] == nil {
		t.Fatalf("recovery as started: %v", r)
	}
	for deadline := time.Now().Add(20 * time.Second); r["status"] == "running"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still running: %v", r)
		}
		r = s.ok(t, "GET", "/webhook/recoveries/"+recoveryID+"?namespace=shop", "")["recovery"].(map[string]any)
	}
	// int64 fields are JSON strings, as protojson writes them.
	if r["status"] != "succeeded" || r["total"] != "1" || r["done"] != "1" || r["resent"] != "1" {
		t.Fatalf("recovery ended as %v, want succeeded with its one event re-sent", r)
	}
	if got := rcv.WaitForRequests(context.Background(), t, 1)[0]; got.EventID != pushed["eventId"] {
		t.Fatalf("received event %s, want %v", got.EventID, pushed["eventId"])
	}
	listed := s.ok(t, "GET", "/webhook/recoveries?namespace=shop&webhookId="+id, "")["recoveries"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["id"] != recoveryID {
		t.Fatalf("listed %v, want the recovery", listed)
	}
	if status, out := s.rest(t, "POST", "/webhook/recoveries/"+recoveryID+"/cancel", `{"namespace": "shop"}`); status != http.StatusBadRequest {
		t.Fatalf("cancelling an ended recovery: %d %v, want 400", status, out)
	}

	for _, bad := range []struct{ path, body, field string }{
		{"/webhook/webhooks/" + id + "/recover", `{"namespace": "shop"}`, "since"},
		{"/webhook/webhooks/" + id + "/recover", `{"namespace": "shop", "since": "` + since + `", "until": "2000-01-01T00:00:00Z"}`, "until"},
		{"/webhook/webhooks/nope/recover", `{"namespace": "shop", "since": "` + since + `"}`, "webhook_id"},
		{"/webhook/recoveries/nope/cancel", `{"namespace": "shop"}`, "recovery_id"},
	} {
		status, out := s.rest(t, "POST", bad.path, bad.body)
		if msg, _ := out["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, bad.field) {
			t.Errorf("POST %s %s: %d %v, want 400 naming %s", bad.path, bad.body, status, out, bad.field)
		}
	}
	if status, out := s.rest(t, "POST", "/webhook/webhooks/"+id+"/recover", `{"since": "`+since+`"}`); status != http.StatusNotFound {
		t.Errorf("recovering another namespace's webhook: %d %v, want 404", status, out)
	}
	if status, out := s.rest(t, "GET", "/webhook/recoveries/"+recoveryID, ""); status != http.StatusNotFound {
		t.Errorf("reading another namespace's recovery: %d %v, want 404", status, out)
	}
}
