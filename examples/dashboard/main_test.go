package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/localpg"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// start runs the example on a free port, on a schema of its own, until the
// test ends.
func start(t *testing.T, password string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := localpg.Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	database := pgtest.DatabaseName(t)
	dbURL, err := srv.EnsureDatabase(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("example_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})

	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{addr: "127.0.0.1:0", password: password, database: database, schema: schema}, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the example did not start")
	}
	return ""
}

func fetch(t *testing.T, method, target, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestHostMountsTheDashboard(t *testing.T) {
	t.Parallel()
	base := start(t, "")

	if code, _, page := fetch(t, "GET", base+"/", ""); code != 200 || !strings.Contains(page, `href="/admin/webhooks/"`) {
		t.Fatalf("the host's home page: %d\n%s", code, page)
	}
	code, hdr, page := fetch(t, "GET", base+"/admin/webhooks/", "")
	if code != 200 || !strings.Contains(page, `<meta name="sparrow-api-base" content="/api/" />`) || !strings.Contains(page, "<title>Acme · Webhooks</title>") {
		t.Fatalf("the dashboard: %d\n%s", code, page)
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the dashboard's Content-Security-Policy: %q", hdr.Get("Content-Security-Policy"))
	}
	if code, _, _ := fetch(t, "GET", base+"/admin/webhooks/favicon.svg", ""); code != 200 {
		t.Errorf("the dashboard's favicon: %d", code)
	}

	// The dashboard's API, under the prefix it was told.
	code, _, types := fetch(t, "POST", base+"/api/webhook.EventService/ListEventTypes", "{}", "Content-Type", "application/json")
	if code != 200 || !strings.Contains(types, `"order.created"`) {
		t.Fatalf("ListEventTypes: %d %s", code, types)
	}

	// The host's own page pushes an event the dashboard then shows.
	code, hdr, _ = fetch(t, "POST", base+"/orders", url.Values{"customer": {"ada"}, "total": {"12.50"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/orders?placed=ord_") {
		t.Fatalf("placing an order: %d %v", code, hdr)
	}
	code, _, events := fetch(t, "POST", base+"/api/webhook.EventService/ListEvents", "{}", "Content-Type", "application/json")
	if code != 200 || !strings.Contains(events, `"eventName":"order.created"`) && !strings.Contains(events, `"eventName": "order.created"`) {
		t.Fatalf("ListEvents: %d %s", code, events)
	}
	if code, _, _ := fetch(t, "POST", base+"/receiver", "{}"); code != 200 {
		t.Errorf("the receiver: %d", code)
	}
}

func TestHostSignInGuardsDashboardAndAPI(t *testing.T) {
	t.Parallel()
	base := start(t, "s3cret")

	for _, path := range []string{"/admin/webhooks/", "/api/webhook.EventService/ListEventTypes"} {
		if code, hdr, _ := fetch(t, "POST", base+path, "{}", "Content-Type", "application/json"); code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without signing in: %d", path, code)
		}
	}
	req, _ := http.NewRequest("GET", base+"/admin/webhooks/", nil)
	req.SetBasicAuth("staff", "s3cret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("the dashboard, signed in: %d", res.StatusCode)
	}
	if code, _, _ := fetch(t, "GET", base+"/", ""); code != 200 {
		t.Errorf("the host's public page: %d", code)
	}
}
