package transport_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// TestFilterOverConnectJSON tries filters with TestFilter and saves them on
// subscriptions over Connect with JSON; a filter that does not compile is
// InvalidArgument, naming the field and the place, and changes nothing.
func TestFilterOverConnectJSON(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients(connect.WithProtoJSON())
	payload, err := structpb.NewStruct(map[string]any{"total": 150, "currency": "EUR"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("TestFilter", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name string
			req  *pb.TestFilterRequest
			want bool
		}{
			{"Matches", &pb.TestFilterRequest{Filter: `payload.total > 100 && payload.currency == "EUR"`, Payload: payload}, true},
			{"DoesNotMatch", &pb.TestFilterRequest{Filter: `payload.total > 200`, Payload: payload}, false},
			{"PayloadJSON", &pb.TestFilterRequest{Filter: `payload.n == 9007199254740993`, PayloadJson: `{"n": 9007199254740993}`}, true},
			{"Labels", &pb.TestFilterRequest{Filter: `labels.region == "eu"`, Payload: payload, Labels: map[string]string{"region": "eu"}}, true},
			{"MissingField", &pb.TestFilterRequest{Filter: `payload.discount > 0`, Payload: payload}, false},
		}
		for _, tt := range tests {
			res, err := c.subscriptions.TestFilter(ctx, tt.req)
			if err != nil || res.GetMatched() != tt.want {
				t.Errorf("%s: %v, %v; want matched %v", tt.name, res, err, tt.want)
			}
		}
		for _, bad := range []struct {
			name string
			req  *pb.TestFilterRequest
			want string
		}{
			{"Syntax", &pb.TestFilterRequest{Filter: `payload.total >`, Payload: payload}, "filter: 1:16: Syntax error"},
			{"NotBool", &pb.TestFilterRequest{Filter: `payload.total + 1`, Payload: payload}, "filter: the expression is of type int, not bool"},
			{"Empty", &pb.TestFilterRequest{Payload: payload}, "filter: empty expression"},
			{"BothPayloads", &pb.TestFilterRequest{Filter: `true`, Payload: payload, PayloadJson: `{}`}, "payload_json"},
			{"NoPayload", &pb.TestFilterRequest{Filter: `true`}, "payload: required"},
			{"BadLabel", &pb.TestFilterRequest{Filter: `true`, Payload: payload, Labels: map[string]string{"bad key": "x"}}, "labels[bad key]"},
		} {
			_, err := c.subscriptions.TestFilter(ctx, bad.req)
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("%s: err = %v, want InvalidArgument containing %q", bad.name, err, bad.want)
			}
		}
	})

	t.Run("Subscriptions", func(t *testing.T) {
		t.Parallel()

		if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
			t.Fatal(err)
		}
		reg, err := c.webhooks.RegisterWebhook(ctx, &pb.RegisterWebhookRequest{Url: "https://example.com"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.subscriptions.CreateSubscription(ctx, &pb.CreateSubscriptionRequest{
			WebhookId: reg.GetWebhookId(), EventName: "order.created", Filter: "payload.total >\n  > 1",
		})
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "filter: 2:3: Syntax error") {
			t.Fatalf("creating with a bad filter: %v", err)
		}
		if list, err := c.subscriptions.ListSubscriptions(ctx, &pb.ListSubscriptionsRequest{WebhookId: reg.GetWebhookId()}); err != nil || len(list.GetSubscriptions()) != 0 {
			t.Fatalf("a refused creation stored %v (%v)", list, err)
		}

		created, err := c.subscriptions.CreateSubscription(ctx, &pb.CreateSubscriptionRequest{
			WebhookId: reg.GetWebhookId(), EventName: "order.created", Filter: `payload.total > 100`,
		})
		if err != nil {
			t.Fatal(err)
		}
		id := created.GetSubscriptionId()
		if got := created.GetSubscription().GetFilter(); got != `payload.total > 100` {
			t.Fatalf("created with filter %q", got)
		}
		_, err = c.subscriptions.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{SubscriptionId: id, Active: new(false), Filter: new(`payload.total`)})
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "filter:") {
			t.Fatalf("updating to a bad filter: %v", err)
		}
		got, err := c.subscriptions.GetSubscription(ctx, &pb.GetSubscriptionRequest{SubscriptionId: id})
		if err != nil || got.GetSubscription().GetFilter() != `payload.total > 100` || !got.GetSubscription().GetActive() {
			t.Fatalf("a refused update changed the subscription: %v (%v)", got, err)
		}
		updated, err := c.subscriptions.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{SubscriptionId: id, Filter: new(`labels.region == "eu"`)})
		if err != nil || updated.GetSubscription().GetFilter() != `labels.region == "eu"` {
			t.Fatalf("updating the filter: %v (%v)", updated, err)
		}
		cleared, err := c.subscriptions.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{SubscriptionId: id, Filter: new("")})
		if err != nil || cleared.GetSubscription().GetFilter() != "" {
			t.Fatalf("clearing the filter: %v (%v)", cleared, err)
		}
	})
}

