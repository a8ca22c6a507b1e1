package sparrow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/riverworkers"
	"github.com/sparrowhq/sparrow/subscription"
)

// Defaults of the engine's options.
const (
	// QueueDefault is the River queue Sparrow's jobs run in.
	QueueDefault = "sparrow"
	// MaxWorkersDefault is how many of Sparrow's jobs, and how many delivery
	// attempts, run at once in one process. Deliveries mostly wait on the
	// network, so it is high.
	MaxWorkersDefault = 100
	// MaxConcurrentPerWebhookDefault bounds the attempts to one webhook
	// running at once in one process: a quarter of the workers, so a stalled
	// webhook leaves the rest to everyone else.
	MaxConcurrentPerWebhookDefault = MaxWorkersDefault / 4
	// SecretGracePeriodDefault is how long a rotated-out secret keeps signing.
	SecretGracePeriodDefault = 24 * time.Hour
	// ResponseBodyLimitDefault bounds the response body kept per attempt.
	ResponseBodyLimitDefault = 16 << 10
	// RetentionDefault is how long finished deliveries, their attempts and
	// their events are kept.
	RetentionDefault = 30 * 24 * time.Hour
)

// An Option configures an Engine.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	allowPrivate      bool
	allowedCIDRs      []netip.Prefix
	backoff           delivery.Backoff
	checkRetry        delivery.CheckRetry
	healthThresholds  health.Thresholds
	healthTracking    *bool
	hooks             riverworkers.Hooks
	clock             func() time.Time
	httpClient        *http.Client
	logger            *slog.Logger
	meterProvider     metric.MeterProvider
	maxConcurrent     int
	maxPayloadBytes   int
	maxWorkers        int
	queue             string
	resolver          *net.Resolver
	riverConfig       func(*river.Config)
	responseBodyLimit int
	retention         *time.Duration
	// namespaceRetention overrides retention per namespace.
	namespaceRetention map[string]time.Duration
	schema             string
	secretGracePeriod  time.Duration
	secretKeys         []SecretKey
	templateTimeout    time.Duration
	traceparent        *bool
	tracerProvider     trace.TracerProvider
}

func (c *config) withDefaults() {
	if c.clock == nil {
		c.clock = time.Now
	}
	c.logger = cmp.Or(c.logger, slog.Default())
	c.maxPayloadBytes = cmp.Or(c.maxPayloadBytes, event.MaxPayloadBytesDefault)
	c.maxWorkers = cmp.Or(c.maxWorkers, MaxWorkersDefault)
	c.maxConcurrent = cmp.Or(c.maxConcurrent, max(c.maxWorkers/4, 1))
	c.queue = cmp.Or(c.queue, QueueDefault)
	c.responseBodyLimit = cmp.Or(c.responseBodyLimit, ResponseBodyLimitDefault)
	c.secretGracePeriod = cmp.Or(c.secretGracePeriod, SecretGracePeriodDefault)
	c.templateTimeout = cmp.Or(c.templateTimeout, subscription.TemplateTimeoutDefault)
	if c.backoff == nil {
		c.backoff = delivery.DefaultBackoff
	}
	if c.checkRetry == nil {
		c.checkRetry = delivery.DefaultCheckRetry
	}
	if c.healthTracking == nil {
		c.healthTracking = ptrTo(true)
	}
	c.healthThresholds = c.healthThresholds.WithDefaults()
	if c.traceparent == nil {
		c.traceparent = ptrTo(true)
	}
	if c.retention == nil {
		c.retention = ptrTo(RetentionDefault)
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
}

func (c *config) retentionPolicy() riverworkers.Retention {
	return riverworkers.Retention{Default: *c.retention, Namespaces: c.namespaceRetention}
}

func (c *config) validate() error {
	var problems []error
	if c.maxPayloadBytes < 0 {
		problems = append(problems, fmt.Errorf("WithMaxPayloadBytes: %d is negative", c.maxPayloadBytes))
	}
	if c.maxConcurrent < 0 {
		problems = append(problems, fmt.Errorf("WithMaxConcurrentPerWebhook: %d is negative", c.maxConcurrent))
	}
	if c.maxWorkers < 0 {
		problems = append(problems, fmt.Errorf("WithMaxWorkers: %d is negative", c.maxWorkers))
	}
	if c.responseBodyLimit < 0 {
		problems = append(problems, fmt.Errorf("WithResponseBodyLimit: %d is negative", c.responseBodyLimit))
	}
	if c.secretGracePeriod < 0 {
		problems = append(problems, fmt.Errorf("WithSecretGracePeriod: %s is negative", c.secretGracePeriod))
	}
	if c.templateTimeout < 0 {
		problems = append(problems, fmt.Errorf("WithTemplateTimeout: %s is negative", c.templateTimeout))
	}
	if *c.retention < 0 {
		problems = append(problems, fmt.Errorf("WithRetention: %s is negative", *c.retention))
	}
	for _, ns := range slices.Sorted(maps.Keys(c.namespaceRetention)) {
		if _, err := validate.Namespace(ns); err != nil || ns == "" {
			problems = append(problems, fmt.Errorf("WithNamespaceRetention: namespace %q is not a namespace name", ns))
		}
		if keep := c.namespaceRetention[ns]; keep < 0 {
			problems = append(problems, fmt.Errorf("WithNamespaceRetention(%q): %s is negative", ns, keep))
		}
	}
	if err := c.healthThresholds.Validate(); err != nil {
		problems = append(problems, fmt.Errorf("WithHealthThresholds: %w", err))
	}
	return errors.Join(problems...)
}

// WithAllowPrivateNetworks lets deliveries reach loopback, private,
// link-local and other non-public addresses, which are refused by default so
// a webhook URL cannot be aimed at the host's own network. For development
// and tests; WithAllowedCIDRs is the narrower choice in production.
func WithAllowPrivateNetworks() Option {
	return optionFunc(func(c *config) { c.allowPrivate = true })
}

// WithAllowedCIDRs lets deliveries reach the given networks even though they
// are not public, such as a partner reached over a VPN.
func WithAllowedCIDRs(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config) { c.allowedCIDRs = append(c.allowedCIDRs, prefixes...) })
}

