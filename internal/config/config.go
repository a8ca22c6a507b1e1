// Package config holds the engine's settings in one place: sparrow's
// options fill a Config, New defaults and validates it once, and the engine
// and its workers read it as it is.
package config

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
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/subscription"
)

// Defaults, exported by package sparrow under the same names.
const (
	QueueDefault                   = "sparrow"
	MaxWorkersDefault              = 100
	MaxConcurrentPerWebhookDefault = MaxWorkersDefault / 4
	SecretGracePeriodDefault       = 24 * time.Hour
	ResponseBodyLimitDefault       = 16 << 10
	RetentionDefault               = 30 * 24 * time.Hour
	StallThresholdDefault          = 30 * time.Second
)

// Hooks are the host's callbacks, run after the change they report has
// committed, in the worker that caused it.
type Hooks struct {
	OnDeliveryExhausted func(context.Context, delivery.Exhausted)
	OnHealthChange      func(context.Context, health.Transition)
	OnWebhookDisabled   func(context.Context, health.Transition)
}

// Retention says how long finished history is kept.
type Retention struct {
	// Default applies to namespaces without an override. Zero keeps history
	// forever.
	Default time.Duration
	// Namespaces overrides Default per namespace; zero keeps forever.
	Namespaces map[string]time.Duration
}

// Enabled reports whether anything is ever deleted.
func (r Retention) Enabled() bool {
	for _, keep := range r.Namespaces {
		if keep > 0 {
			return true
		}
	}
	return r.Default > 0
}

// Config is the engine's settings. The option that sets each is named in
// its comment; package sparrow documents them.
type Config struct {
	AllowPrivateNetworks bool           // WithAllowPrivateNetworks
	AllowedCIDRs         []netip.Prefix // WithAllowedCIDRs
	Backoff              delivery.Backoff
	CheckRetry           delivery.CheckRetry
	Clock                func() time.Time
	HealthThresholds     health.Thresholds
	HealthTracking       bool
	Hooks                Hooks
	HTTPClient           *http.Client
	Logger               *slog.Logger
	// MaxConcurrentPerWebhook bounds the attempts to one webhook running at
	// once in one process.
	MaxConcurrentPerWebhook int
	MaxPayloadBytes         int
	// MaxWorkers bounds Sparrow's jobs, and its delivery attempts, running
	// at once in one process.
	MaxWorkers        int
	MeterProvider     metric.MeterProvider
	Queue             string
	Resolver          *net.Resolver
	ResponseBodyLimit int
	Retention         Retention
	// RiverConfig adjusts the River client Start runs.
	RiverConfig       func(*river.Config)
	Schema            string
	SecretGracePeriod time.Duration
	// SecretKeys seal webhook secrets at rest, the first current; none keeps
	// them in the clear.
	SecretKeys []secretbox.Key
	// StallThreshold is how long events may wait for fan-out, with no
	// worker alive, before the engine warns.
	StallThreshold  time.Duration
	TemplateTimeout time.Duration
	Traceparent     bool
	TracerProvider  trace.TracerProvider
}

// New returns a Config with the defaults that options may turn off, before
// any option applies.
func New() *Config {
	return &Config{HealthTracking: true, Traceparent: true, Retention: Retention{Default: RetentionDefault}}
}

// WithDefaults fills in what options left unset (zero).
func (c *Config) WithDefaults() {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Backoff == nil {
		c.Backoff = delivery.DefaultBackoff
	}
	if c.CheckRetry == nil {
		c.CheckRetry = delivery.DefaultCheckRetry
	}
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.MaxPayloadBytes = cmp.Or(c.MaxPayloadBytes, event.MaxPayloadBytesDefault)
	c.MaxWorkers = cmp.Or(c.MaxWorkers, MaxWorkersDefault)
	c.MaxConcurrentPerWebhook = cmp.Or(c.MaxConcurrentPerWebhook, max(c.MaxWorkers/4, 1))
	c.Queue = cmp.Or(c.Queue, QueueDefault)
	c.ResponseBodyLimit = cmp.Or(c.ResponseBodyLimit, ResponseBodyLimitDefault)
	c.SecretGracePeriod = cmp.Or(c.SecretGracePeriod, SecretGracePeriodDefault)
	c.StallThreshold = cmp.Or(c.StallThreshold, StallThresholdDefault)
	c.TemplateTimeout = cmp.Or(c.TemplateTimeout, subscription.TemplateTimeoutDefault)
	c.HealthThresholds = c.HealthThresholds.WithDefaults()
	c.TracerProvider = cmp.Or(c.TracerProvider, otel.GetTracerProvider())
	c.MeterProvider = cmp.Or(c.MeterProvider, otel.GetMeterProvider())
}

// Validate names every setting out of range, by the option that set it.
func (c *Config) Validate() error {
	var problems []error
	negative := func(option string, v any, isNegative bool) {
		if isNegative {
			problems = append(problems, fmt.Errorf("%s: %v is negative", option, v))
		}
	}
	negative("WithMaxPayloadBytes", c.MaxPayloadBytes, c.MaxPayloadBytes < 0)
	negative("WithMaxConcurrentPerWebhook", c.MaxConcurrentPerWebhook, c.MaxConcurrentPerWebhook < 0)
	negative("WithMaxWorkers", c.MaxWorkers, c.MaxWorkers < 0)
	negative("WithResponseBodyLimit", c.ResponseBodyLimit, c.ResponseBodyLimit < 0)
	negative("WithSecretGracePeriod", c.SecretGracePeriod, c.SecretGracePeriod < 0)
	negative("WithStallThreshold", c.StallThreshold, c.StallThreshold < 0)
	negative("WithTemplateTimeout", c.TemplateTimeout, c.TemplateTimeout < 0)
	negative("WithRetention", c.Retention.Default, c.Retention.Default < 0)
	for _, ns := range slices.Sorted(maps.Keys(c.Retention.Namespaces)) {
		if _, err := validate.Namespace(ns); err != nil || ns == "" {
			problems = append(problems, fmt.Errorf("WithNamespaceRetention: namespace %q is not a namespace name", ns))
		}
		keep := c.Retention.Namespaces[ns]
		negative(fmt.Sprintf("WithNamespaceRetention(%q)", ns), keep, keep < 0)
	}
	if err := c.HealthThresholds.Validate(); err != nil {
		problems = append(problems, fmt.Errorf("WithHealthThresholds: %w", err))
	}
	return errors.Join(problems...)
}

// Now reads the clock, truncated to PostgreSQL's microseconds so that what
// is written compares equal to what is read back.
func (c *Config) Now() time.Time {
	return c.Clock().UTC().Truncate(time.Microsecond)
}
