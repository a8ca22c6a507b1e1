package worker

import (
	"context"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// Every Sparrow job is built here, so that each carries its trace context
// and its queue, priority and uniqueness are decided once.

// DeliverBatchMax bounds the deliveries of one delivery job: a job's
// fetch, load and completion are shared by its deliveries, and its attempts
// run side by side.
const DeliverBatchMax = 500

// bulkJobDeliveries is the most deliveries a job carries at River's
// default priority. A job carrying more is a backlog's (a batch fanned out,
// a resumed webhook's waiting deliveries, a bulk retry), and goes at
// priority 2, which River fetches after the jobs of single pushes and
// retries: those then don't wait behind a backlog's jobs to be fetched,
// whatever the order they were made in. With another namespace owing
// 100,000 deliveries or more, a quiet namespace's jobs waited 12 ms at p99
// to be fetched, and 6.7–8.9 ms since (docs/performance.md).
const bulkJobDeliveries = 100

// DeliverJobMaxAttempts is River's attempt limit of a delivery job. Retries
// of the HTTP request are Sparrow's (snoozes, which spend no River attempt);
// River's count only grows when recording fails, say while the database is
// down, and must not run out before the database is back.
const DeliverJobMaxAttempts = 100

// DeliverJobs returns the jobs for refs: deliveries of one webhook at the
// same attempt count, and all manual or none, share jobs of up to
// DeliverBatchMax, to run at `at` (zero: at once), those of more than
// bulkJobDeliveries at priority 2. The jobs carry ctx's trace context, so
// their attempts join its trace.
func DeliverJobs(ctx context.Context, queue string, refs []store.DeliveryRef, at time.Time) []river.InsertManyParams {
	type key struct {
		webhookID string
		attempted int
		manual    bool
	}
	var order []key
	groups := map[key][]string{}
	namespaces := map[string]string{}
	for _, r := range refs {
		namespaces[r.WebhookID] = r.Namespace
		k := key{r.WebhookID, r.AttemptCount, r.Manual}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r.ID)
	}
	opts := &river.InsertOpts{Queue: queue, MaxAttempts: DeliverJobMaxAttempts, Metadata: telemetry.JobMetadata(ctx), ScheduledAt: at}
	bulk := *opts
	bulk.Priority = 2
	var params []river.InsertManyParams
	for _, k := range order {
		for chunk := range slices.Chunk(groups[k], DeliverBatchMax) {
			jobOpts := opts
			if len(chunk) > bulkJobDeliveries {
				jobOpts = &bulk
			}
			params = append(params, river.InsertManyParams{
				Args: riverworkers.DeliverArgs{
					WebhookID: k.webhookID, Namespace: namespaces[k.webhookID], DeliveryIDs: chunk, Attempted: k.attempted, Manual: k.manual,
				},
				InsertOpts: jobOpts,
			})
		}
	}
	return params
}

// FanoutJob returns the job fanning out round `round` of events eventIDs,
// carrying ctx's trace context so that fan-out and deliveries join it.
func FanoutJob(ctx context.Context, queue string, eventIDs []string, round int) river.InsertManyParams {
	return river.InsertManyParams{
		Args:       riverworkers.FanoutArgs{EventIDs: eventIDs, Round: round},
		InsertOpts: &river.InsertOpts{Queue: queue, Metadata: telemetry.JobMetadata(ctx)},
	}
}

// UnparkJob returns the job sending a resumed webhook's waiting deliveries.
func UnparkJob(ctx context.Context, queue, webhookID string) river.InsertManyParams {
	return river.InsertManyParams{
		Args:       riverworkers.UnparkArgs{WebhookID: webhookID},
		InsertOpts: &river.InsertOpts{Queue: queue, Metadata: telemetry.JobMetadata(ctx)},
	}
}

// ResealJob returns the job re-sealing secrets and headers with the
// current key; one runs at a time (riverworkers.ResealArgs.InsertOpts).
func ResealJob(queue string) river.InsertManyParams {
	return river.InsertManyParams{Args: riverworkers.ResealArgs{}, InsertOpts: &river.InsertOpts{Queue: queue}}
}

// sweepOpts are the fan-out sweep's insert options.
func sweepOpts(queue string) *river.InsertOpts { return &river.InsertOpts{Queue: queue} }
