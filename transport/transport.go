// Package transport serves a sparrow.Engine over Connect, gRPC, gRPC-Web and
// REST: the six services of proto/webhook.proto, their REST routes (the
// proto's google.api.http annotations, under /webhook/), gRPC server
// reflection and the standard gRPC health check.
//
//	mux := http.NewServeMux()
//	if err := transport.Mount(mux, eng, transport.WithAPIKeys(transport.APIKey{Key: key})); err != nil { ... }
//
// The handlers translate messages to engine calls and back, nothing more:
// the engine validates, and one table (errors.go) turns its errors into
// Connect codes. gRPC needs HTTP/2: serve the mux over TLS or h2c.
//
// Callers present an API key (WithAPIKeys), which may be limited to
// namespaces, or a portal token (WithPortalSecret, NewPortalToken), which
// is limited to one namespace and to its capabilities: one table (auth.go)
// names the capability every procedure needs.
package transport

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/vanguard"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/telemetry"
	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
)

// MaxRequestBytesDefault bounds a request's size: room for a batch of events,
// and far below what would strain the server.
const MaxRequestBytesDefault = 8 << 20

// An Option configures Mount.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	allowedHosts    []string
	allowedOrigins  []string
	apiKeys         []APIKey
	interceptors    []connect.Interceptor
	logger          *slog.Logger
	maxRequestBytes int
	meterProvider   metric.MeterProvider
	portalSecret    []byte
	portalSecretSet bool // an empty secret given is a mistake, not "none"
	tracerProvider  trace.TracerProvider
}

// APIKey is a key clients present in an x-api-key header or as
// "Authorization: Bearer <key>".
type APIKey struct {
	Key string
	// Namespaces limits the key to these namespaces. Empty: every namespace,
	// and the global event-type registry, whose changes affect all.
	Namespaces []string
}

// MinAPIKeyLength is the shortest API key accepted.
const MinAPIKeyLength = 16

// Validate checks the key's length and its namespaces' names, as Mount
// does, for a host to check its configuration before anything else.
func (k APIKey) Validate() error {
	if len(k.Key) < MinAPIKeyLength {
		return fmt.Errorf("API key shorter than %d characters", MinAPIKeyLength)
	}
	for _, ns := range k.Namespaces {
		if ns == "" {
			// An empty name would mean "default": a stray comma must not
			// grant it.
			return errors.New("API key: an empty namespace name (a stray comma?)")
		}
		if _, err := validate.Namespace(ns); err != nil {
			return fmt.Errorf("API key: %w", err)
		}
	}
	return nil
}

// WithAllowedHosts serves only requests addressed to these host names (the
// Host header, its port aside): a defence against DNS rebinding, which lets
// a web page reach a server on its visitor's machine or network under the
// page's own name. LoopbackHosts stands for every loopback name, "*" for
// any. Default: any host.
func WithAllowedHosts(hosts ...string) Option {
	return optionFunc(func(c *config) {
		for _, h := range hosts {
			c.allowedHosts = append(c.allowedHosts, strings.ToLower(strings.Trim(h, "[]")))
		}
	})
}

// WithAllowedOrigins lets web pages of these origins ("https://app.example.com",
// or "*" for any) call the API from a browser. Requests a browser sends
// from another site are refused otherwise, whatever the host's sign-in
// (the browser would send its cookies): the dashboard calls from its own
// origin, which is always allowed. Default: none.
func WithAllowedOrigins(origins ...string) Option {
	return optionFunc(func(c *config) {
		for _, o := range origins {
			c.allowedOrigins = append(c.allowedOrigins, strings.TrimRight(o, "/"))
		}
	})
}

// WithAPIKeys requires every call to carry one of keys, or a portal token
// (see WithPortalSecret). Without this option the API is open to calls
// without a portal token.
func WithAPIKeys(keys ...APIKey) Option {
	return optionFunc(func(c *config) { c.apiKeys = append(c.apiKeys, keys...) })
}

// WithInterceptors adds Connect interceptors to every service, after
// authentication (tracing, metrics, logging).
func WithInterceptors(interceptors ...connect.Interceptor) Option {
	return optionFunc(func(c *config) { c.interceptors = append(c.interceptors, interceptors...) })
}

// WithLogger sets the logger internal errors are reported to (clients get
// only an error id). Default: slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = logger })
}

// WithMaxRequestBytes bounds a request's size; larger requests get
// ResourceExhausted. Default: MaxRequestBytesDefault.
func WithMaxRequestBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxRequestBytes = n })
}

// WithMeterProvider sets where RPC metrics go (otelconnect's). Default: the
// global provider.
func WithMeterProvider(provider metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = provider })
}

// WithTracerProvider sets where RPC spans go (otelconnect's): a server span
// per call, the parent of the engine's spans. Default: the global provider.
func WithTracerProvider(provider trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = provider })
}

// RESTPrefix is the path the REST routes (the google.api.http annotations of
// proto/webhook.proto) live under.
const RESTPrefix = "/webhook/"

// ServiceNames are the fully qualified names of the services Mount serves.
var ServiceNames = []string{
	webhookpbconnect.WebhookServiceName,
	webhookpbconnect.EventServiceName,
	webhookpbconnect.SubscriptionServiceName,
	webhookpbconnect.DeliveryServiceName,
	webhookpbconnect.HealthServiceName,
	webhookpbconnect.NamespaceServiceName,
}

