// Command embedded is a whole host of Sparrow: its own River client, an
// orders table, and an order written and announced in one transaction,
// delivered to a receiver once that transaction commits.
//
//	DATABASE_URL=postgres://... go run ./examples/embedded
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/migrations"
)

func main() {
	ctx := context.Background()
	if err := run(ctx, os.Getenv("DATABASE_URL")); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, databaseURL string) error {
	// Your customer's endpoint; on loopback here, which Sparrow refuses
	// unless allowed.
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer receiver.Close()

	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, nil); err != nil { // River's tables and Sparrow's
		return err
	}
	eng, err := sparrow.New(pool, sparrow.WithAllowPrivateNetworks())
	if err != nil {
		return err
	}
	riverConfig := &river.Config{Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}}
	if err := eng.Install(riverConfig); err != nil { // Sparrow's workers, queue and periodic jobs
		return err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), riverConfig)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer client.Stop(ctx)
	defer eng.Stop(ctx) // before the client's

	_, err = eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"})
	if err != nil && !errors.Is(err, sparrow.ErrAlreadyExists) {
		return err
	}
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: receiver.URL, Events: []string{"order.created"}})
	if err != nil {
		return err
	}
	defer eng.DeleteWebhook(ctx, "default", wh.ID) // its receiver goes with this run
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, total numeric NOT NULL)"); err != nil {
		return err
	}

	// The order and its event in one transaction: rolled back, neither exists.
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var orderID int64
	if err := tx.QueryRow(ctx, "INSERT INTO orders (total) VALUES (49.99) RETURNING id").Scan(&orderID); err != nil {
		return err
	}
	ev, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{
		Name:    "order.created",
		Payload: fmt.Appendf(nil, `{"order_id": %d, "total": 49.99}`, orderID),
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}

	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		page, err := eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: wh.ID, EventID: ev.ID})
		if err != nil {
			return err
		}
		if len(page.Items) == 1 && page.Items[0].Status == delivery.StatusSucceeded {
			fmt.Printf("order %d: event %s delivered to %s\n", orderID, ev.ID, receiver.URL)
			return nil
		}
	}
	return errors.New("the event was not delivered within 10s")
}
