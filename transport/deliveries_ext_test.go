package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// TestDeliveryFiltersOverREST lists deliveries by event type, HTTP status
// and error class through the query parameters the proto's annotations
// give them, counts a bulk retry with a dry run, and lists events without
// Sparrow's own.
func TestDeliveryFiltersOverREST(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	var requests atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	up, _ := receiver(t)

	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.created"}`)
	s.ok(t, "POST", "/webhook/event-types", `{"name": "order.paid"}`)
	downID := s.ok(t, "POST", "/webhook/webhooks",
		`{"namespace": "shop", "url": "`+down.URL+`", "events": ["order.created", "order.paid"], "maxAttempts": 1}`)["webhookId"].(string)
	s.ok(t, "POST", "/webhook/webhooks", `{"namespace": "shop", "url": "`+up.URL+`", "events": ["order.created", "order.paid"]}`)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, name := range []string{"order.created", "order.paid"} {
		s.ok(t, "POST", "/webhook/events", `{"namespace": "shop", "event": "`+name+`", "payload": {}}`)
	}
	// Four deliveries, each ended: two succeeded, two failed with a 503.
	list := func(query string) []map[string]any {
		t.Helper()
		var out []map[string]any
		listed, _ := s.ok(t, "GET", "/webhook/deliveries?namespace=shop&"+query, "")["deliveries"].([]any) // left out when empty
		for _, d := range listed {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if len(list("status=failed")) == 2 && len(list("status=succeeded")) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not ended: %v", list(""))
		}
	}

	got := list("event_name=order.paid&http_status=503&error_class=http_5xx")
	if len(got) != 1 || got[0]["webhookId"] != downID || got[0]["eventName"] != "order.paid" || got[0]["lastStatusCode"] != 503.0 {
		t.Fatalf("filtered by event, status and class: %v", got)
	}
	if got := list("http_status=200"); len(got) != 2 {
		t.Fatalf("%d deliveries whose latest attempt got 200, want 2", len(got))
	}
	if got := list("error_class=timeout"); len(got) != 0 {
		t.Fatalf("%d timed out deliveries, want none", len(got))
	}
	for _, query := range []string{"http_status=700", "http_status=-1", "error_class=http_503", "event_name=no%20spaces"} {
		code, out := s.rest(t, "GET", "/webhook/deliveries?namespace=shop&"+query, "")
		if code != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", query, code, out)
		}
	}
	_, out := s.rest(t, "GET", "/webhook/deliveries?namespace=shop&error_class=http_503", "")
	if msg, _ := out["message"].(string); !strings.Contains(msg, "timeout, dns, tls, connection_refused") {
		t.Errorf("an unknown class's error %q does not list the classes", msg)
	}

	// A dry run counts, and sends nothing; the real call sends one manual
	// attempt each.
	sent := requests.Load()
	dry := s.ok(t, "POST", "/webhook/deliveries/retry-failed",
		`{"namespace": "shop", "webhookId": "`+downID+`", "since": "`+since+`", "dryRun": true}`)
	if dry["retried"] != 2.0 {
		t.Fatalf("dry run: %v, want 2 retried", dry)
	}
	if got := list("status=failed"); len(got) != 2 || requests.Load() != sent {
		t.Fatalf("after a dry run: %d failed, %d more requests", len(got), requests.Load()-sent)
	}
	// A dry run is checked as the call is: since is required.
	_, err := s.clients().deliveries.RetryFailedDeliveries(context.Background(), &pb.RetryFailedDeliveriesRequest{
		Namespace: "shop", WebhookId: downID, DryRun: true,
	})
	wantCode(t, err, connect.CodeInvalidArgument)
	retried := s.ok(t, "POST", "/webhook/deliveries/retry-failed", `{"namespace": "shop", "webhookId": "`+downID+`", "since": "`+since+`"}`)
	if retried["retried"] != 2.0 {
		t.Fatalf("retry: %v", retried)
	}
	for deadline := time.Now().Add(20 * time.Second); requests.Load() < sent+2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d manual attempts made, want 2", requests.Load()-sent)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d := list("webhook_id=" + downID + "&event_name=order.created")[0]
		if d["status"] == "failed" && d["attemptCount"] == 1.0 && d["maxAttempts"] == 1.0 {
			full := s.ok(t, "GET", "/webhook/deliveries/"+d["id"].(string)+"?namespace=shop", "")["delivery"].(map[string]any)
			if attempts := full["attempts"].([]any); len(attempts) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the manual attempt: %v, want failed, 1 of 1 attempts, 2 recorded", d)
		}
	}

	// The 503s used up their attempts: Sparrow raised its own events.
	names := func(query string) map[string]bool {
		out := map[string]bool{}
		listed, _ := s.ok(t, "GET", "/webhook/events?namespace=shop"+query, "")["events"].([]any)
		for _, ev := range listed {
			out[ev.(map[string]any)["eventName"].(string)] = true
		}
		return out
	}
	if all := names(""); !all["sparrow.delivery.exhausted"] {
		t.Fatalf("events: %v, want Sparrow's alerts among them", all)
	}
	if shown := names("&hide_system_events=true"); len(shown) != 2 || !shown["order.created"] || !shown["order.paid"] {
		t.Fatalf("events without Sparrow's own: %v", shown)
	}
}
