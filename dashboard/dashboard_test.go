package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/dashboard"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mounted is the dashboard under a prefix of a host's mux, as a host mounts it.
func mounted(opts ...dashboard.Option) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/admin/webhooks/", http.StripPrefix("/admin/webhooks", dashboard.Handler(opts...)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the host's own page") })
	return mux
}

var assetRef = regexp.MustCompile(`(?:src|href)="\./([^"]+)"`)

func TestPageAndAssetsUnderAPrefix(t *testing.T) {
	h := mounted()
	res := get(t, h, "/admin/webhooks/")
	page := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /admin/webhooks/: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("the page's Cache-Control = %q, want no-cache", res.Header.Get("Cache-Control"))
	}
	// Every asset is referenced relative to the page, so it is found under
	// whatever prefix the page is served at.
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) < 3 || regexp.MustCompile(`(src|href)="/`).MatchString(page) {
		t.Fatalf("the page should reference its assets relative to itself:\n%s", page)
	}
	for _, ref := range refs {
		res := get(t, h, "/admin/webhooks/"+ref[1])
		b := body(t, res)
		if res.StatusCode != http.StatusOK || b == "" {
			t.Errorf("%s: %d", ref[1], res.StatusCode)
		}
		if strings.HasPrefix(ref[1], "_app/immutable/") && !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable", ref[1], res.Header.Get("Cache-Control"))
		}
		if strings.HasSuffix(ref[1], ".js") {
			if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", ref[1], ct)
			}
			// The boot script imports the bundle, relative to itself.
			for _, imp := range regexp.MustCompile(`import\("\./([^"]+)"\)`).FindAllStringSubmatch(b, -1) {
				if res := get(t, h, "/admin/webhooks/_app/immutable/"+imp[1]); res.StatusCode != http.StatusOK {
					t.Errorf("%s imports %s: %d", ref[1], imp[1], res.StatusCode)
				}
			}
		}
	}
	if b := body(t, get(t, h, "/elsewhere")); b != "the host's own page" {
		t.Errorf("the host's page: %q", b)
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	page := body(t, get(t, dashboard.Handler(), "/"))
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("inline script: %s", tag)
		}
	}
	if strings.Contains(page, "<style") || regexp.MustCompile(`\s(style|on[a-z]+)=`).MatchString(page) {
		t.Errorf("inline style or event handler in the page:\n%s", page)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := dashboard.Handler()
	for _, target := range []string{"/", "/favicon.svg", "/no-such-file", "/_app/"} {
		res := get(t, h, target)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", target, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: Content-Security-Policy %q allows something unsafe", target, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", target, k, got, want)
			}
		}
	}
}

func TestOptionsReachThePageEscaped(t *testing.T) {
	h := dashboard.Handler(dashboard.WithAPIBase(`/api/"><script>x</script>`), dashboard.WithTitle(`Acme <Ops> & "Co"`))
	page := body(t, get(t, h, "/"))
	for _, want := range []string{
		`<meta name="sparrow-api-base" content="/api/&#34;&gt;&lt;script&gt;x&lt;/script&gt;" />`,
		`<meta name="sparrow-title" content="Acme &lt;Ops&gt; &amp; &#34;Co&#34;" />`,
		`<title>Acme &lt;Ops&gt; &amp; &#34;Co&#34;</title>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
	page = body(t, get(t, dashboard.Handler(), "/index.html"))
	if !strings.Contains(page, `<meta name="sparrow-api-base" content="/" />`) || !strings.Contains(page, `<title>Sparrow</title>`) {
		t.Errorf("the defaults are not in the page:\n%s", page)
	}
}

func TestAPIOnAnotherOriginIsAllowedToConnect(t *testing.T) {
	res := get(t, dashboard.Handler(dashboard.WithAPIBase("https://api.example.com/sparrow/")), "/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example.com;") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestCompressionAndRevalidation(t *testing.T) {
	h := dashboard.Handler()
	page := body(t, get(t, h, "/"))
	bundle := regexp.MustCompile(`href="\./(_app/immutable/[^"]+\.js)"`).FindStringSubmatch(page)
	if bundle == nil {
		t.Fatalf("no bundle in the page:\n%s", page)
	}
	plain := get(t, h, "/"+bundle[1])
	plainBody := body(t, plain)
	zipped := get(t, h, "/"+bundle[1], "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("not gzipped: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, []byte(plainBody)) {
		t.Error("the gzipped bundle differs from the plain one")
	}
	if plain.Header.Get("ETag") == "" || plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Errorf("ETags: plain %q, gzip %q", plain.Header.Get("ETag"), zipped.Header.Get("ETag"))
	}
	if res := get(t, h, "/"+bundle[1], "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	if res := get(t, h, "/"+bundle[1], "If-None-Match", plain.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}
}

func TestOnlyReads(t *testing.T) {
	rec := httptest.NewRecorder()
	dashboard.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	if res := get(t, dashboard.Handler(), "/../dashboard.go"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /../dashboard.go: %d", res.StatusCode)
	}
}
