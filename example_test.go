package sparrow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// Example registers a webhook and pushes an event in the host's transaction,
// the transactional outbox: once the transaction commits, the event is
// delivered, signed.
func Example() {
	ctx := context.Background()
	pool, schema, done := exampleDatabase()
	defer done()

	// A receiver, standing for the partner's endpoint.
	type request struct {
		header http.Header
		body   []byte
	}
	received := make(chan request, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- request{r.Header, body}
	}))
	defer receiver.Close()

	eng, err := sparrow.New(pool,
		sparrow.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		sparrow.WithSchema(schema),         // the examples' own schema; a host may rely on its search_path
		sparrow.WithAllowPrivateNetworks(), // the receiver is on loopback, refused by default
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil { // Sparrow's own River client; or Install into the host's
		log.Fatal(err)
	}
	defer eng.Stop(ctx)

	if _, err := eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		log.Fatal(err)
	}
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: receiver.URL, Events: []string{"order.created"}})
	if err != nil {
		log.Fatal(err)
	}
	// wh.Secret, returned only now, is what the partner verifies with.

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// ... the host's own writes, such as the order itself, go here ...
	if _, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id":"ord_123"}`)}); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err)
	}

	// The partner's side: check the signature with the Standard Webhooks
	// reference verifier.
	var req request
	select {
	case req = <-received:
	case <-time.After(20 * time.Second):
		log.Fatal("no delivery within 20s")
	}
	verifier, err := standardwebhooks.NewWebhook(wh.Secret)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.header.Get("Sparrow-Event"), string(req.body))
	fmt.Println("signature valid:", verifier.Verify(req.body, req.header) == nil)
	// Output:
	// order.created {"order_id":"ord_123"}
	// signature valid: true
}

// ExampleEngine_PushEventTx shows the other half of the transactional
// outbox: an event pushed in a transaction that rolls back never existed.
func ExampleEngine_PushEventTx() {
	ctx := context.Background()
	pool, schema, done := exampleDatabase()
	defer done()

	eng, err := sparrow.New(pool, sparrow.WithSchema(schema))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"}); err != nil {
		log.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	ev, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{"order_id":"ord_124"}`)})
	if err != nil {
		log.Fatal(err)
	}
	// The order failed to save, say: the event goes with it.
	if err := tx.Rollback(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = eng.GetEvent(ctx, "default", ev.ID)
	fmt.Println("after the rollback:", err == nil, errors.Is(err, sparrow.ErrNotFound))
	// Output:
	// after the rollback: false true
}

// exampleDatabase gives an Example what the harness gives a test: the test
// database's pool and a schema of its own with River's and Sparrow's
// tables. done drops the schema.
func exampleDatabase() (pool *pgxpool.Pool, schema string, done func()) {
	tb, done := pgtest.ForExample()
	return pgtest.Pool(tb), pgtest.Schema(tb), done
}
