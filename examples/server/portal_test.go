package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// TestPortalSecret issues a portal token with SPARROW_PORTAL_SECRET set, as
// the README's "Tenant portal" does, and uses it; the startup log names
// the dashboard's URL.
func TestPortalSecret(t *testing.T) {
	t.Parallel()

	const adminKey = "admin-key-0123456789"
	logs := &syncBuffer{}
	srv := startServerLogging(t, pgtest.EmptySchema(t), map[string]string{
		"SPARROW_API_KEY":       adminKey,
		"SPARROW_PORTAL_SECRET": "a-portal-secret-of-32-characters-or-more",
	}, logs)
	if want := "dashboard=" + srv.httpURL + "/ui/"; !strings.Contains(logs.String(), want) {
		t.Errorf("the startup log lacks %s:\n%s", want, logs.String())
	}

	code, out := postJSON(t, http.DefaultClient, srv.httpURL+"/webhook/portal-tokens", `{"namespace": "acme", "capabilities": ["read"]}`,
		http.Header{"X-Api-Key": {adminKey}})
	token, _ := out["token"].(string)
	if code != http.StatusOK || !strings.HasPrefix(token, "spt_") {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.httpURL+"/webhook/namespaces", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var listed struct {
		Namespaces []struct{ Namespace string }
		Access     struct {
			Portal       bool
			Namespaces   []string
			Capabilities []string
		}
	}
	if err := json.Unmarshal(raw, &listed); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if len(listed.Namespaces) != 1 || listed.Namespaces[0].Namespace != "acme" || !listed.Access.Portal ||
		strings.Join(listed.Access.Capabilities, ",") != "read" {
		t.Fatalf("%s", raw)
	}
}

func TestDashboardURL(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		addr net.Addr
		tls  bool
		want string
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, false, "http://127.0.0.1:8080/ui/"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true, "https://127.0.0.1:8080/ui/"},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 80}, false, "http://10.0.0.7:80/ui/"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}, false, "http://[::1]:8080/ui/"},
	} {
		if got := dashboardURL(tt.addr, tt.tls); got != tt.want {
			t.Errorf("dashboardURL(%v, %v) = %s, want %s", tt.addr, tt.tls, got, tt.want)
		}
	}
}
