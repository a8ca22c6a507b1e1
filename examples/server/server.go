package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/dashboard"
	"github.com/sparrowhq/sparrow/localpg"
	"github.com/sparrowhq/sparrow/migrations"
	"github.com/sparrowhq/sparrow/transport"
)

// listening reports the addresses the server listens on, once it does
// (riverUIAddr is empty when River's UI is off).
type listening func(httpAddr, grpcAddr, riverUIAddr string)

// migrate applies River's and Sparrow's migrations and returns.
func migrate(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := migrations.Migrate(ctx, pool, &migrations.Config{Logger: logger}); err != nil {
		return err
	}
	logger.Info("migrations applied")
	return nil
}

// run serves until ctx is done, then shuts down gracefully: it stops
// accepting requests, lets in-flight deliveries finish within the shutdown
// timeout, and returns.
func run(ctx context.Context, cfg config, logger *slog.Logger, ready listening) error {
	pool, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := migrations.Migrate(ctx, pool, &migrations.Config{Logger: logger}); err != nil {
		return err
	}
	opts := []sparrow.Option{sparrow.WithLogger(logger)}
	if cfg.allowPrivateNetworks {
		opts = append(opts, sparrow.WithAllowPrivateNetworks())
	}
	if len(cfg.secretKeys) > 0 {
		opts = append(opts, sparrow.WithSecretKeys(cfg.secretKeys[0], cfg.secretKeys[1:]...))
	} else {
		logger.Warn("SPARROW_SECRET_KEYS not set: webhook secrets are stored in the clear")
	}
	eng, err := sparrow.New(pool, opts...)
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}

	mux := http.NewServeMux()
	if err := transport.Mount(mux, eng, cfg.transportOptions(logger)...); err != nil {
		return err
	}
	mux.Handle(dashboardPath, http.StripPrefix(strings.TrimSuffix(dashboardPath, "/"), dashboard.Handler(dashboard.WithAPIBase("/"))))
	mux.Handle("GET /{$}", http.RedirectHandler(dashboardPath, http.StatusFound))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		if err := eng.Ready(r.Context()); err != nil {
			// The cause (a database address, a driver message) is for the
			// operator's log, not for whoever can reach an unauthenticated
			// probe.
			logger.WarnContext(r.Context(), "not ready", slog.String("error", err.Error()))
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})

	servers, listeners, err := listen(cfg, mux, logger)
	if err != nil {
		eng.Stop(context.WithoutCancel(ctx))
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	riverUI, err := serveRiverUI(gctx, cfg, eng, logger)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		eng.Stop(context.WithoutCancel(ctx))
		return err
	}
	uiAddr := ""
	if riverUI != nil {
		uiAddr = riverUI.listener.Addr().String()
		servers, listeners = append(servers, riverUI.server), append(listeners, riverUI.listener)
	}
	logger.Info("sparrow serving", slog.String("http", listeners[0].Addr().String()), slog.String("grpc", listeners[1].Addr().String()),
		slog.String("dashboard", dashboardURL(listeners[0].Addr(), cfg.tlsCertFile != "")),
		slog.String("river_ui", uiAddr), slog.Bool("tls", cfg.tlsCertFile != ""), slog.Bool("api_keys", len(cfg.apiKeys) > 0),
		slog.Bool("portal_tokens", cfg.portalSecret != nil))
	if ready != nil {
		ready(listeners[0].Addr().String(), listeners[1].Addr().String(), uiAddr)
	}

	for i, srv := range servers {
		g.Go(func() error {
			var err error
			if cfg.tlsCertFile != "" && srv.TLSConfig != nil {
				err = srv.ServeTLS(listeners[i], cfg.tlsCertFile, cfg.tlsKeyFile)
			} else {
				err = srv.Serve(listeners[i])
			}
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down", slog.Duration("timeout", cfg.shutdownTimeout))
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		// The API and the workers stop side by side, each within the whole
		// deadline: a request still running (a slow client) must neither eat
		// the time in-flight deliveries have to finish nor let the workers
		// start new ones meanwhile.
		errs := make([]error, len(servers)+1)
		var wg sync.WaitGroup
		for i, srv := range servers {
			wg.Go(func() { errs[i] = shutdownServer(shutdownCtx, srv, logger) })
		}
		errs[len(servers)] = eng.Stop(shutdownCtx)
		wg.Wait()
		return errors.Join(errs...)
	})
	return g.Wait()
}

// dashboardPath is where the dashboard is mounted.
const dashboardPath = "/ui/"

// dashboardURL is the dashboard's address on the HTTP listener at addr, for
// the startup log: a listener on every interface is reached on loopback.
func dashboardURL(addr net.Addr, tls bool) string {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + host + dashboardPath
}

// shutdownServer stops srv gracefully until ctx is done, then cuts the
// requests still running: the deadline ends them as it ends deliveries, so
// that is not a failure to stop.
func shutdownServer(ctx context.Context, srv *http.Server, logger *slog.Logger) error {
	err := srv.Shutdown(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	logger.Warn("requests still running at the shutdown deadline were cut")
	_ = srv.Close() // its listeners are closed already; the connections are what is left
	return nil
}

// openDatabase connects to DATABASE_URL or, without it, finds a server the
// way the tests do and uses a "sparrow" database on it.
func openDatabase(ctx context.Context, cfg config, logger *slog.Logger) (*pgxpool.Pool, func(), error) {
	url := cfg.databaseURL
	cleanup := func() {}
	if url == "" {
		srv, err := localpg.Find(ctx)
		if err != nil {
			return nil, nil, err
		}
		if url, err = srv.EnsureDatabase(ctx, "sparrow"); err != nil {
			srv.Close()
			return nil, nil, err
		}
		logger.Info("DATABASE_URL not set", slog.String("using", string(srv.Source)), slog.String("url", url))
		cleanup = func() { srv.Close() }
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); cleanup() }, nil
}

// listen opens the HTTP and gRPC ports, each serving the whole API: HTTP/1.1
// and HTTP/2, the latter over TLS when configured, else as h2c (which gRPC
// clients use on plaintext connections).
func listen(cfg config, handler http.Handler, logger *slog.Logger) ([]*http.Server, []net.Listener, error) {
	var servers []*http.Server
	var listeners []net.Listener
	for _, port := range []int{cfg.httpPort, cfg.grpcPort} {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.bind, strconv.Itoa(port)))
		if err != nil {
			for _, open := range listeners {
				open.Close()
			}
			return nil, nil, err
		}
		var protocols http.Protocols
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(true)
		protocols.SetUnencryptedHTTP2(cfg.tlsCertFile == "")
		servers = append(servers, &http.Server{
			Handler:           handler,
			Protocols:         &protocols,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		})
		listeners = append(listeners, l)
	}
	return servers, listeners, nil
}
