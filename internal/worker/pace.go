package worker

import (
	"context"
	"time"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/store"
)

// paceHorizon is how far ahead a job reserves a rate-limited webhook's
// turns: past it, the job leaves its deliveries to a job due at their turn
// rather than hold its place waiting.
const paceHorizon = 2 * time.Second

// pace keeps a job's attempts to a webhook within its rate limit, by turns
// reserved in the database (store.WebhookRateReserve) so that every engine
// shares the limit.
type pace struct {
	perSecond int
	interval  time.Duration
}

func newPace(perSecond int) *pace {
	p := &pace{perSecond: perSecond}
	if perSecond > 0 {
		p.interval = time.Second / time.Duration(perSecond)
	}
	return p
}

// chunk bounds the attempts to reserve at once: the turns of one horizon,
// so that reserving a chunk never runs far past it.
func (p *pace) chunk(n int) int {
	if p.perSecond == 0 {
		return n
	}
	return max(1, min(n, int(paceHorizon/p.interval)))
}

// reserve reserves n turns and returns the first, or, when the next free
// turn is too far off, when reserving may succeed again and false: the
// deliveries go to a job due then. Without a limit every turn is now.
func (p *pace) reserve(ctx context.Context, db dbutil.DB, webhookID string, n int) (time.Time, bool, error) {
	if p.perSecond == 0 {
		return time.Time{}, true, nil
	}
	first, ok, err := store.WebhookRateReserve(ctx, db, webhookID, p.perSecond, n, paceHorizon)
	if err != nil || ok {
		return first, ok, err
	}
	return first.Add(-paceHorizon / 2), false, nil
}

// wait waits for turn k of those reserved from first, and reports whether
// it came (false: ctx ended first).
func (p *pace) wait(ctx context.Context, first time.Time, k int) bool {
	if p.perSecond == 0 {
		return true
	}
	d := time.Until(first.Add(time.Duration(k) * p.interval))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
