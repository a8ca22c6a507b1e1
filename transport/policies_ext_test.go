package transport_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPoliciesOverREST sets a webhook's retry schedule and rate limit and
// pushes events with ordering keys through REST, in the API's JSON names,
// and reads them back; bad values are refused naming the field, and change
// nothing.
func TestPoliciesOverREST(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rcv.Close)
	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.created"}`)
	out := s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+rcv.URL+`", "events": ["order.created"],
		"retrySchedule": ["5s", "5m", "30m", "2h"], "rateLimitPerSecond": 50}`)
	wh := out["webhook"].(map[string]any)
	id := wh["id"].(string)
	if got := fmt.Sprint(wh["retrySchedule"]); got != "[5s 5m 30m 2h]" {
		t.Errorf("retrySchedule %s", got)
	}
	if wh["rateLimitPerSecond"] != 50.0 || wh["maxAttempts"] != 5.0 {
		t.Errorf("rateLimitPerSecond %v, maxAttempts %v; want 50 and the schedule's length plus one", wh["rateLimitPerSecond"], wh["maxAttempts"])
	}

	out = s.ok(t, "PATCH", "/webhook/webhooks/"+id, `{"namespace": "shop", "clearRetrySchedule": true, "rateLimitPerSecond": 0}`)
	wh = out["webhook"].(map[string]any)
	if wh["retrySchedule"] != nil || wh["rateLimitPerSecond"] != nil {
		t.Errorf("after clearing: retrySchedule %v, rateLimitPerSecond %v; want both absent", wh["retrySchedule"], wh["rateLimitPerSecond"])
	}

	for _, bad := range []struct{ body, field string }{
		{`{"namespace": "shop", "retrySchedule": ["5s", "500ms"]}`, "retry_schedule[1]"},
		{`{"namespace": "shop", "retrySchedule": ["25h"]}`, "retry_schedule[0]"},
		{`{"namespace": "shop", "retrySchedule": ["soon"]}`, "retry_schedule[0]"},
		{`{"namespace": "shop", "retrySchedule": [` + strings.Repeat(`"1m", `, 20) + `"1m"]}`, "retry_schedule"},
		{`{"namespace": "shop", "rateLimitPerSecond": 10001}`, "rate_limit_per_second"},
		{`{"namespace": "shop", "rateLimitPerSecond": -1}`, "rate_limit_per_second"},
		{`{"namespace": "shop", "retrySchedule": ["5s"], "clearRetrySchedule": true}`, "retry_schedule"},
	} {
		status, out := s.rest(t, "PATCH", "/webhook/webhooks/"+id, bad.body)
		if msg, _ := out["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, bad.field) {
			t.Errorf("%s: %d %v, want 400 naming %s", bad.body, status, out, bad.field)
		}
	}
	status, out := s.rest(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+rcv.URL+`", "retrySchedule": ["0s"]}`)
	if status != http.StatusBadRequest {
		t.Errorf("registering with a 0s retry: %d %v", status, out)
	}
	after := s.ok(t, "GET", "/webhook/webhooks/"+id+"?namespace=shop", "")["webhook"].(map[string]any)
	if after["retrySchedule"] != nil || after["rateLimitPerSecond"] != nil {
		t.Errorf("refused updates changed the webhook: %v", after)
	}
	if list := s.ok(t, "GET", "/webhook/webhooks?namespace=shop", ""); len(list["webhooks"].([]any)) != 1 {
		t.Errorf("a refused registration stored a webhook: %v", list)
	}

	pushed := s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {"n": 1}, "orderingKey": "order-42"}`)
	ev := s.ok(t, "GET", "/webhook/events/"+pushed["eventId"].(string)+"?namespace=shop", "")
	if ev["event"].(map[string]any)["orderingKey"] != "order-42" {
		t.Errorf("pushed event %v, want orderingKey order-42", ev)
	}
	s.ok(t, "POST", "/webhook/events/batch", `{"events": [
		{"namespace": "shop", "event": "order.created", "payload": {"n": 2}, "orderingKey": "order-42"},
		{"namespace": "shop", "event": "order.created", "payload": {"n": 3}}]}`)
	status, out = s.rest(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "order.created", "payload": {}, "orderingKey": "`+strings.Repeat("k", 257)+`"}`)
	if msg, _ := out["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, "ordering_key") {
		t.Errorf("a 257-byte ordering key: %d %v", status, out)
	}

	var keys []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		list := s.ok(t, "GET", "/webhook/deliveries?namespace=shop&status=succeeded", "")
		items, _ := list["deliveries"].([]any)
		if len(items) == 3 {
			for _, item := range items {
				d := item.(map[string]any)
				key, _ := d["orderingKey"].(string)
				keys = append(keys, key)
			}
			break
		}
		if time.Now().After(deadline) {
			raw, _ := json.Marshal(list)
			t.Fatalf("deliveries: %s", raw)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"", "order-42", "order-42"}) {
		t.Errorf("deliveries' ordering keys %q", keys)
	}
}
