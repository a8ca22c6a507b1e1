package worker

import (
	"sync"
	"time"

	"github.com/sparrowhq/sparrow/subscription"
)

// templateCacheSize bounds the compiled templates kept; past it the cache
// starts over, which costs a few re-parses and never grows memory.
const templateCacheSize = 1024

// templateCache keeps subscription templates compiled, keyed by their text,
// so fan-out parses each once rather than once per event.
type templateCache struct {
	timeout time.Duration

	mu       sync.Mutex
	compiled map[string]*subscription.Template
}

func newTemplateCache(timeout time.Duration) *templateCache {
	return &templateCache{timeout: timeout, compiled: map[string]*subscription.Template{}}
}

// render runs the template text on payload.
func (c *templateCache) render(text string, payload []byte) ([]byte, error) {
	c.mu.Lock()
	tmpl, ok := c.compiled[text]
	c.mu.Unlock()
	if !ok {
		var err error
		// Saved templates were validated; one failing here was stored by
		// other means, and fails its deliveries as a transform error.
		if tmpl, err = subscription.ParseTemplate("template", text); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.compiled) >= templateCacheSize {
			clear(c.compiled)
		}
		c.compiled[text] = tmpl
		c.mu.Unlock()
	}
	return tmpl.Render(payload, c.timeout)
}
