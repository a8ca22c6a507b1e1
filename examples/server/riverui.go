package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"riverqueue.com/riverui"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/transport"
)

// riverUIServer is River's own UI on its port.
type riverUIServer struct {
	server   *http.Server
	listener net.Listener
}

// serveRiverUI prepares River's UI (queues, jobs, and Sparrow's among them)
// on RIVER_UI_PORT, or returns nil when it is off. It shows every
// namespace's jobs, so when the server has API keys it requires an
// unscoped one.
func serveRiverUI(ctx context.Context, cfg config, eng *sparrow.Engine, logger *slog.Logger) (*riverUIServer, error) {
	if cfg.riverUIPort < 0 {
		return nil, nil
	}
	handler, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(eng.RiverClient(), nil),
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	if err := handler.Start(ctx); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.riverUIBind, strconv.Itoa(cfg.riverUIPort)))
	if err != nil {
		return nil, err
	}
	return &riverUIServer{
		server: &http.Server{
			Handler:           requireAdminKey(cfg.apiKeys, handler),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		listener: l,
	}, nil
}

// requireAdminKey lets through requests carrying an unscoped key, as the
// password of HTTP Basic (any user name, what browsers prompt for) or as
// x-api-key / Authorization: Bearer. Without keys everything passes.
func requireAdminKey(keys []transport.APIKey, next http.Handler) http.Handler {
	var sums [][sha256.Size]byte
	for _, k := range keys {
		if len(k.Namespaces) == 0 {
			sums = append(sums, sha256.Sum256([]byte(k.Key)))
		}
	}
	if len(keys) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented := transport.PresentedKey(r.Header)
		if _, password, ok := r.BasicAuth(); ok {
			presented = password
		}
		sum := sha256.Sum256([]byte(presented))
		match := 0
		for i := range sums {
			match |= subtle.ConstantTimeCompare(sum[:], sums[i][:])
		}
		if presented == "" || match == 0 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Sparrow: River UI", charset="UTF-8"`)
			http.Error(w, "an API key not limited to namespaces is required (the password of HTTP Basic)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
