package transport_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sparrowhq/sparrow/transport"
)

// rest calls a REST route the way curl would and decodes the JSON answer.
func (s *testServer) rest(t *testing.T, method, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// ok calls a REST route and fails unless it answered 200.
func (s *testServer) ok(t *testing.T, method, path, body string, header ...string) map[string]any {
	t.Helper()
	code, out := s.rest(t, method, path, body, header...)
	if code != http.StatusOK {
		t.Fatalf("%s %s: status %d: %v", method, path, code, out)
	}
	return out
}

// annotatedRoutes lists "VERB path" of every RPC's google.api.http rule.
func annotatedRoutes(t *testing.T) map[string]string {
	t.Helper()
	routes := map[string]string{}
	for _, name := range transport.ServiceNames {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatal(err)
		}
		methods := desc.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			m := methods.Get(i)
			rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				t.Errorf("%s has no google.api.http route", m.FullName())
				continue
			}
			var route string
			switch p := rule.GetPattern().(type) {
			case *annotations.HttpRule_Get:
				route = "GET " + p.Get
			case *annotations.HttpRule_Post:
				route = "POST " + p.Post
			case *annotations.HttpRule_Patch:
				route = "PATCH " + p.Patch
			case *annotations.HttpRule_Delete:
				route = "DELETE " + p.Delete
			case *annotations.HttpRule_Put:
				route = "PUT " + p.Put
			}
			routes[string(m.Name())] = route
		}
	}
	return routes
}

