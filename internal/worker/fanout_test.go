package worker

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"golang.org/x/sync/semaphore"
)

func TestFanoutTurn(t *testing.T) {
	t.Parallel()

	places := semaphore.NewWeighted(maxFanouts)
	var releases []func()
	for range maxFanouts {
		release, err := fanoutTurn(context.Background(), places, time.Second)
		if err != nil {
			t.Fatalf("a free place: %v", err)
		}
		releases = append(releases, release)
	}

	// Every place taken: the next job waits, then snoozes rather than fail.
	_, err := fanoutTurn(context.Background(), places, 20*time.Millisecond)
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("no place within the wait: err = %v, want a snooze", err)
	}

	// A place given back goes to the job waiting for it.
	got := make(chan error, 1)
	go func() {
		release, err := fanoutTurn(context.Background(), places, time.Minute)
		if err == nil {
			release()
		}
		got <- err
	}()
	releases[0]()
	if err := <-got; err != nil {
		t.Fatalf("after a release: %v", err)
	}
}

func TestNextFanoutChunk(t *testing.T) {
	t.Parallel()

	for _, c := range []struct {
		name                      string
		size, claimed, deliveries int
		want                      int
	}{
		{"one webhook: the rest at once, up to a chunk's deliveries", 100, 100, 100, fanoutChunkDeliveries},
		{"ten webhooks", 100, 100, 1000, fanoutChunkDeliveries / 10},
		{"many webhooks: never so few events that jobs leave the backlog's priority", 100, 100, 100 * 1000, fanoutFirstChunk},
		{"no subscriber: nothing but claims to write", 100, 100, 0, math.MaxInt},
		{"claimed by an earlier run: no measure yet", 100, 0, 0, 100},
		{"partly claimed before", 100, 50, 500, fanoutChunkDeliveries / 10},
	} {
		if got := nextFanoutChunk(c.size, c.claimed, c.deliveries); got != c.want {
			t.Errorf("%s: nextFanoutChunk(%d, %d, %d) = %d, want %d", c.name, c.size, c.claimed, c.deliveries, got, c.want)
		}
	}
}
