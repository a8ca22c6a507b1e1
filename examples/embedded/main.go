// Command embedded is a host application that embeds Sparrow: it has its own
// orders table and its own River client, and announces each new order with
// an order.created event pushed in the order's own transaction. An order
// rolled back leaves no event and no delivery.
//
//	go run ./examples/embedded
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/localpg"
	"github.com/sparrowhq/sparrow/migrations"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embedded:", err)
		os.Exit(1)
	}
}

// shop is the host application.
type shop struct {
	pool    *pgxpool.Pool
	webhook *sparrow.Engine
}

// placeOrder stores an order and announces it, atomically: if the
// transaction fails after the push, the event vanishes with the order.
func (s *shop) placeOrder(ctx context.Context, customer string, total float64, fail bool) (string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	var orderID int64
	if err := tx.QueryRow(ctx, "INSERT INTO orders (customer, total) VALUES ($1, $2) RETURNING id", customer, total).Scan(&orderID); err != nil {
		return "", err
	}
	payload := fmt.Sprintf(`{"order_id": %d, "customer": %q, "total": %.2f}`, orderID, customer, total)
	ev, err := s.webhook.PushEventTx(ctx, tx, sparrow.Event{Name: "order.created", Payload: []byte(payload)})
	if err != nil {
		return "", err
	}
	if fail {
		return "", errors.New("payment declined") // the deferred Rollback undoes order and event
	}
	return ev.ID, tx.Commit(ctx)
}

func run(ctx context.Context, out io.Writer) error {
	srv, err := localpg.Find(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	url, err := srv.EnsureDatabase(ctx, "sparrow_embedded")
	if err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	// The host keeps its tables and River's and Sparrow's in one schema of
	// its own, removed at the end so that runs don't pile up.
	schema := fmt.Sprintf("embedded_%d", time.Now().UnixNano())
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+".orders (id bigserial PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)"); err != nil {
		return err
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := migrations.Migrate(ctx, pool, &migrations.Config{Logger: quiet}); err != nil {
		return err
	}

	received := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- string(body)
	}))
	defer receiver.Close()

	// Sparrow on the host's pool; the receiver is on loopback, which
	// Sparrow refuses unless told.
	eng, err := sparrow.New(pool, sparrow.WithLogger(quiet), sparrow.WithAllowPrivateNetworks())
	if err != nil {
		return err
	}

	// The host's River client works the host's queues and Sparrow's.
	workers := river.NewWorkers()
	if err := eng.AddWorkers(workers); err != nil {
		return err
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
	for name, q := range eng.Queues() {
		queues[name] = q
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown: 10 * time.Millisecond,
		Logger:        quiet,
		PeriodicJobs:  eng.PeriodicJobs(),
		Queues:        queues,
		Workers:       workers,
	})
	if err != nil {
		return err
	}
	eng.UseRiverClient(client) // optional: Sparrow's jobs go through the host's client
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer client.Stop(context.WithoutCancel(ctx))

	if _, err := eng.RegisterEvent(ctx, sparrow.RegisterEventParams{Name: "order.created"}); err != nil {
		return err
	}
	if _, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: receiver.URL, Events: []string{"order.created"}}); err != nil {
		return err
	}

	s := &shop{pool: pool, webhook: eng}
	eventID, err := s.placeOrder(ctx, "ada", 49.99, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "order placed, event %s pushed in its transaction\n", eventID)
	if _, err := s.placeOrder(ctx, "bob", 12.00, true); err != nil {
		fmt.Fprintf(out, "order refused (%v): rolled back with its event\n", err)
	}

	select {
	case body := <-received:
		fmt.Fprintf(out, "receiver got: %s\n", body)
	case <-time.After(10 * time.Second):
		return errors.New("the committed order's event was not delivered")
	}
	var orders, events int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM sparrow_event)").Scan(&orders, &events); err != nil {
		return err
	}
	fmt.Fprintf(out, "orders stored: %d, events stored: %d\n", orders, events)
	select {
	case body := <-received:
		return fmt.Errorf("the rolled-back order was delivered: %s", body)
	case <-time.After(500 * time.Millisecond):
	}
	fmt.Fprintln(out, "nothing else delivered: the rolled-back order left no trace")
	return nil
}
