// Command quickstart shows Sparrow end to end in one process: it finds or
// starts PostgreSQL, runs a local receiver, registers an event type and two
// webhooks (one of them failing its first attempts), pushes events, and
// prints the deliveries and their attempts as they progress.
//
//	go run ./examples/quickstart
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
	"os/signal"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/localpg"
	"github.com/sparrowhq/sparrow/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	srv, err := localpg.Find(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	url, err := srv.EnsureDatabase(ctx, "sparrow_quickstart")
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	// A schema of its own, removed at the end, so runs don't pile up.
	schema := fmt.Sprintf("quickstart_%d", time.Now().UnixNano())
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := migrations.Migrate(ctx, pool, &migrations.Config{Schema: schema, Logger: quiet}); err != nil {
		return err
	}

	// Two receivers on this machine: one healthy, one that answers 500 to
	// its first three requests.
	var flakyCalls atomic.Int32
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer healthy.Close()
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if flakyCalls.Add(1) <= 3 {
			http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
		}
	}))
	defer flaky.Close()

	eng, err := sparrow.New(pool,
		sparrow.WithSchema(schema),
		sparrow.WithLogger(quiet),
		// The receivers listen on loopback, which Sparrow refuses by default.
		sparrow.WithAllowPrivateNetworks(),
		// Retry within a second rather than the default 5s, 5m, 30m, ...
		sparrow.WithBackoff(func(attempt int, _ *delivery.Outcome) time.Duration {
			return time.Duration(attempt) * 300 * time.Millisecond
		}),
	)
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Stop(context.WithoutCancel(ctx))

	if _, err := eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Description: "Fires when a new order is placed"}); err != nil {
		return err
	}
	for _, url := range []string{healthy.URL + "/orders", flaky.URL + "/orders"} {
		w, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: url, Events: []string{"order.created"}})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "registered webhook %s -> %s (secret %s)\n", w.ID, w.URL, w.Secret)
	}
	for i := 1; i <= 2; i++ {
		ev, err := eng.PushEvent(ctx, sparrow.PushEventParams{
			Name:    "order.created",
			Payload: []byte(fmt.Sprintf(`{"order_id": "ord_%d", "total": 49.99}`, i)),
			Labels:  map[string]string{"plan": "premium"},
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "pushed event %s\n", ev.ID)
	}
	return watch(ctx, out, eng, 4)
}

// watch prints the deliveries every half second until want of them are
// finished, then prints each one's attempts.
func watch(ctx context.Context, out io.Writer, eng *sparrow.Engine, want int) error {
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("deliveries did not finish within 30s")
		case <-time.After(500 * time.Millisecond):
		}
		page, err := eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{})
		if err != nil {
			return err
		}
		finished := 0
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DELIVERY\tWEBHOOK\tSTATUS\tATTEMPTS\tLAST CODE\tLAST ERROR")
		for _, d := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.WebhookID, d.Status, d.AttemptCount, d.LastStatusCode, d.LastErrorClass)
			if d.Status.Final() {
				finished++
			}
		}
		tw.Flush()
		if len(page.Items) == want && finished == want {
			return attempts(ctx, out, eng, page.Items)
		}
	}
}

func attempts(ctx context.Context, out io.Writer, eng *sparrow.Engine, ds []delivery.Delivery) error {
	fmt.Fprintln(out, "\nattempts:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DELIVERY\t#\tSTATUS CODE\tCLASS\tDURATION")
	for _, d := range ds {
		full, err := eng.GetDelivery(ctx, d.Namespace, d.ID)
		if err != nil {
			return err
		}
		for _, a := range full.Attempts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", d.ID, a.Number, a.StatusCode, cmpClass(a.ErrorClass), a.Duration.Round(time.Microsecond))
		}
	}
	return tw.Flush()
}

func cmpClass(c delivery.ErrorClass) string {
	if c == delivery.ClassNone {
		return "ok"
	}
	return string(c)
}