// TestFilterOverREST tries a filter and saves it on a subscription over
// REST, as curl would; the subscription's receiver gets the pushed event
// the filter passes and not the other. A bad filter is HTTP 400.
func TestFilterOverREST(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	var mu sync.Mutex
	var bodies []string
	got := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(body))
		mu.Unlock()
		got <- struct{}{}
	}))
	t.Cleanup(rcv.Close)

	out := s.ok(t, "POST", "/webhook/subscriptions/test-filter",
		`{"filter": "payload.total > 100 && labels.region == \"eu\"", "payload": {"total": 150}, "labels": {"region": "eu"}}`)
	if out["matched"] != true {
		t.Fatalf("test-filter: %v, want matched", out)
	}
	out = s.ok(t, "POST", "/webhook/subscriptions/test-filter", `{"filter": "payload.total > 100", "payloadJson": "{\"total\": 50}"}`)
	if out["matched"] != nil { // false is left out of proto3 JSON
		t.Fatalf("test-filter: %v, want not matched", out)
	}
	status, out := s.rest(t, "POST", "/webhook/subscriptions/test-filter", `{"filter": "payload.total >", "payload": {"total": 150}}`)
	if msg, _ := out["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, "filter: 1:16: Syntax error") {
		t.Fatalf("test-filter with a bad filter: %d %v", status, out)
	}

	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.created"}`)
	wh := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+rcv.URL+`"}`)
	webhookID := wh["webhookId"].(string)
	// An unfiltered webhook's deliveries tell when the events have been
	// fanned out.
	all := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(all.Close)
	witness := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+all.URL+`", "events": ["order.created"]}`)
	status, out = s.rest(t, "POST", "/webhook/subscriptions",
		`{"namespace": "shop", "webhookId": "`+webhookID+`", "eventName": "order.created", "filter": "labels.region > 1"}`)
	if msg, _ := out["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, "filter: 1:15: found no matching overload") {
		t.Fatalf("creating with a bad filter: %d %v", status, out)
	}
	created := s.ok(t, "POST", "/webhook/subscriptions",
		`{"namespace": "shop", "webhookId": "`+webhookID+`", "eventName": "order.created", "filter": "payload.total > 100 && payload.currency == \"EUR\""}`)
	sub := created["subscription"].(map[string]any)
	if sub["filter"] != `payload.total > 100 && payload.currency == "EUR"` {
		t.Fatalf("created %v", sub)
	}
	list := s.ok(t, "GET", "/webhook/subscriptions?namespace=shop&webhook_id="+webhookID, "")
	if n := len(list["subscriptions"].([]any)); n != 1 {
		t.Fatalf("%d subscriptions, want 1: a refused creation stored one", n)
	}

	s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {"id": "small", "total": 50, "currency": "EUR"}}`)
	s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {"id": "usd", "total": 150, "currency": "USD"}}`)
	s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {"id": "match", "total": 150, "currency": "EUR"}}`)
	deliveries := func(webhookID string) int {
		list := s.ok(t, "GET", "/webhook/deliveries?namespace=shop&webhook_id="+webhookID, "")
		items, _ := list["deliveries"].([]any)
		return len(items)
	}
	for deadline := time.Now().Add(20 * time.Second); deliveries(witness["webhookId"].(string)) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the events were not fanned out")
		}
	}
	if n := deliveries(webhookID); n != 1 {
		t.Fatalf("the filtered webhook has %d deliveries, want 1", n)
	}
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the matching event was not delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("the receiver got %d requests, want 1: %q", len(bodies), bodies)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil || body["id"] != "match" {
		t.Fatalf("delivered %s", bodies[0])
	}
}
