// Package riverworkers holds Sparrow's River jobs (fan-out, delivery,
// resumption of waiting deliveries, secret re-sealing, retention) and the
// poller of the fan-out queue single pushes write to.
//
// Hosts do not call this package: sparrow.Engine.AddWorkers registers these
// workers with the Config the engine assembles. It is public so that hosts
// can recognise Sparrow's jobs by kind in River's UI, middleware and
// queries. Job arguments carry identifiers only; the data lives in Sparrow's
// tables.
package riverworkers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/sync/semaphore"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/telemetry"
)

// FanoutArgs asks for events to be fanned out to their subscribers.
type FanoutArgs struct {
	EventIDs []string `json:"event_ids"`
	// Round is the fan-out round of the events this job performs: 0 for the
	// push, n for the n-th repush. A job run twice finds its round done.
	Round int `json:"round,omitempty"`
}

// Kind is FanoutArgs' River job kind.
func (FanoutArgs) Kind() string { return "sparrow_fanout" }

// DeliverArgs asks for the next attempt of deliveries to one webhook, all
// at the same attempt count.
type DeliverArgs struct {
	WebhookID   string `json:"webhook_id"`
	DeliveryIDs IDList `json:"delivery_ids"`
	// Attempted is how many attempts the deliveries had made when the job
	// was inserted. A delivery whose count has moved on belongs to a later
	// job, so no delivery is ever attempted by two jobs at once.
	Attempted int `json:"attempted"`
	// DeliveryID is the one delivery of a job inserted by Sparrow 0.1,
	// which carried no more: such a job takes the delivery as it finds it.
	DeliveryID string `json:"delivery_id,omitempty"`
}

// IDList is a list of ids kept in a job's arguments as one comma-separated
// JSON string: River indexes every value of a job's arguments (a GIN
// index), and one string costs one entry where a JSON array costs one per
// id.
type IDList []string

// MarshalJSON encodes l as one string.
func (l IDList) MarshalJSON() ([]byte, error) { return json.Marshal(strings.Join(l, ",")) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a JSON array of ids.
func (l *IDList) UnmarshalJSON(data []byte) error {
	var joined string
	if err := json.Unmarshal(data, &joined); err != nil {
		return json.Unmarshal(data, (*[]string)(l))
	}
	*l = nil
	if joined != "" {
		*l = strings.Split(joined, ",")
	}
	return nil
}

// Kind is DeliverArgs' River job kind.
func (DeliverArgs) Kind() string { return "sparrow_deliver" }

// UnparkArgs asks for a resumed webhook's waiting deliveries to be sent.
type UnparkArgs struct {
	WebhookID string `json:"webhook_id"`
}

// Kind is UnparkArgs' River job kind.
func (UnparkArgs) Kind() string { return "sparrow_unpark" }

// ResealArgs asks for webhook secrets to be re-sealed with the engine's
// current key.
type ResealArgs struct{}

// Kind is ResealArgs' River job kind.
func (ResealArgs) Kind() string { return "sparrow_reseal_secrets" }

// InsertOpts makes one reseal job at a time: starting processes each ask for
// one, and the one already queued or running answers them all.
func (ResealArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning,
		rivertype.JobStateScheduled,
	}}}
}

// ResealBatch bounds the secrets one reseal transaction seals.
const ResealBatch = 500

// DeliverJobMaxAttempts is River's attempt limit of a delivery job. Retries
// of the HTTP request are Sparrow's (snoozes, which spend no River attempt);
// River's count only grows when recording fails, say while the database is
// down, and must not run out before the database is back.
const DeliverJobMaxAttempts = 100

// Hooks are the host's callbacks, run after the change they report has
// committed, in the worker that caused it.
type Hooks struct {
	OnDeliveryExhausted func(context.Context, delivery.Exhausted)
	OnHealthChange      func(context.Context, health.Transition)
	OnWebhookDisabled   func(context.Context, health.Transition)
}

// Config is what the workers need from the engine.
type Config struct {
	Backoff    delivery.Backoff
	CheckRetry delivery.CheckRetry
	// HealthThresholds decide webhooks' health states.
	HealthThresholds health.Thresholds
	// HealthTracking counts attempts into webhooks' health.
	HealthTracking bool
	Hooks          Hooks
	Logger         *slog.Logger
	// MaxAttempts bounds the delivery attempts running at once in this
	// process.
	MaxAttempts int
	// MaxJobsPerWebhook bounds the delivery jobs of one webhook running at
	// once in this process: its share of the workers.
	MaxJobsPerWebhook int
	// MaxConcurrentPerWebhook bounds the attempts to one webhook running at
	// once in this process.
	MaxConcurrentPerWebhook int
	Now                     func() time.Time
	Pool                    *pgxpool.Pool
	Queue                   string
	// Retention says how long finished history is kept.
	Retention Retention
	Schema    string
	// SecretKeys opens sealed webhook secrets; nil when they are stored in
	// the clear.
	SecretKeys *secretbox.Keyring
	Sender     *delivery.Sender
	// Stopping returns a channel closed when the host shuts down: delivery
	// jobs then start no more attempts.
	Stopping func() <-chan struct{}
	// Telemetry is the engine's tracer and instruments.
	Telemetry *telemetry.Telemetry
	// TemplateTimeout bounds one render of a subscription's template.
	TemplateTimeout time.Duration
}