// TestRESTRoutes calls every REST route with the JSON of the generated
// types, as curl would. A method whose route has no case here fails the
// test.
func TestRESTRoutes(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	received := make(chan struct{}, 100)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received <- struct{}{} }))
	t.Cleanup(rcv.Close)

	// State the routes work on, made over REST too.
	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.created", "description": "Fires when a new order is placed"}`)
	wh := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "my-app", "url": "`+rcv.URL+`", "events": ["order.created"]}`)
	webhookID := wh["webhookId"].(string)
	ev := s.ok(t, "POST", "/webhook/events", `{"namespace": "my-app", "event": "order.created", "payload": {"user_id": "12345"}}`)
	eventID := ev["eventId"].(string)
	select {
	case <-received:
	case <-time.After(10 * time.Second):
		t.Fatal("the REST-pushed event was not delivered")
	}
	var deliveryID string
	for deadline := time.Now().Add(10 * time.Second); deliveryID == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		list := s.ok(t, "GET", "/webhook/deliveries?namespace=my-app&webhook_id="+webhookID, "")
		if ds, _ := list["deliveries"].([]any); len(ds) == 1 && ds[0].(map[string]any)["status"] == "succeeded" {
			deliveryID = ds[0].(map[string]any)["id"].(string)
		}
	}
	if deliveryID == "" {
		t.Fatal("no succeeded delivery listed")
	}
	subs := s.ok(t, "GET", "/webhook/subscriptions?namespace=my-app&webhook_id="+webhookID, "")
	subscriptionID := subs["subscriptions"].([]any)[0].(map[string]any)["id"].(string)
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	rec := s.ok(t, "POST", "/webhook/webhooks/"+webhookID+"/recover", `{"namespace": "my-app", "since": "`+since+`"}`)
	recoveryID := rec["recovery"].(map[string]any)["id"].(string)

	checks := map[string]func(t *testing.T){
		"RegisterWebhook": func(t *testing.T) {}, // made above
		"PushEvent":       func(t *testing.T) {}, // made above
		"RegisterEvent":   func(t *testing.T) {}, // made above
		"ListDeliveries":  func(t *testing.T) {}, // listed above
		"ListSubscriptions": func(t *testing.T) {
			if len(subs["subscriptions"].([]any)) != 1 {
				t.Fatalf("subscriptions: %v", subs)
			}
		},
		"GetWebhook": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/webhooks/"+webhookID+"?namespace=my-app", "")
			if out["webhook"].(map[string]any)["url"] != rcv.URL {
				t.Fatalf("%v", out)
			}
		},
		"ListWebhooks": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/webhooks?namespace=my-app&limit=1", "")
			if len(out["webhooks"].([]any)) != 1 || out["nextCursor"] == "" {
				t.Fatalf("%v", out)
			}
		},
		"UpdateWebhook": func(t *testing.T) {
			out := s.ok(t, "PATCH", "/webhook/webhooks/"+webhookID, `{"namespace": "my-app", "description": "ledger"}`)
			if out["webhook"].(map[string]any)["description"] != "ledger" {
				t.Fatalf("%v", out)
			}
		},
		"PauseWebhook": func(t *testing.T) {
			other := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "my-app", "url": "`+rcv.URL+`/paused"}`)
			id := other["webhookId"].(string)
			out := s.ok(t, "POST", "/webhook/webhooks/"+id+"/pause", `{"namespace": "my-app"}`)
			if out["webhook"].(map[string]any)["state"] != "paused" {
				t.Fatalf("%v", out)
			}
			out = s.ok(t, "POST", "/webhook/webhooks/"+id+"/resume", `{"namespace": "my-app"}`)
			if out["webhook"].(map[string]any)["state"] != "active" {
				t.Fatalf("%v", out)
			}
		},
		"ResumeWebhook": func(t *testing.T) {}, // in PauseWebhook
		"DeleteWebhook": func(t *testing.T) {
			other := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "my-app", "url": "`+rcv.URL+`/gone"}`)
			s.ok(t, "DELETE", "/webhook/webhooks/"+other["webhookId"].(string)+"?namespace=my-app", "")
			if code, _ := s.rest(t, "GET", "/webhook/webhooks/"+other["webhookId"].(string)+"?namespace=my-app", ""); code != http.StatusNotFound {
				t.Fatalf("after DELETE: %d", code)
			}
		},
		"RotateWebhookSecret": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/webhooks/"+webhookID+"/rotate-secret", `{"namespace": "my-app", "gracePeriodSeconds": 60}`)
			if !strings.HasPrefix(out["webhookSecret"].(string), "whsec_") {
				t.Fatalf("%v", out)
			}
		},
		"RevealWebhookSecret": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/webhooks/"+webhookID+"/secret?namespace=my-app", "")
			if !strings.HasPrefix(out["webhookSecret"].(string), "whsec_") {
				t.Fatalf("%v", out)
			}
		},
		"RecoverWebhook": func(t *testing.T) {}, // made above
		"GetRecovery": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/recoveries/"+recoveryID+"?namespace=my-app", "")
			if out["recovery"].(map[string]any)["webhookId"] != webhookID {
				t.Fatalf("%v", out)
			}
		},
		"ListRecoveries": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/recoveries?namespace=my-app&webhook_id="+webhookID, "")
			if len(out["recoveries"].([]any)) != 1 {
				t.Fatalf("%v", out)
			}
		},
		"CancelRecovery": func(t *testing.T) {
			// The recovery may have ended by now (refused: FailedPrecondition),
			// or not (cancelled): either way the route reached the engine.
			code, out := s.rest(t, "POST", "/webhook/recoveries/"+recoveryID+"/cancel", `{"namespace": "my-app"}`)
			switch {
			case code == http.StatusOK && out["recovery"].(map[string]any)["status"] == "cancelled":
			case code == http.StatusBadRequest && strings.Contains(fmt.Sprint(out["message"]), "recovery"):
			default:
				t.Fatalf("HTTP %d %v", code, out)
			}
		},
		"SendTestEvent": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/webhooks/"+webhookID+"/test", `{"namespace": "my-app", "eventName": "order.created", "payload": {"user_id": "12345"}}`)
			if out["deliveryId"] == "" || out["payload"].(map[string]any)["user_id"] != "12345" {
				t.Fatalf("%v", out)
			}
		},
		"GetEventType": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/event-types/order.created", "")
			if out["eventType"].(map[string]any)["name"] != "order.created" {
				t.Fatalf("%v", out)
			}
		},
		"ListEventTypes": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/event-types?active_only=true", "")
			if len(out["eventTypes"].([]any)) < 1 {
				t.Fatalf("%v", out)
			}
		},
		"UpdateEvent": func(t *testing.T) {
			s.ok(t, "POST", "/webhook/event-types", `{"name": "order.retired"}`)
			out := s.ok(t, "PATCH", "/webhook/event-types/order.retired", `{"active": false}`)
			if out["eventType"].(map[string]any)["active"] != nil && out["eventType"].(map[string]any)["active"] != false {
				t.Fatalf("%v", out)
			}
		},
		"PushEvents": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/events/batch",
				`{"events": [{"namespace": "my-app", "event": "order.created", "payload": {"n": 1}}, {"namespace": "my-app", "event": "order.created", "payload": {"n": 2}}]}`)
			if len(out["eventIds"].([]any)) != 2 {
				t.Fatalf("%v", out)
			}
		},
		"GetEvent": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/events/"+eventID+"?namespace=my-app", "")
			if out["event"].(map[string]any)["payload"].(map[string]any)["user_id"] != "12345" {
				t.Fatalf("%v", out)
			}
		},
		"ListEvents": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/events?namespace=my-app&event_name=order.created", "")
			if len(out["events"].([]any)) < 1 {
				t.Fatalf("%v", out)
			}
		},
		"RepushEvent": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/events/"+eventID+"/repush", `{"namespace": "my-app"}`)
			if out["event"].(map[string]any)["id"] != eventID {
				t.Fatalf("%v", out)
			}
		},
		"CreateSubscription": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/subscriptions", `{"namespace": "my-app", "webhookId": "`+webhookID+`", "eventName": "order.created"}`)
			if out["subscriptionId"] != subscriptionID {
				t.Fatalf("%v", out)
			}
		},
		"GetSubscription": func(t *testing.T) {
			s.ok(t, "GET", "/webhook/subscriptions/"+subscriptionID+"?namespace=my-app", "")
		},
		"UpdateSubscription": func(t *testing.T) {
			out := s.ok(t, "PATCH", "/webhook/subscriptions/"+subscriptionID, `{"namespace": "my-app", "labelFilter": {"plan": "premium"}}`)
			if out["subscription"].(map[string]any)["labelFilter"].(map[string]any)["plan"] != "premium" {
				t.Fatalf("%v", out)
			}
		},
		"DeleteSubscription": func(t *testing.T) {
			other := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "my-app", "url": "`+rcv.URL+`/sub", "events": ["order.created"]}`)
			list := s.ok(t, "GET", "/webhook/subscriptions?namespace=my-app&webhook_id="+other["webhookId"].(string), "")
			id := list["subscriptions"].([]any)[0].(map[string]any)["id"].(string)
			s.ok(t, "DELETE", "/webhook/subscriptions/"+id+"?namespace=my-app", "")
		},
		"RenderTemplate": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/subscriptions/render-template", `{"template": "{\"id\": {{json .user_id}}}", "payload": {"user_id": "u1"}}`)
			if out["body"] != `{"id": "u1"}` {
				t.Fatalf("%v", out)
			}
		},
		"TestFilter": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/subscriptions/test-filter", `{"filter": "payload.user_id == \"u1\"", "payload": {"user_id": "u1"}}`)
			if out["matched"] != true {
				t.Fatalf("%v", out)
			}
		},
		"GetDelivery": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/deliveries/"+deliveryID+"?namespace=my-app", "")
			if len(out["delivery"].(map[string]any)["attempts"].([]any)) != 1 {
				t.Fatalf("%v", out)
			}
		},
		"RetryDelivery": func(t *testing.T) {
			s.ok(t, "POST", "/webhook/deliveries/"+deliveryID+"/retry", `{"namespace": "my-app"}`)
		},
		"RetryFailedDeliveries": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/deliveries/retry-failed", `{"namespace": "my-app", "webhookId": "`+webhookID+`", "since": "2020-01-01T00:00:00Z"}`)
			if out["retried"] != nil && out["retried"] != 0.0 {
				t.Fatalf("%v", out)
			}
		},
		"GetWebhookHealth": func(t *testing.T) {
			// The route as the README shows it, verbatim but for the id.
			out := s.ok(t, "GET", "/webhook/health/"+webhookID+"?namespace=my-app", "")
			if out["healthStatus"] != "healthy" || out["successRate"] != 100.0 {
				t.Fatalf("%v", out)
			}
		},
		"GetHealthSummary": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/health?namespace=my-app", "")
			if out["webhooksByStatus"] == nil {
				t.Fatalf("%v", out)
			}
		},
		"ListNamespaces": func(t *testing.T) {
			out := s.ok(t, "GET", "/webhook/namespaces", "")
			if ns := out["namespaces"].([]any); len(ns) != 1 || ns[0].(map[string]any)["namespace"] != "my-app" || out["access"].(map[string]any)["allNamespaces"] != true {
				t.Fatalf("%v", out)
			}
		},
		"CreatePortalToken": func(t *testing.T) {
			out := s.ok(t, "POST", "/webhook/portal-tokens", `{"namespace": "my-app", "capabilities": ["read"], "ttlSeconds": 600}`)
			token, _ := out["token"].(string)
			if !strings.HasPrefix(token, transport.PortalTokenPrefix) || out["expiresAt"] == nil {
				t.Fatalf("%v", out)
			}
			s.ok(t, "GET", "/webhook/webhooks/"+webhookID+"?namespace=my-app", "", "Authorization", "Bearer "+token)
		},
	}
	for method := range annotatedRoutes(t) {
		if _, ok := checks[method]; !ok {
			t.Errorf("the REST route of %s is not exercised by TestRESTRoutes", method)
		}
	}
	// In name order: some checks build on others (Create before Update).
	for _, method := range slices.Sorted(maps.Keys(checks)) {
		t.Run(method, checks[method])
	}
}

func TestRESTErrors(t *testing.T) {
	t.Parallel()

	const key = "rest-admin-key-0123456789"
	const scoped = "rest-tenant-key-0123456789"
	s := newTestServer(t, transport.WithAPIKeys(transport.APIKey{Key: key}, transport.APIKey{Key: scoped, Namespaces: []string{"acme"}}))
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     float64 // google.rpc.Code
	}{
		{"NoKey", "GET", "/webhook/webhooks", "", nil, http.StatusUnauthorized, 16},
		{"BearerKey", "GET", "/webhook/webhooks", "", []string{"Authorization", "Bearer " + key}, http.StatusOK, 0},
		{"ScopedOtherNamespace", "GET", "/webhook/webhooks?namespace=other", "", []string{"X-Api-Key", scoped}, http.StatusForbidden, 7},
		{"ScopedOwnNamespace", "GET", "/webhook/webhooks?namespace=acme", "", []string{"X-Api-Key", scoped}, http.StatusOK, 0},
		{"InvalidArgument", "GET", "/webhook/webhooks/not-an-id", "", []string{"X-Api-Key", key}, http.StatusBadRequest, 3},
		{"NotFound", "GET", "/webhook/health/wh_01aaaaaaaaaaaaaaaaaaaaaaaa?namespace=my-app", "", []string{"X-Api-Key", key}, http.StatusNotFound, 5},
		{"AlreadyExists", "POST", "/webhook/event-types", `{"name": "dup.type"}`, []string{"X-Api-Key", key}, http.StatusConflict, 6},
		{"FailedPrecondition", "POST", "/webhook/events", `{"event": "inactive.type", "payload": {}}`, []string{"X-Api-Key", key}, http.StatusBadRequest, 9},
	}
	s.ok(t, "POST", "/webhook/event-types", `{"name": "dup.type"}`, "X-Api-Key", key)
	s.ok(t, "POST", "/webhook/event-types", `{"name": "inactive.type", "active": false}`, "X-Api-Key", key)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := s.rest(t, tt.method, tt.path, tt.body, tt.header...)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, out)
			}
			if tt.code != 0 && (out["code"] != tt.code || out["message"] == "") {
				t.Fatalf("error body %v, want code %v and a message", out, tt.code)
			}
		})
	}
}
