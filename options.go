package sparrow

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/config"
	"github.com/sparrowhq/sparrow/internal/secretbox"
)

// Defaults of the engine's options.
const (
	// QueueDefault is the River queue Sparrow's jobs run in.
	QueueDefault = config.QueueDefault
	// MaxWorkersDefault is how many of Sparrow's jobs, and how many delivery
	// attempts, run at once in one process. Deliveries mostly wait on the
	// network, so it is high.
	MaxWorkersDefault = config.MaxWorkersDefault
	// MaxConcurrentPerWebhookDefault bounds the attempts to one webhook
	// running at once in one process: a quarter of the workers, so a stalled
	// webhook leaves the rest to everyone else.
	MaxConcurrentPerWebhookDefault = config.MaxConcurrentPerWebhookDefault
	// SecretGracePeriodDefault is how long a rotated-out secret keeps signing.
	SecretGracePeriodDefault = config.SecretGracePeriodDefault
	// ResponseBodyLimitDefault bounds the response body kept per attempt.
	ResponseBodyLimitDefault = config.ResponseBodyLimitDefault
	// RetentionDefault is how long finished deliveries, their attempts and
	// their events are kept.
	RetentionDefault = config.RetentionDefault
	// StallThresholdDefault is how long pushed events may wait for fan-out,
	// with no process running Sparrow's workers, before the engine warns.
	StallThresholdDefault = config.StallThresholdDefault
)

// An Option configures an Engine.
type Option interface {
	apply(*config.Config)
}

type optionFunc func(*config.Config)

func (f optionFunc) apply(c *config.Config) { f(c) }

// WithAllowPrivateNetworks lets deliveries reach loopback, private,
// link-local and other non-public addresses, which are refused by default so
// a webhook URL cannot be aimed at the host's own network. For development
// and tests; WithAllowedCIDRs is the narrower choice in production.
func WithAllowPrivateNetworks() Option {
	return optionFunc(func(c *config.Config) { c.AllowPrivateNetworks = true })
}

// WithAllowedCIDRs lets deliveries reach the given networks even though they
// are not public, such as a partner reached over a VPN.
func WithAllowedCIDRs(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config.Config) { c.AllowedCIDRs = append(c.AllowedCIDRs, prefixes...) })
}

// WithClock replaces the clock the engine reads for timestamps, expiry,
// retry schedules and health windows. Default: time.Now. For tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config.Config) { c.Clock = now })
}

// WithHealthThresholds sets the thresholds that decide webhooks' health
// states and when a failing webhook is disabled. Zero fields keep their
// defaults (health.WindowDefault and the rest).
func WithHealthThresholds(t health.Thresholds) Option {
	return optionFunc(func(c *config.Config) { c.HealthThresholds = t })
}

// WithHealthTracking turns per-webhook health tracking, and with it
// auto-disable, on or off. Default: on.
func WithHealthTracking(enabled bool) Option {
	return optionFunc(func(c *config.Config) { c.HealthTracking = enabled })
}

// WithHTTPClient replaces the client deliveries are sent with. Sparrow's own
// client refuses private addresses at dial time and never follows
// redirects; a replacement takes over both duties. Default: Sparrow's.
func WithHTTPClient(client *http.Client) Option {
	return optionFunc(func(c *config.Config) { c.HTTPClient = client })
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config.Config) { c.Logger = logger })
}

// WithMeterProvider sets where the engine's metrics go: events pushed,
// deliveries by outcome and error class, attempt durations, push-to-delivery
// latency, pending deliveries, queue lag and webhooks per health state.
// Default: the global provider (otel.GetMeterProvider).
func WithMeterProvider(provider metric.MeterProvider) Option {
	return optionFunc(func(c *config.Config) { c.MeterProvider = provider })
}

// WithMaxConcurrentPerWebhook bounds the attempts to one webhook running at
// once in one process; deliveries beyond it wait, spending no attempt.
// Whatever it is, one webhook's jobs hold at most a quarter of the workers
// (WithMaxWorkers), so a stalled webhook leaves the rest to everyone else.
// Default: a quarter of WithMaxWorkers (MaxConcurrentPerWebhookDefault).
func WithMaxConcurrentPerWebhook(n int) Option {
	return optionFunc(func(c *config.Config) { c.MaxConcurrentPerWebhook = n })
}

// WithMaxPayloadBytes bounds an event payload's size. Default:
// event.MaxPayloadBytesDefault (256 KiB).
func WithMaxPayloadBytes(n int) Option {
	return optionFunc(func(c *config.Config) { c.MaxPayloadBytes = n })
}

// WithMaxWorkers sets how many of Sparrow's jobs run at once per process
// (the MaxWorkers of the queue Install configures) and how many delivery
// attempts (a delivery job makes the attempts of up to 500 deliveries side
// by side). Default: MaxWorkersDefault.
func WithMaxWorkers(n int) Option {
	return optionFunc(func(c *config.Config) { c.MaxWorkers = n })
}

// WithOnDeliveryExhausted registers a function called when a delivery used
// up its attempts, after that is committed. It runs in the delivery's worker:
// keep it short, or hand the work off.
func WithOnDeliveryExhausted(fn func(context.Context, delivery.Exhausted)) Option {
	return optionFunc(func(c *config.Config) { c.Hooks.OnDeliveryExhausted = fn })
}

// WithOnHealthChange registers a function called when a webhook's health
// state changes, after the change is committed. It runs in the worker whose
// attempt caused the change: keep it short, or hand the work off.
func WithOnHealthChange(fn func(context.Context, health.Transition)) Option {
	return optionFunc(func(c *config.Config) { c.Hooks.OnHealthChange = fn })
}

