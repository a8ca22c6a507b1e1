package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows on stderr which step runs and how far it is: a bar redrawn
// in place on a terminal, plain lines elsewhere (logs, CI), or nothing.
type progress struct {
	w    io.Writer
	mode string // "bar", "lines" or "off"

	mu      sync.Mutex
	total   int
	current int
	name    string
	began   time.Time
	tracker func() (fraction float64, detail string)
	drawn   bool
	running bool // the redraw loop runs

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

const (
	barRedraw   = 200 * time.Millisecond
	linesUpdate = 15 * time.Second
	barWidth    = 24
)

func newProgress(w io.Writer, mode string) *progress {
	if mode == "auto" {
		mode = "lines"
		if isTerminal(w) {
			mode = "bar"
		}
	}
	return &progress{w: w, mode: mode, stop: make(chan struct{}), stopped: make(chan struct{})}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// note prints a line before the steps start.
func (p *progress) note(msg string) {
	if p.mode != "off" {
		fmt.Fprintf(p.w, "bench: %s\n", msg)
	}
}

// start begins the display of total steps.
func (p *progress) start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	if p.mode != "off" && !p.running {
		p.running = true
		go p.loop()
	}
}

func (p *progress) loop() {
	defer close(p.stopped)
	every := barRedraw
	if p.mode == "lines" {
		every = linesUpdate
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			if p.mode == "bar" {
				p.drawBar()
			} else if p.tracker != nil && time.Since(p.began) >= linesUpdate {
				fraction, detail := p.tracker()
				fmt.Fprintf(p.w, "bench: %s   %3.0f%%  %s\n", p.prefix(), 100*fraction, detail)
			}
			p.mu.Unlock()
		}
	}
}

// begin starts the next step.
func (p *progress) begin(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current++
	p.name, p.began, p.tracker = name, time.Now(), nil
	switch p.mode {
	case "lines":
		fmt.Fprintf(p.w, "bench: %s ...\n", p.prefix())
	case "bar":
		p.drawBar()
	}
}

// track sets how the current step reports its progress.
func (p *progress) track(tracker func() (float64, string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracker = tracker
}

// end closes the current step with its summary.
func (p *progress) end(summary string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracker = nil
	elapsed := time.Since(p.began).Round(100 * time.Millisecond)
	switch p.mode {
	case "lines":
		fmt.Fprintf(p.w, "bench: %s: %s (%s)\n", p.prefix(), summary, elapsed)
	case "bar":
		p.clearBar()
		fmt.Fprintf(p.w, "  ✓ %s: %s (%s)\n", p.name, summary, elapsed)
	}
}

// fail closes the current step with its error.
func (p *progress) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracker = nil
	switch p.mode {
	case "lines":
		fmt.Fprintf(p.w, "bench: %s: failed: %v\n", p.prefix(), err)
	case "bar":
		p.clearBar()
		fmt.Fprintf(p.w, "  ✗ %s: %v\n", p.name, err)
	}
}

// close stops the display; it may be called more than once.
func (p *progress) close() {
	p.once.Do(func() {
		close(p.stop)
		p.mu.Lock()
		running := p.running
		p.mu.Unlock()
		if running {
			<-p.stopped
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.clearBar()
	})
}

func (p *progress) prefix() string {
	return fmt.Sprintf("[%d/%d] %s", p.current, p.total, p.name)
}

// drawBar redraws the bar line; p.mu is held.
func (p *progress) drawBar() {
	if p.current == 0 {
		return
	}
	// The bar covers the whole run: finished steps, plus the current one's
	// fraction when it reports one.
	fraction, detail := 0.0, ""
	if p.tracker != nil {
		fraction, detail = p.tracker()
	}
	overall := (float64(p.current-1) + fraction) / float64(p.total)
	filled := int(overall * barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	elapsed := time.Since(p.began).Truncate(time.Second)
	fmt.Fprintf(p.w, "\r\033[K%s %s  %s  %s", bar, p.prefix(), detail, elapsed)
	p.drawn = true
}

// clearBar erases the bar line; p.mu is held.
func (p *progress) clearBar() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
