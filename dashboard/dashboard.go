// Package dashboard serves Sparrow's web UI, built from web/ and embedded,
// as an http.Handler a host mounts under any prefix of its own mux:
//
//	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler(dashboard.WithAPIBase("/"))))
//
// The UI calls the Connect API that transport.Mount serves; WithAPIBase
// tells it where that is. It needs no Node.js at run time or build time: the
// built app is committed (dashboard/dist) and embedded.
//
// The UI is one page that routes by the URL fragment (/ui/#/default/webhooks),
// so it works under any prefix without being told which. Every response
// carries a strict Content-Security-Policy (no inline script or style, no
// framing, network access to the API only), X-Content-Type-Options: nosniff
// and a frame denial.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// An Option configures Handler.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	apiBase string
	title   string
}

// WithAPIBase sets the URL path (or absolute URL) where the API is mounted:
// the UI calls <base>/webhook.WebhookService/ListWebhooks and so on. A
// relative path resolves against the UI's own URL. Default: "/".
//
// An absolute URL on another origin is added to the policy's connect-src;
// that origin must then allow the UI's requests (CORS) itself.
func WithAPIBase(base string) Option {
	return optionFunc(func(c *config) { c.apiBase = base })
}

// WithTitle sets the title shown in the UI and the browser tab. Default:
// "Sparrow".
func WithTitle(title string) Option {
	return optionFunc(func(c *config) { c.title = title })
}

// The placeholders in the built index.html (web/src/app.html) that Handler
// fills in. The configuration reaches the app through meta elements, which
// the policy allows, rather than through an inline script, which it doesn't.
const (
	apiBaseMeta = `<meta name="sparrow-api-base" content="" />`
	titleMeta   = `<meta name="sparrow-title" content="" />`
	titleTag    = `<title>Sparrow</title>`
)

// Handler returns the UI. Mount it with http.StripPrefix under the path it
// should live at, with a trailing slash ("/ui/"): the UI's own URLs are
// relative to it.
func Handler(opts ...Option) http.Handler {
	cfg := config{apiBase: "/", title: "Sparrow"}
	for _, opt := range opts {
		opt.apply(&cfg)
	}
	h, err := newHandler(dist, cfg)
	if err != nil {
		panic(err) // the embedded build is checked by the package's tests
	}
	return h
}

// asset is one file, ready to serve.
type asset struct {
	body        []byte
	gzipped     []byte // nil when compressing doesn't pay
	etag        string
	contentType string
	immutable   bool
}

type handler struct {
	assets  map[string]*asset // by path without the leading slash; "" is the page
	headers http.Header       // security headers on every response
}

func newHandler(files embed.FS, cfg config) (*handler, error) {
	root, err := fs.Sub(files, "dist")
	if err != nil {
		return nil, err
	}
	h := &handler{assets: map[string]*asset{}, headers: securityHeaders(cfg.apiBase)}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		if p == "index.html" {
			if body, err = configure(body, cfg); err != nil {
				return err
			}
			p = ""
		}
		h.assets[p] = newAsset(p, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.assets[""] == nil {
		return nil, fmt.Errorf("dashboard: the embedded build has no index.html")
	}
	return h, nil
}

// configure fills the page's placeholders with cfg, escaped.
func configure(page []byte, cfg config) ([]byte, error) {
	s := string(page)
	for _, ph := range []string{apiBaseMeta, titleMeta, titleTag} {
		if strings.Count(s, ph) != 1 {
			return nil, fmt.Errorf("dashboard: the embedded index.html lacks the placeholder %s", ph)
		}
	}
	s = strings.Replace(s, apiBaseMeta, `<meta name="sparrow-api-base" content="`+html.EscapeString(cfg.apiBase)+`" />`, 1)
	s = strings.Replace(s, titleMeta, `<meta name="sparrow-title" content="`+html.EscapeString(cfg.title)+`" />`, 1)
	s = strings.Replace(s, titleTag, `<title>`+html.EscapeString(cfg.title)+`</title>`, 1)
	return []byte(s), nil
}

func newAsset(p string, body []byte) *asset {
	sum := sha256.Sum256(body)
	a := &asset{
		body:        body,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		contentType: contentType(p),
		immutable:   strings.HasPrefix(p, "_app/immutable/"),
	}
	if len(body) > 1024 && compressible(a.contentType) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	}
	return a
}

func contentType(p string) string {
	switch ext := path.Ext(p); ext {
	case "", ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "application/json" || contentType == "image/svg+xml"
}

// securityHeaders are sent with every response. The policy allows the
// app's own scripts and styles only (nothing inline, no eval), network
// requests to the UI's origin and the API's, and no framing.
func securityHeaders(apiBase string) http.Header {
	connect := "'self'"
	if u, err := url.Parse(apiBase); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + connect,
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return http.Header{
		"Content-Security-Policy":      {csp},
		"X-Content-Type-Options":       {"nosniff"},
		"X-Frame-Options":              {"DENY"},
		"Referrer-Policy":              {"no-referrer"},
		"Cross-Origin-Opener-Policy":   {"same-origin"},
		"Cross-Origin-Resource-Policy": {"same-origin"},
		"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=()"},
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range h.headers {
		w.Header()[k] = v
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "index.html" {
		p = ""
	}
	a := h.assets[p]
	if a == nil {
		http.Error(w, "not found: the dashboard's pages are under #/ (e.g. ./#/default/webhooks)", http.StatusNotFound)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	if a.immutable {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}
	body := a.body
	if a.gzipped != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			hdr.Set("Content-Encoding", "gzip")
			hdr.Set("ETag", strings.TrimSuffix(a.etag, `"`)+`-gz"`)
			body = a.gzipped
		}
	}
	// ServeContent answers conditional and range requests; the ETag makes
	// If-None-Match work (embedded files have no modification time).
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: it
// names gzip with a weight above zero.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for _, param := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(param), "="); ok && strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
