package worker

import (
	"context"
	"errors"
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