// WithOnWebhookDisabled registers a function called when Sparrow disables a
// webhook after sustained failure, after that is committed.
func WithOnWebhookDisabled(fn func(context.Context, health.Transition)) Option {
	return optionFunc(func(c *config.Config) { c.Hooks.OnWebhookDisabled = fn })
}

// WithQueue sets the River queue Sparrow's jobs run in. Default:
// QueueDefault.
func WithQueue(name string) Option {
	return optionFunc(func(c *config.Config) { c.Queue = name })
}

// WithTraceparent sets whether deliveries carry the W3C traceparent header,
// so a receiver's own tracing joins the trace that pushed the event.
// Default: true.
func WithTraceparent(enabled bool) Option {
	return optionFunc(func(c *config.Config) { c.Traceparent = enabled })
}

// WithTracerProvider sets where the engine's spans go: a push (a child of the
// caller's span), its fan-out and each delivery attempt with its HTTP
// request, joined across River jobs into one trace. Default: the global
// provider (otel.GetTracerProvider).
func WithTracerProvider(provider trace.TracerProvider) Option {
	return optionFunc(func(c *config.Config) { c.TracerProvider = provider })
}

// WithResolver sets the resolver deliveries look destination names up with,
// such as one for split-horizon DNS. Default: the system's.
func WithResolver(resolver *net.Resolver) Option {
	return optionFunc(func(c *config.Config) { c.Resolver = resolver })
}

// WithResponseBodyLimit bounds the part of a receiver's response body kept
// with each attempt; the rest is not read. Default: ResponseBodyLimitDefault.
func WithResponseBodyLimit(n int) Option {
	return optionFunc(func(c *config.Config) { c.ResponseBodyLimit = n })
}

// WithBackoff replaces the delay between attempts. Default:
// delivery.DefaultBackoff (5s, 5m, 30m, 2h, 5h, 10h, 10h with jitter, or
// the receiver's Retry-After).
func WithBackoff(backoff delivery.Backoff) Option {
	return optionFunc(func(c *config.Config) { c.Backoff = backoff })
}

// WithCheckRetry replaces the decision whether a failed attempt is retried.
// Default: delivery.DefaultCheckRetry.
func WithCheckRetry(check delivery.CheckRetry) Option {
	return optionFunc(func(c *config.Config) { c.CheckRetry = check })
}

// WithRiverConfig adjusts the River client Start runs (fetch intervals,
// stuck-job rescue, middleware, ...) after Sparrow has filled it in. Hosts
// that run their own client configure it themselves.
func WithRiverConfig(adjust func(*river.Config)) Option {
	return optionFunc(func(c *config.Config) { c.RiverConfig = adjust })
}

// WithRetention sets how long history is kept: a periodic job deletes
// deliveries finished longer ago, with their attempts; events pushed longer
// ago once none of their deliveries is left; webhooks deleted longer ago;
// and health figures older than both it and the health window. Zero keeps
// everything forever. Default: RetentionDefault.
func WithRetention(d time.Duration) Option {
	return optionFunc(func(c *config.Config) { c.Retention.Default = d })
}

// WithNamespaceRetention overrides WithRetention for one namespace's
// deliveries, events and deleted webhooks; zero keeps them forever.
func WithNamespaceRetention(namespace string, d time.Duration) Option {
	return optionFunc(func(c *config.Config) {
		if c.Retention.Namespaces == nil {
			c.Retention.Namespaces = map[string]time.Duration{}
		}
		c.Retention.Namespaces[namespace] = d
	})
}

// WithSchema names the PostgreSQL schema holding Sparrow's and River's
// tables, as River's Config.Schema does. Default: the connection's
// search_path. Migrate with the same schema (migrations.Config.Schema).
func WithSchema(schema string) Option {
	return optionFunc(func(c *config.Config) { c.Schema = schema })
}

// WithSecretKeys encrypts webhook secrets and custom header values at rest
// with current (AES-256-GCM, a 32-byte key), and decrypts with current and
// previous: to rotate keys, make the new key current, keep the old ones as
// previous until Engine.ResealSecrets (run in the background by Start) has
// re-sealed every secret and header, then drop them. Without keys, secrets
// and headers are stored in the clear.
func WithSecretKeys(current SecretKey, previous ...SecretKey) Option {
	return optionFunc(func(c *config.Config) {
		c.SecretKeys = nil
		for _, k := range append([]SecretKey{current}, previous...) {
			c.SecretKeys = append(c.SecretKeys, secretbox.Key{ID: k.ID, Bytes: k.Key})
		}
	})
}

// WithSecretGracePeriod sets how long a rotated-out secret keeps signing
// when RotateWebhookSecret is not given a period. Default:
// SecretGracePeriodDefault.
func WithSecretGracePeriod(d time.Duration) Option {
	return optionFunc(func(c *config.Config) { c.SecretGracePeriod = d })
}

// WithTemplateTimeout bounds one render of a subscription's template.
// Default: subscription.TemplateTimeoutDefault.
func WithTemplateTimeout(d time.Duration) Option {
	return optionFunc(func(c *config.Config) { c.TemplateTimeout = d })
}

// WithStallThreshold sets how long pushed events may wait for fan-out
// while no process runs Sparrow's workers (no River client with Install's
// configuration, or Start, alive on the database) before the engine logs a
// warning and Check reports it. Default: StallThresholdDefault.
func WithStallThreshold(d time.Duration) Option {
	return optionFunc(func(c *config.Config) { c.StallThreshold = d })
}