// Added is the set of workers Add registered.
type Added struct{ base *base }

// PollFanoutQueue starts the fan-out queue's poller for client now, rather
// than when client works its first fan-out or sweep job (River starts
// periodic jobs up to a second after the client). Polling ends with client.
func (a *Added) PollFanoutQueue(client *river.Client[pgx.Tx]) { a.base.ensurePoller(client) }

// Add registers Sparrow's workers in workers.
func Add(workers *river.Workers, cfg *Config) (*Added, error) {
	if cfg.MaxAttempts < 1 || cfg.MaxConcurrentPerWebhook < 1 || cfg.MaxJobsPerWebhook < 1 {
		return nil, errors.New("riverworkers: MaxAttempts, MaxConcurrentPerWebhook and MaxJobsPerWebhook must be at least 1")
	}
	if cfg.Pool == nil || cfg.Sender == nil || cfg.Stopping == nil || cfg.Now == nil || cfg.Backoff == nil || cfg.CheckRetry == nil || cfg.Telemetry == nil {
		return nil, errors.New("riverworkers: incomplete Config (use sparrow.Engine.AddWorkers)")
	}
	base := &base{
		backoff:        cfg.Backoff,
		checkRetry:     cfg.CheckRetry,
		healthTracking: cfg.HealthTracking,
		hooks:          cfg.Hooks,
		fanouts:        semaphore.NewWeighted(maxFanouts),
		inflight:       newInflight(cfg.MaxAttempts, cfg.MaxConcurrentPerWebhook, cfg.MaxJobsPerWebhook),
		logger:         cmp.Or(cfg.Logger, slog.Default()),
		now:            cfg.Now,
		pool:           cfg.Pool,
		queue:          cfg.Queue,
		retention:      cfg.Retention,
		schema:         dbutil.Schema(cfg.Schema),
		secretKeys:     cfg.SecretKeys,
		sender:         cfg.Sender,
		stopping:       cfg.Stopping,
		telemetry:      cfg.Telemetry,
		templates:      newTemplateCache(cfg.TemplateTimeout),
		thresholds:     cfg.HealthThresholds.WithDefaults(),
	}
	base.recorder = newRecorder(base)
	return &Added{base}, errors.Join(
		river.AddWorkerSafely(workers, &fanoutWorker{base: base}),
		river.AddWorkerSafely(workers, &fanoutSweepWorker{base: base}),
		river.AddWorkerSafely(workers, &deliverWorker{base: base}),
		river.AddWorkerSafely(workers, &unparkWorker{base: base}),
		river.AddWorkerSafely(workers, &resealWorker{base: base}),
		river.AddWorkerSafely(workers, &retentionWorker{base: base}),
	)
}

// DeliverBatchMax bounds the deliveries of one delivery job: a job's
// fetch, load and completion are shared by its deliveries, and its attempts
// run side by side.
const DeliverBatchMax = 500

// DeliverJobs returns the insert parameters of jobs for refs: deliveries of
// one webhook at the same attempt count share jobs of up to
// DeliverBatchMax, to run at `at` (zero: at once). The jobs carry ctx's
// trace context, so their attempts join its trace.
func DeliverJobs(ctx context.Context, queue string, refs []store.DeliveryRef, at time.Time) []river.InsertManyParams {
	type key struct {
		webhookID string
		attempted int
	}
	var order []key
	groups := map[key][]string{}
	for _, r := range refs {
		k := key{r.WebhookID, r.AttemptCount}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r.ID)
	}
	opts := &river.InsertOpts{Queue: queue, MaxAttempts: DeliverJobMaxAttempts, Metadata: telemetry.JobMetadata(ctx), ScheduledAt: at}
	var params []river.InsertManyParams
	for _, k := range order {
		for chunk := range slices.Chunk(groups[k], DeliverBatchMax) {
			params = append(params, river.InsertManyParams{
				Args:       DeliverArgs{WebhookID: k.webhookID, DeliveryIDs: chunk, Attempted: k.attempted},
				InsertOpts: opts,
			})
		}
	}
	return params
}

// base is what every worker shares.
type base struct {
	backoff        delivery.Backoff
	checkRetry     delivery.CheckRetry
	healthTracking bool
	hooks          Hooks
	// fanouts bounds the fan-out jobs running their transactions at once
	// in this process (see maxFanouts).
	fanouts  *semaphore.Weighted
	inflight *inflight
	logger   *slog.Logger
	now      func() time.Time
	// pollers holds the River clients whose process polls the fan-out
	// queue.
	pollers    sync.Map // *river.Client[pgx.Tx] -> struct{}
	pool       *pgxpool.Pool
	queue      string
	recorder   *recorder
	retention  Retention
	schema     dbutil.Schema
	secretKeys *secretbox.Keyring
	sender     *delivery.Sender
	stopping   func() <-chan struct{}
	telemetry  *telemetry.Telemetry
	templates  *templateCache
	thresholds health.Thresholds
}

// clock returns the time truncated to PostgreSQL's precision, so values
// read back compare equal to values written.
func (b *base) clock() time.Time { return b.now().UTC().Truncate(time.Microsecond) }
