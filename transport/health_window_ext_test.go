package transport_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// TestWebhookHealthWindowOverAPI asks for a webhook's health over each
// window through Connect and REST: window_seconds is echoed, status_counts
// count the attempts by HTTP status, other windows are refused with
// InvalidArgument, and a paused webhook's health_status is "paused".
func TestWebhookHealthWindowOverAPI(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients()
	var requests atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if requests.Add(1) > 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(rcv.Close)
	if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	wh, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		Namespace: "my-app", URL: rcv.URL, Events: []string{"order.created"}, MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: "my-app", Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(seconds int64) (*pb.GetWebhookHealthResponse, error) {
		return c.health.GetWebhookHealth(ctx, &pb.GetWebhookHealthRequest{WebhookId: wh.ID, Namespace: "my-app", WindowSeconds: seconds})
	}
	var day *pb.GetWebhookHealthResponse
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if day, err = get(86400); err != nil {
			t.Fatal(err)
		}
		if day.GetAttempts() == 2 || time.Now().After(deadline) {
			break
		}
	}
	var timelineAttempts int32
	for _, p := range day.GetTimeline() {
		timelineAttempts += p.GetAttempts()
	}
	if day.GetWindowSeconds() != 86400 || day.GetAttempts() != 2 || timelineAttempts != 2 {
		t.Fatalf("a day: window %d s, %d attempts, %d in the timeline; want 86400, 2, 2", day.GetWindowSeconds(), day.GetAttempts(), timelineAttempts)
	}
	if diff := cmp.Diff(map[string]int32{"200": 1, "503": 1}, day.GetStatusCounts()); diff != "" {
		t.Fatalf("status_counts (-want +got):\n%s", diff)
	}
	for seconds, want := range map[int64]int64{0: 3600, 3600: 3600, 604800: 604800} {
		res, err := get(seconds)
		if err != nil || res.GetWindowSeconds() != want || res.GetAttempts() != 2 {
			t.Fatalf("window_seconds %d: %v, %v; want window %d with 2 attempts", seconds, res, err, want)
		}
	}
	// 604800 + 2^55 seconds in nanoseconds wraps round to a week.
	for _, seconds := range []int64{-1, 60, 7200, 2592000, 604800 + 1<<55} {
		_, err := get(seconds)
		wantCode(t, err, connect.CodeInvalidArgument)
		if !strings.Contains(err.Error(), "window_seconds") || !strings.Contains(err.Error(), "604800") {
			t.Fatalf("window_seconds %d: %v; want the field and the windows allowed named", seconds, err)
		}
	}

	out := s.ok(t, "GET", "/webhook/health/"+wh.ID+"?namespace=my-app&window_seconds=604800", "")
	if out["windowSeconds"] != "604800" || !cmp.Equal(map[string]any{"200": 1.0, "503": 1.0}, out["statusCounts"]) {
		t.Fatalf("REST, a week: %v", out)
	}
	if code, out := s.rest(t, "GET", "/webhook/health/"+wh.ID+"?namespace=my-app&window_seconds=7200", ""); code != http.StatusBadRequest {
		t.Fatalf("REST, two hours: %d %v; want 400", code, out)
	}

	if _, err := s.eng.PauseWebhook(ctx, "my-app", wh.ID); err != nil {
		t.Fatal(err)
	}
	paused, err := get(604800)
	if err != nil || paused.GetHealthStatus() != "paused" || paused.GetStatusReason() != "paused by request" || paused.GetAttempts() != 2 {
		t.Fatalf("paused: %v, %v", paused, err)
	}
	sum, err := c.health.GetHealthSummary(ctx, &pb.GetHealthSummaryRequest{Namespace: "my-app"})
	if err != nil || !cmp.Equal(map[string]int32{"paused": 1}, sum.GetWebhooksByStatus()) {
		t.Fatalf("summary of a paused webhook: %v, %v", sum, err)
	}
}