// WithClock replaces the clock the engine reads for timestamps, expiry,
// retry schedules and health windows. Default: time.Now. For tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.clock = now })
}

// WithHealthThresholds sets the thresholds that decide webhooks' health
// states and when a failing webhook is disabled. Zero fields keep their
// defaults (health.WindowDefault and the rest).
func WithHealthThresholds(t health.Thresholds) Option {
	return optionFunc(func(c *config) { c.healthThresholds = t })
}

// WithHealthTracking turns per-webhook health tracking, and with it
// auto-disable, on or off. Default: on.
func WithHealthTracking(enabled bool) Option {
	return optionFunc(func(c *config) { c.healthTracking = &enabled })
}

// WithHTTPClient replaces the client deliveries are sent with. Sparrow's own
// client refuses private addresses at dial time and never follows
// redirects; a replacement takes over both duties. Default: Sparrow's.
func WithHTTPClient(client *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = client })
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = logger })
}

// WithMeterProvider sets where the engine's metrics go: events pushed,
// deliveries by outcome and error class, attempt durations, push-to-delivery
// latency, pending deliveries, queue lag and webhooks per health state.
// Default: the global provider (otel.GetMeterProvider).
func WithMeterProvider(provider metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = provider })
}

// WithMaxConcurrentPerWebhook bounds the attempts to one webhook running at
// once in one process; deliveries beyond it wait, spending no attempt.
// Whatever it is, one webhook's jobs hold at most a quarter of the workers
// (WithMaxWorkers), so a stalled webhook leaves the rest to everyone else.
// Default: a quarter of WithMaxWorkers (MaxConcurrentPerWebhookDefault).
func WithMaxConcurrentPerWebhook(n int) Option {
	return optionFunc(func(c *config) { c.maxConcurrent = n })
}

// WithMaxPayloadBytes bounds an event payload's size. Default:
// event.MaxPayloadBytesDefault (256 KiB).
func WithMaxPayloadBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxPayloadBytes = n })
}

// WithMaxWorkers sets how many of Sparrow's jobs run at once per process, in
// the queue Queues returns, and how many delivery attempts (a delivery job
// makes the attempts of up to riverworkers.DeliverBatchMax deliveries side by
// side). Default: MaxWorkersDefault.
func WithMaxWorkers(n int) Option {
	return optionFunc(func(c *config) { c.maxWorkers = n })
}

// WithOnDeliveryExhausted registers a function called when a delivery used
// up its attempts, after that is committed. It runs in the delivery's worker:
// keep it short, or hand the work off.
func WithOnDeliveryExhausted(fn func(context.Context, delivery.Exhausted)) Option {
	return optionFunc(func(c *config) { c.hooks.OnDeliveryExhausted = fn })
}

// WithOnHealthChange registers a function called when a webhook's health
// state changes, after the change is committed. It runs in the worker whose
// attempt caused the change: keep it short, or hand the work off.
func WithOnHealthChange(fn func(context.Context, health.Transition)) Option {
	return optionFunc(func(c *config) { c.hooks.OnHealthChange = fn })
}

