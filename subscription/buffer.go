package subscription

import "sync"

// limitedBuffer collects template output up to a limit, and refuses further
// writes once abandoned, so a timed-out execution stops at its next write.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       []byte
	limit     int
	abandoned bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.abandoned {
		return 0, errAbandoned
	}
	if len(b.buf)+len(p) > b.limit {
		return 0, errOutputTooLarge
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *limitedBuffer) abandon() {
	b.mu.Lock()
	b.abandoned = true
	b.mu.Unlock()
}

func (b *limitedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf
}
