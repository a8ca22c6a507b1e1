package worker

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/riverworkers"
)

// A single push writes its event and a row in the fan-out queue, and no
// River job: inserting a River job beside the host's write cost more than
// the write itself. Every process working Sparrow's queue runs a poller
// that takes the queue in batches. The poller starts when Engine.Start
// starts its client, or with the first delivery, fan-out or sweep job a
// host's client works (the periodic sweep runs at the client's start), and
// ends with the River client.

// FanoutSweepInterval is how often the sweep job runs: the longest a
// queued event waits when no process polls (say, just after the one that
// did died). Every process that works a delivery, fan-out or sweep job
// polls from then on, so that is rare, and a sweep a second would leave
// 86,400 completed jobs a day in River's table.
const FanoutSweepInterval = 10 * time.Second

// FanoutQueueBatch bounds the queued events one fan-out transaction takes.
const FanoutQueueBatch = 1000

const (
	// pollMin is the pause between polls while events keep coming; it
	// doubles while the queue stays empty, up to pollIdle.
	pollMin  = 5 * time.Millisecond
	pollIdle = 50 * time.Millisecond
	// pollBackoff is the longest pause after failures.
	pollBackoff = 5 * time.Second
)

type fanoutSweepWorker struct {
	river.WorkerDefaults[riverworkers.FanoutSweepArgs]
	poller  *poller
	clients *clients
}

func (w *fanoutSweepWorker) Work(ctx context.Context, _ *river.Job[riverworkers.FanoutSweepArgs]) error {
	client, err := w.clients.fromJob(ctx)
	if err != nil {
		return err
	}
	return w.poller.drain(ctx, client)
}

// poller takes the fan-out queue for the River clients of its process.
type poller struct {
	db       database
	fanOuter *fanOuter
	queue    string
	now      func() time.Time
	logger   *slog.Logger
	tracer   trace.Tracer
}

// poll takes the fan-out queue until ctx is done: at once while events
// keep coming, less often while none do, and backing off while it fails.
func (b *poller) poll(ctx context.Context, client *river.Client[pgx.Tx]) {
	wait, failures := time.Duration(0), 0
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		oldest, err := store.FanoutQueueOldest(ctx, b.db.db())
		if err == nil && oldest != "" {
			err = b.drain(ctx, client)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			wait = min(pollMin<<min(failures, 10), pollBackoff)
			b.logger.ErrorContext(ctx, "sparrow: fan-out queue unavailable", slog.Any("error", err), slog.Duration("retry_in", wait))
		case oldest != "":
			failures, wait = 0, pollMin
		default:
			failures, wait = 0, min(max(2*wait, pollMin), pollIdle)
		}
		timer.Reset(wait)
	}
}

// drain takes the fan-out queue until it is empty. When a batch fails, it
// takes the events one by one, and hands an event that fails alone to a
// River job of its own, which River retries with backoff: an event whose
// fan-out keeps failing holds up no other.
func (b *poller) drain(ctx context.Context, client *river.Client[pgx.Tx]) error {
	limit := FanoutQueueBatch
	for ctx.Err() == nil {
		n, err := b.takeQueued(ctx, client, limit)
		switch {
		case err == nil && n < limit:
			return nil
		case err == nil:
		case limit > 1:
			limit = 1
			b.logger.WarnContext(ctx, "sparrow: fan-out of queued events failed; taking them one by one", slog.Any("error", err))
		default:
			id, herr := b.handOff(ctx, client)
			if herr != nil {
				return err // the database, most likely: the poller backs off
			}
			if id != "" {
				b.logger.WarnContext(ctx, "sparrow: fan-out of a queued event failed alone; a River job retries it",
					slog.String("event_id", id), slog.Any("error", err))
			}
			limit = FanoutQueueBatch
		}
	}
	return ctx.Err()
}

// takeQueued fans out up to limit queued events in one transaction and
// returns how many it took.
func (b *poller) takeQueued(ctx context.Context, client *river.Client[pgx.Tx], limit int) (int, error) {
	now := b.now()
	var queued []store.QueuedEvent
	var created []*delivery.Delivery
	var span trace.Span
	spanCtx := ctx
	err := b.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
		var err error
		if queued, err = store.EventTakeQueued(ctx, db, limit, now); err != nil || len(queued) == 0 {
			return err
		}
		spanCtx, span = b.startQueuedSpan(ctx, queued)
		events := make([]*event.Event, len(queued))
		for i, q := range queued {
			events[i] = q.Event
		}
		created, err = b.fanOuter.fanOut(spanCtx, tx, client, events, 0, now)
		return err
	})
	if span == nil {
		return 0, err
	}
	if err != nil {
		endSpan(span, err)
		return 0, err
	}
	b.fanOuter.fannedOut(spanCtx, span, created)
	span.End()
	if b.logger.Enabled(ctx, slog.LevelDebug) {
		ids := make([]string, len(queued))
		for i, q := range queued {
			ids[i] = q.ID
		}
		b.logger.DebugContext(spanCtx, "sparrow: fanned out", slog.Any("event_ids", ids), slog.Int("deliveries", len(created)))
	}
	return len(queued), nil
}

// maxSpanLinks bounds the pushes a fan-out span links to.
const maxSpanLinks = 128

// startQueuedSpan starts the span of a fan-out of queued events: a child of
// their push when they share one (always so for a single event), else a
// span of its own linked to their pushes.
func (b *poller) startQueuedSpan(ctx context.Context, queued []store.QueuedEvent) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(telemetry.AttrEventCount.Int(len(queued)))}
	shared := queued[0].TraceContext
	for _, q := range queued[1:] {
		if !bytes.Equal(q.TraceContext, shared) {
			shared = nil
			break
		}
	}
	if shared != nil {
		return b.tracer.Start(telemetry.FromJob(ctx, shared), "sparrow.fanout", opts...)
	}
	var links []trace.Link
	for _, q := range queued {
		if len(links) == maxSpanLinks {
			break
		}
		if link := trace.LinkFromContext(telemetry.FromJob(ctx, q.TraceContext)); link.SpanContext.IsValid() {
			links = append(links, link)
		}
	}
	return b.tracer.Start(ctx, "sparrow.fanout", append(opts, trace.WithNewRoot(), trace.WithLinks(links...))...)
}

// handOff moves the oldest queued event to a fan-out job of its own, which
// River retries with backoff, so that an event whose fan-out keeps failing
// holds up no other. It returns the event's id, "" if the queue was empty.
func (b *poller) handOff(ctx context.Context, client *river.Client[pgx.Tx]) (id string, err error) {
	err = b.db.inTx(ctx, func(tx pgx.Tx, db dbutil.DB) error {
		if id, err = store.FanoutQueueDequeueOldest(ctx, db); err != nil || id == "" {
			return err
		}
		_, err = client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{FanoutJob(ctx, b.queue, []string{id}, 0)})
		return err
	})
	return id, err
}
