// Command dashboard is a host application that mounts Sparrow's dashboard
// next to pages of its own, the way a Go service gives its staff a webhook
// admin without running anything else:
//
//	/                    the host's home page
//	/orders              the host's own page: placing an order pushes order.created
//	/receiver            a stand-in for a customer's endpoint (answers 200)
//	/api/...             Sparrow's API (transport.Mount), for the dashboard
//	/admin/webhooks/     Sparrow's dashboard (dashboard.Handler)
//
// Run it, open http://127.0.0.1:8090/admin/webhooks/, create a webhook for
// http://127.0.0.1:8090/receiver subscribed to order.created, then place an
// order on http://127.0.0.1:8090/orders and watch its delivery.
//
//	go run ./examples/dashboard                          # no password: listens on loopback only
//	DASHBOARD_PASSWORD=s3cret go run ./examples/dashboard  # staff sign in as "staff"
//
// The host's own authentication guards the dashboard and the API together:
// the dashboard calls the API from the same origin, so the browser sends the
// host's credentials (here HTTP Basic; a session cookie works the same) with
// every call, and Sparrow needs no API key of its own.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/dashboard"
	"github.com/sparrowhq/sparrow/localpg"
	"github.com/sparrowhq/sparrow/migrations"
	"github.com/sparrowhq/sparrow/transport"
)

func main() {
	cfg := config{addr: "127.0.0.1:8090", password: os.Getenv("DASHBOARD_PASSWORD"), database: "sparrow_dashboard"}
	if addr := os.Getenv("ADDR"); addr != "" {
		cfg.addr = addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg, func(addr string) {
		fmt.Printf("the shop: http://%s/   its webhook dashboard: http://%s/admin/webhooks/\n", addr, addr)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

type config struct {
	addr     string
	password string // empty: no sign-in
	database string // on the server localpg finds
	schema   string // empty: the database's default
}

// newHost is the host's handler: its own pages, Sparrow's API and Sparrow's
// dashboard on one mux.
func newHost(eng *sparrow.Engine, password string) (http.Handler, error) {
	// Sparrow's API under /api/: mounted on a mux of its own, then stripped
	// of the prefix, since transport.Mount serves /webhook.<Service>/<Method>.
	api := http.NewServeMux()
	if err := transport.Mount(api, eng); err != nil {
		return nil, err
	}
	staff := staffOnly(password)

	mux := http.NewServeMux()
	mux.Handle("/api/", staff(http.StripPrefix("/api", api)))
	mux.Handle("/admin/webhooks/", staff(http.StripPrefix("/admin/webhooks",
		dashboard.Handler(dashboard.WithAPIBase("/api/"), dashboard.WithTitle("Acme · Webhooks")))))

	// The host's own pages.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, homePage, nil)
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		render(w, ordersPage, map[string]string{"Placed": r.URL.Query().Get("placed")})
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		total, err := strconv.ParseFloat(r.FormValue("total"), 64)
		if err != nil || total <= 0 {
			http.Error(w, "total: want a positive amount", http.StatusBadRequest)
			return
		}
		orderID := fmt.Sprintf("ord_%d", time.Now().UnixNano())
		payload := fmt.Sprintf(`{"order_id": %q, "customer": %q, "total": %.2f}`, orderID, r.FormValue("customer"), total)
		if _, err := eng.PushEvent(r.Context(), sparrow.PushEventParams{Name: "order.created", Payload: []byte(payload)}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/orders?placed="+orderID, http.StatusSeeOther)
	})
	mux.HandleFunc("POST /receiver", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprintln(w, `{"received": true}`)
	})
	return mux, nil
}

// staffOnly guards a handler with the host's sign-in: HTTP Basic as "staff"
// with password, or nothing when password is empty.
func staffOnly(password string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if password == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			if !ok || user != "staff" || subtle.ConstantTimeCompare([]byte(pass), []byte(password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="Acme staff"`)
				http.Error(w, "sign in as staff", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func run(ctx context.Context, cfg config, ready func(addr string)) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := localpg.Find(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	url, err := srv.EnsureDatabase(ctx, cfg.database)
	if err != nil {
		return err
	}
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	if cfg.schema != "" {
		poolCfg.ConnConfig.RuntimeParams["search_path"] = cfg.schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, &migrations.Config{Logger: quiet}); err != nil {
		return err
	}
	// The receiver is on this machine, which Sparrow refuses to deliver to
	// unless told: fine for a demonstration, not for production.
	eng, err := sparrow.New(pool, sparrow.WithLogger(quiet), sparrow.WithAllowPrivateNetworks())
	if err != nil {
		return err
	}
	if _, err := eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created", Description: "A customer placed an order"}); err != nil && !errors.Is(err, sparrow.ErrAlreadyExists) {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Stop(context.WithoutCancel(ctx))

	host, err := newHost(eng, cfg.password)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: host, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(l.Addr().String())
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		server.Shutdown(shutdown)
	}()
	if err := server.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func render(w http.ResponseWriter, page *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

const layout = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme</title></head>
<body>
<nav><a href="/">Acme</a> · <a href="/orders">Orders</a> · <a href="/admin/webhooks/">Webhooks (staff)</a></nav>
{{block "main" .}}{{end}}
</body></html>`

var (
	homePage = template.Must(template.Must(template.New("home").Parse(layout)).Parse(`{{define "main"}}
<h1>Acme</h1>
<p>The shop's own pages, and its webhook dashboard for staff at <a href="/admin/webhooks/">/admin/webhooks/</a>.</p>
{{end}}`))
	ordersPage = template.Must(template.Must(template.New("orders").Parse(layout)).Parse(`{{define "main"}}
<h1>Orders</h1>
{{with .Placed}}<p>Order {{.}} placed: its order.created event is on its way to the webhooks subscribed to it.</p>{{end}}
<form method="post" action="/orders">
<label>Customer <input name="customer" value="ada"></label>
<label>Total <input name="total" value="49.99" inputmode="decimal"></label>
<button>Place order</button>
</form>
{{end}}`))
)
