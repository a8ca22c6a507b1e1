package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/transport"
)

// The API runs measure Sparrow as a service that is not the host reaches
// it: the engine's API served over HTTP as examples/server serves it, and
// -api-clients clients pushing single events through it, as a load
// generator against examples/server would.

// apiServer is an engine's API on a loopback port and the client that
// calls it: HTTP/1.1 with keep-alive, a connection per concurrent call.
type apiServer struct {
	srv    *http.Server
	client *http.Client
	url    string // PushEvent's
	key    string
}

// serveAPI mounts eng's API with an API key, so that every call pays for
// authentication as it does in production, and serves it on 127.0.0.1
// with examples/server's protocols: HTTP/1.1, and h2c for gRPC.
func (b *bench) serveAPI(eng *sparrow.Engine) (*apiServer, error) {
	key := rand.Text()
	logger := slog.New(b.engineLog) // the API's errors count with the engines'
	mux := http.NewServeMux()
	if err := transport.Mount(mux, eng, transport.WithAPIKeys(transport.APIKey{Key: key}), transport.WithLogger(logger)); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           mux,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(l) // until close; a failure shows as failed pushes
	return &apiServer{
		srv: srv,
		// Idle connections for every client, or they would reconnect.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: b.cfg.APIClients}},
		url:    "http://" + l.Addr().String() + "/webhook.EventService/PushEvent",
		key:    key,
	}, nil
}

// close closes the server and the client's connections.
func (s *apiServer) close() {
	s.client.CloseIdleConnections()
	s.srv.Close()
}

// pushRequest is a PushEvent request in Connect JSON.
func pushRequest(payload []byte) []byte {
	return []byte(`{"event":"` + eventName + `","payload":` + string(payload) + `}`)
}

// push calls PushEvent with body; an answer other than 200 is an error
// carrying the answer.
func (s *apiServer) push(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read to the end, so that the connection is reused.
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PushEvent answered %s: %s", resp.Status, answer)
	}
	return nil
}

// warm pushes once from each of clients at the same time, untimed, so that
// a measurement starts with the client's connections open.
func (s *apiServer) warm(ctx context.Context, clients int, body func() []byte) error {
	g, gctx := errgroup.WithContext(ctx)
	for range clients {
		g.Go(func() error { return s.push(gctx, body()) })
	}
	return g.Wait()
}

// apiIngest measures pushes through the API: each client pushes single
// events in a closed loop, the engine's workers stopped (as for
// PushEventTx), so the figure is pushes accepted per second. Judged
// against insertCommit at concurrency 8.
func (b *bench) apiIngest(ctx context.Context) (string, error) {
	c, err := b.newCluster(ctx, "api_ingest", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	api, err := b.serveAPI(c.engine())
	if err != nil {
		return "", err
	}
	defer api.close()
	clients := b.cfg.APIClients
	body := pushRequest(payload(b.cfg.Payload, 0))
	if err := api.warm(ctx, clients, func() []byte { return body }); err != nil {
		return "", err
	}
	perSec, err := closedLoop(ctx, b.prog, clients, b.cfg.Duration, func(ctx context.Context) error {
		return api.push(ctx, body)
	})
	if err != nil {
		return "", err
	}
	b.res.add("api_ingest", SectionSparrow, fmt.Sprintf("PushEvent over Connect JSON, %d clients", clients), perSec, "events/s")
	return rate(perSec, "events/s"), nil
}

// apiEndToEnd measures deliveries to 1 webhook while the clients push
// -deliveries events through the API in a closed loop, the workers
// running. The clock runs from the first push to the last delivery
// received; a delivery's latency runs from the start of its push (stamped
// in the payload) to its receipt.
func (b *bench) apiEndToEnd(ctx context.Context) (string, error) {
	recv := newReceiver(true)
	defer recv.close()
	c, err := b.newCluster(ctx, "api_e2e", 1)
	if err != nil {
		return "", err
	}
	defer c.close()
	if _, err := c.register(ctx, recv, 1); err != nil {
		return "", err
	}
	if err := c.start(ctx); err != nil {
		return "", err
	}
	api, err := b.serveAPI(c.engine())
	if err != nil {
		return "", err
	}
	defer api.close()
	clients := b.cfg.APIClients
	warmed, total := int64(clients), int64(b.cfg.Deliveries)
	recv.expect(warmed + total)
	stamped := func() []byte { return pushRequest(payload(b.cfg.Payload, since())) }
	// Deliveries of the warm-up pushes open the engine's connections to the
	// receiver too, as the latency run's do.
	if err := api.warm(ctx, clients, stamped); err != nil {
		return "", err
	}
	if err := waitReceived(ctx, recv, warmed, latencyDrain); err != nil {
		return "", err
	}
	recv.takeLatencies()
	b.prog.track(countTracker(func() int64 { return recv.received.Load() - warmed }, total, "delivered"))
	before := c.poolCounters()
	start := time.Now()
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range clients {
		g.Go(func() error {
			for next.Add(1) <= total {
				if err := api.push(gctx, stamped()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	if err := recv.await(ctx, waitLimit(int(total), 100)); err != nil {
		return "", err
	}
	perSec := float64(total) / time.Since(start).Seconds()
	c.stop()
	if err := recv.err(); err != nil {
		return "", err
	}
	label := fmt.Sprintf("end-to-end through the API, 1 webhook, %d clients", clients)
	if err := b.diagnose(ctx, label, c, before); err != nil {
		return "", err
	}
	lat := quantilesOf(recv.takeLatencies())
	b.res.add("api_e2e_1_webhook", SectionSparrow, label, perSec, "deliveries/s")
	b.res.add("api_e2e_p50", SectionSparrow, label+": push→received p50", lat.P50, "ms")
	b.res.add("api_e2e_p99", SectionSparrow, label+": push→received p99", lat.P99, "ms")
	return fmt.Sprintf("%s, p50 %.1f ms, p99 %.1f ms", rate(perSec, "deliveries/s"), lat.P50, lat.P99), nil
}
