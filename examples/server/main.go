// Command server runs Sparrow as a standalone service: the API over Connect,
// gRPC and gRPC-Web on HTTP_PORT (HTTP/1.1 and h2c, or TLS), gRPC on
// GRPC_PORT, and the delivery workers, on one PostgreSQL database.
//
//	go run ./examples/server
//
// Configuration, from the environment:
//
//	DATABASE_URL                    PostgreSQL; unset: a local server on 127.0.0.1:5432,
//	                                else a throwaway cluster from local binaries
//	HTTP_PORT                       default 8080
//	GRPC_PORT                       default 50051
//	RIVER_UI_PORT                   River's UI (jobs and queues); default 8082, "off" to disable
//	RIVER_UI_BIND                   address River's UI listens on; default 127.0.0.1
//	SPARROW_BIND                    address to listen on; default all interfaces
//	SPARROW_API_KEY                 require this key (x-api-key or Authorization: Bearer)
//	SPARROW_API_KEYS                keys limited to namespaces: "key1:ns1,ns2 key2:ns3"
//	SPARROW_TLS_CERT_FILE, SPARROW_TLS_KEY_FILE   serve TLS on both ports
//	SPARROW_ALLOW_PRIVATE_NETWORKS  true: let webhooks reach private addresses (development)
//	LOG_LEVEL                       debug, info (default), warn, error
//	SPARROW_SHUTDOWN_TIMEOUT        how long in-flight deliveries get on SIGTERM; default 30s
//	SPARROW_MAX_REQUEST_BYTES       the largest API request accepted; default 8388608 (8 MiB)
//	SPARROW_ALLOWED_ORIGINS         web origins whose pages may call the API from a browser
//	                                ("https://app.example.com,..."; the server's own always may)
//	SPARROW_ALLOWED_HOSTS           host names the API answers to besides loopback ones when it
//	                                has no API keys (DNS rebinding); with keys, only these if set
//	SPARROW_SECRET_KEYS             encrypt webhook secrets and custom header values at rest:
//	                                "id:base64key,..." (32-byte AES-256 keys), the first seals,
//	                                the others only open; unset: they are stored in the clear
//	SPARROW_PORTAL_SECRET           accept portal tokens signed with this secret (32 characters or
//	                                more) and issue them (CreatePortalToken); unset: no portal tokens
//	OTEL_EXPORTER_OTLP_ENDPOINT     export traces and metrics over OTLP/gRPC, e.g. http://localhost:4317
//	                                (the other standard OTEL_* variables apply too)
//
// The dashboard is at /ui/; the log's "sparrow serving" line gives its URL.
// /health answers while the process runs; /ready (and the standard gRPC
// health check) when the database answers and the workers run. None needs
// an API key. River's UI requires one when the server has keys: HTTP Basic
// with the key as password.
//
// `server migrate` applies the migrations and exits; `server healthcheck`
// exits 0 when the server running beside it (on HTTP_PORT) is ready, for a
// container's health check.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server: configuration:", err)
		os.Exit(2)
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		if err := healthcheck(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, "server: not ready:", err)
			os.Exit(1)
		}
		return
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; a second one, with the
	// default handling restored, ends the process at once. Logged once
	// restored, so the line is true when an operator (or a test) reads it.
	context.AfterFunc(ctx, func() {
		stop()
		// A signal's cause matches context.Canceled under errors.Is; main
		// returning leaves exactly context.Canceled, and nothing to log.
		if cause := context.Cause(ctx); cause != context.Canceled {
			logger.Info("shutting down gracefully; a second signal ends the process at once", slog.String("cause", cause.Error()))
		}
	})
	flush, err := setupTelemetry(ctx)
	if err != nil {
		logger.Error("telemetry", slog.String("error", err.Error()))
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		err = migrate(ctx, cfg, logger)
	} else {
		err = run(ctx, cfg, logger, nil)
	}
	if flushErr := flush(context.WithoutCancel(ctx)); flushErr != nil {
		logger.Warn("telemetry flush", slog.String("error", flushErr.Error()))
	}
	if err != nil {
		logger.Error("server stopped", slog.String("error", err.Error()))
		os.Exit(1)
	}
}