// WithOnWebhookDisabled registers a function called when Sparrow disables a
// webhook after sustained failure, after that is committed.
func WithOnWebhookDisabled(fn func(context.Context, health.Transition)) Option {
	return optionFunc(func(c *config) { c.hooks.OnWebhookDisabled = fn })
}

// WithQueue sets the River queue Sparrow's jobs run in. Default:
// QueueDefault.
func WithQueue(name string) Option {
	return optionFunc(func(c *config) { c.queue = name })
}

// WithTraceparent sets whether deliveries carry the W3C traceparent header,
// so a receiver's own tracing joins the trace that pushed the event.
// Default: true.
func WithTraceparent(enabled bool) Option {
	return optionFunc(func(c *config) { c.traceparent = &enabled })
}

// WithTracerProvider sets where the engine's spans go: a push (a child of the
// caller's span), its fan-out and each delivery attempt with its HTTP
// request, joined across River jobs into one trace. Default: the global
// provider (otel.GetTracerProvider).
func WithTracerProvider(provider trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = provider })
}

// WithResolver sets the resolver deliveries look destination names up with,
// such as one for split-horizon DNS. Default: the system's.
func WithResolver(resolver *net.Resolver) Option {
	return optionFunc(func(c *config) { c.resolver = resolver })
}

// WithResponseBodyLimit bounds the part of a receiver's response body kept
// with each attempt; the rest is not read. Default: ResponseBodyLimitDefault.
func WithResponseBodyLimit(n int) Option {
	return optionFunc(func(c *config) { c.responseBodyLimit = n })
}

// WithBackoff replaces the delay between attempts. Default:
// delivery.DefaultBackoff (5s, 5m, 30m, 2h, 5h, 10h, 10h with jitter, or
// the receiver's Retry-After).
func WithBackoff(backoff delivery.Backoff) Option {
	return optionFunc(func(c *config) { c.backoff = backoff })
}

// WithCheckRetry replaces the decision whether a failed attempt is retried.
// Default: delivery.DefaultCheckRetry.
func WithCheckRetry(check delivery.CheckRetry) Option {
	return optionFunc(func(c *config) { c.checkRetry = check })
}

// WithRiverConfig adjusts the River client Start runs (fetch intervals,
// stuck-job rescue, middleware, ...) after Sparrow has filled it in. Hosts
// that run their own client configure it themselves.
func WithRiverConfig(adjust func(*river.Config)) Option {
	return optionFunc(func(c *config) { c.riverConfig = adjust })
}

// WithRetention sets how long history is kept: a periodic job deletes
// deliveries finished longer ago, with their attempts; events pushed longer
// ago once none of their deliveries is left; webhooks deleted longer ago;
// and health figures older than both it and the health window. Zero keeps
// everything forever. Default: RetentionDefault.
func WithRetention(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retention = &d })
}

// WithNamespaceRetention overrides WithRetention for one namespace's
// deliveries, events and deleted webhooks; zero keeps them forever.
func WithNamespaceRetention(namespace string, d time.Duration) Option {
	return optionFunc(func(c *config) {
		if c.namespaceRetention == nil {
			c.namespaceRetention = map[string]time.Duration{}
		}
		c.namespaceRetention[namespace] = d
	})
}

// WithSchema names the PostgreSQL schema holding Sparrow's and River's
// tables, as River's Config.Schema does. Default: the connection's
// search_path. Migrate with the same schema (migrations.Config.Schema).
func WithSchema(schema string) Option {
	return optionFunc(func(c *config) { c.schema = schema })
}

// WithSecretKeys encrypts webhook secrets at rest with current (AES-256-GCM,
// a 32-byte key), and decrypts with current and previous: to rotate keys,
// make the new key current, keep the old ones as previous until
// Engine.ReencryptSecrets (run in the background by Start) has re-sealed
// every secret, then drop them. Without keys, secrets are stored in the
// clear.
func WithSecretKeys(current SecretKey, previous ...SecretKey) Option {
	return optionFunc(func(c *config) { c.secretKeys = append([]SecretKey{current}, previous...) })
}

// WithSecretGracePeriod sets how long a rotated-out secret keeps signing
// when RotateWebhookSecret is not given a period. Default:
// SecretGracePeriodDefault.
func WithSecretGracePeriod(d time.Duration) Option {
	return optionFunc(func(c *config) { c.secretGracePeriod = d })
}

// WithTemplateTimeout bounds one render of a subscription's template.
// Default: subscription.TemplateTimeoutDefault.
func WithTemplateTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.templateTimeout = d })
}

func ptrTo[T any](v T) *T { return &v }
