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
	"slices"
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
	if err := run(ctx, os.Stdout, isTerminal(os.Stdout)); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run shows the deliveries on out, redrawing one table in place when live
// (out is a terminal).
func run(ctx context.Context, out io.Writer, live bool) error {
	srv, err := localpg.Find(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	// A database of its own, kept (empty) between runs: make clean-db
	// removes it.
	url, err := srv.EnsureDatabase(ctx, "sparrow_quickstart")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "PostgreSQL: %s, database sparrow_quickstart\n", srv.Source)
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
		// Retry after a second rather than the default 5s, 5m, 30m, ...
		// River makes a scheduled job due within 5 seconds of its time, so
		// the retries here come 1 to 5 seconds apart.
		sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Second }),
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
	return watch(ctx, out, eng, 4, live)
}

// watch shows the deliveries until want of them are finished, then each
// one's attempts. Live (on a terminal) it redraws one table in place;
// elsewhere (a file, a pipe) it prints a line per change, then the final
// table.
func watch(ctx context.Context, out io.Writer, eng *sparrow.Engine, want int, live bool) error {
	deadline := time.After(60 * time.Second)
	seen := map[string]string{} // delivery id -> what was last said of it
	drawn := 0                  // lines of the table on screen
	for {
		page, err := eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{})
		if err != nil {
			return err
		}
		finished := 0
		for _, d := range page.Items {
			if d.Status.Final() {
				finished++
			}
		}
		done := len(page.Items) == want && finished == want
		switch {
		case live:
			if drawn > 0 {
				fmt.Fprintf(out, "\x1b[%dA\x1b[J", drawn) // back to the table's first line, and clear below
			}
			drawn = table(out, page.Items)
		default:
			for _, d := range slices.Backward(page.Items) {
				if line := change(d); seen[d.ID] != line {
					seen[d.ID] = line
					fmt.Fprintln(out, line)
				}
			}
			if done {
				fmt.Fprintln(out)
				table(out, page.Items)
			}
		}
		if done {
			return attempts(ctx, out, eng, page.Items)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("deliveries did not finish within 60s")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// table prints the deliveries and returns how many lines it took.
func table(out io.Writer, ds []delivery.Delivery) int {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DELIVERY\tWEBHOOK\tSTATUS\tATTEMPTS\tLAST CODE\tLAST ERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.WebhookID, d.Status, d.AttemptCount, d.LastStatusCode, d.LastErrorClass)
	}
	tw.Flush()
	return len(ds) + 1
}

// change says where a delivery stands, in a line.
func change(d delivery.Delivery) string {
	line := fmt.Sprintf("%s to %s: %s", d.ID, d.WebhookID, d.Status)
	if d.AttemptCount > 0 {
		line += fmt.Sprintf(" after attempt %d (%d %s)", d.AttemptCount, d.LastStatusCode, cmpClass(d.LastErrorClass))
	}
	return line
}

// isTerminal reports whether f is a terminal, where a table can be redrawn
// in place.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
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
