package worker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// TestDeliverJobsPriority: a backlog's jobs (more than bulkJobDeliveries
// deliveries) go at priority 2, fetched after those of single pushes and
// retries, which keep River's default.
func TestDeliverJobsPriority(t *testing.T) {
	t.Parallel()

	refs := func(webhookID string, n int) []store.DeliveryRef {
		out := make([]store.DeliveryRef, n)
		for i := range out {
			out[i] = store.DeliveryRef{ID: fmt.Sprintf("dlv_%s_%d", webhookID, i), WebhookID: webhookID, Namespace: "a"}
		}
		return out
	}
	in := append(append(refs("wh_small", bulkJobDeliveries), refs("wh_bulk", bulkJobDeliveries+1)...), refs("wh_huge", DeliverBatchMax+1)...)
	jobs := DeliverJobs(context.Background(), "q", in, time.Time{})
	want := []struct {
		webhookID  string
		deliveries int
		priority   int
	}{
		{"wh_small", bulkJobDeliveries, 0},
		{"wh_bulk", bulkJobDeliveries + 1, 2},
		{"wh_huge", DeliverBatchMax, 2},
		{"wh_huge", 1, 0}, // the rest of a backlog, alone in its job
	}
	if len(jobs) != len(want) {
		t.Fatalf("%d jobs, want %d", len(jobs), len(want))
	}
	for i, w := range want {
		args := jobs[i].Args.(riverworkers.DeliverArgs)
		if args.WebhookID != w.webhookID || len(args.DeliveryIDs) != w.deliveries || jobs[i].InsertOpts.Priority != w.priority ||
			jobs[i].InsertOpts.Queue != "q" || jobs[i].InsertOpts.MaxAttempts != DeliverJobMaxAttempts {
			t.Errorf("job %d: %s with %d deliveries, %+v; want %s with %d at priority %d",
				i, args.WebhookID, len(args.DeliveryIDs), jobs[i].InsertOpts, w.webhookID, w.deliveries, w.priority)
		}
	}
}