// Mount registers Sparrow's services and gRPC reflection in mux.
func Mount(mux *http.ServeMux, eng *sparrow.Engine, opts ...Option) error {
	if mux == nil || eng == nil {
		return errors.New("transport: Mount needs a mux and an engine")
	}
	var cfg config
	for _, opt := range opts {
		opt.apply(&cfg)
	}
	// Log lines get the trace id of the call they are about, as the
	// engine's do.
	cfg.logger = slog.New(telemetry.LogHandler(cmp.Or(cfg.logger, slog.Default()).Handler()))
	cfg.maxRequestBytes = cmp.Or(cfg.maxRequestBytes, MaxRequestBytesDefault)
	if cfg.portalSecretSet && len(cfg.portalSecret) < MinPortalSecretLength {
		return fmt.Errorf("transport: the portal secret is shorter than %d bytes (try: openssl rand -base64 32)", MinPortalSecretLength)
	}
	auth, err := newAuthenticator(cfg.apiKeys, cfg.portalSecret)
	if err != nil {
		return err
	}
	if cfg.tracerProvider == nil {
		cfg.tracerProvider = otel.GetTracerProvider()
	}
	if cfg.meterProvider == nil {
		cfg.meterProvider = otel.GetMeterProvider()
	}
	otelInterceptor, err := otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(cfg.tracerProvider), otelconnect.WithMeterProvider(cfg.meterProvider))
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	// Telemetry outermost, so it sees the codes the error translator picks
	// and the recovery of a panic in any interceptor or handler below.
	translator := &errorTranslator{logger: cfg.logger}
	handlerOpts := []connect.HandlerOption{
		connect.WithInterceptors(otelInterceptor),
		connect.WithRecover(translator.recovered),
		connect.WithInterceptors(append([]connect.Interceptor{translator, auth}, cfg.interceptors...)...),
		connect.WithReadMaxBytes(cfg.maxRequestBytes),
		// Payloads pass through JSON requests and answers as their text.
		connect.WithCodec(connectCodec{newPayloadCodec(codecJSON, false)}),
		connect.WithCodec(connectCodec{newPayloadCodec(codecJSONUTF8, false)}),
		connect.WithCompression("gzip", newCappedGzip(cfg.maxRequestBytes), newGzipCompressor),
		// Gzip saves nothing on a small answer and costs a compressor's
		// reset, the most expensive part of answering PushEvent.
		connect.WithCompressMinBytes(compressMinBytes),
	}
	g := &guard{auth: auth, hosts: cfg.allowedHosts, origins: cfg.allowedOrigins, errors: connect.NewErrorWriter(handlerOpts...)}
	s := &services{eng: eng, portalSecret: cfg.portalSecret}
	handlers := []route{
		routeOf(webhookpbconnect.NewWebhookServiceHandler(s, handlerOpts...)),
		routeOf(webhookpbconnect.NewEventServiceHandler(s, handlerOpts...)),
		routeOf(webhookpbconnect.NewSubscriptionServiceHandler(s, handlerOpts...)),
		routeOf(webhookpbconnect.NewDeliveryServiceHandler(s, handlerOpts...)),
		routeOf(webhookpbconnect.NewHealthServiceHandler(s, handlerOpts...)),
		routeOf(webhookpbconnect.NewNamespaceServiceHandler(s, handlerOpts...)),
	}
	// RPCs go straight to the Connect handlers (which serve Connect, gRPC
	// and gRPC-Web). Vanguard serves the REST routes of the proto's
	// google.api.http annotations by transcoding them to the same handlers,
	// so every protocol shares one implementation, one auth check and one
	// error table.
	var vanguardServices []*vanguard.Service
	for _, svc := range handlers {
		mux.Handle(svc.path, g.wrap(svc.handler, false))
		vanguardServices = append(vanguardServices, vanguard.NewService(svc.path, svc.handler))
	}
	transcoder, err := vanguard.NewTranscoder(vanguardServices,
		vanguard.WithCodec(func(vanguard.TypeResolver) vanguard.Codec { return vanguardCodec{newPayloadCodec(codecJSON, true)} }),
		vanguard.WithCompression("gzip", newGzipCompressor, newCappedGzip(cfg.maxRequestBytes)),
		vanguard.WithDefaultServiceOptions(vanguard.WithMaxMessageBufferBytes(uint32(cfg.maxRequestBytes))))
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	mux.Handle(RESTPrefix, g.wrap(restHandler(transcoder), true))
	// Health checks answer without an API key: probes carry none.
	mux.Handle(grpchealth.NewHandler(&readiness{eng: eng}))
	reflector := grpcreflect.NewStaticReflector(ServiceNames...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	return nil
}

// route is a service's path and handler, as the generated constructors
// return them.
type route struct {
	path    string
	handler http.Handler
}

func routeOf(path string, handler http.Handler) route { return route{path, handler} }

// services implements the six services on one engine. Each method is a
// translation: request to engine call, result to response.
type services struct {
	eng          *sparrow.Engine
	portalSecret []byte // nil: CreatePortalToken refused
}
