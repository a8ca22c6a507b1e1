// Package dashboard serves Sparrow's web UI, built from web/ and embedded,
// as an http.Handler a host mounts under any prefix of its own mux:
//
//	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler(dashboard.WithAPIBase("/"))))
//
// The UI calls the Connect API that transport.Mount serves; WithAPIBase
// tells it where that is.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
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

// WithAPIBase sets the URL path (or absolute URL) where the API is mounted.
// Default: "/".
func WithAPIBase(base string) Option {
	return optionFunc(func(c *config) { c.apiBase = base })
}

// WithTitle sets the title shown in the UI. Default: "Sparrow".
func WithTitle(title string) Option {
	return optionFunc(func(c *config) { c.title = title })
}

// Handler returns the UI. Mount it with http.StripPrefix under the path it
// should live at.
func Handler(opts ...Option) http.Handler {
	cfg := config{apiBase: "/", title: "Sparrow"}
	for _, opt := range opts {
		opt.apply(&cfg)
	}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist
	}
	return http.FileServerFS(root)
}
