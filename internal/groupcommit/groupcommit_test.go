package groupcommit

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	t.Parallel()

	t.Run("EveryItemFlushedOnce", func(t *testing.T) {
		t.Parallel()

		var mu sync.Mutex
		var flushed []int
		var batches int
		g := New(16, func(items []int) error {
			time.Sleep(time.Millisecond) // let submitters pile up
			mu.Lock()
			defer mu.Unlock()
			flushed = append(flushed, items...)
			batches++
			return nil
		})
		const n = 500
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := g.Submit(i); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		slices.Sort(flushed)
		for i := range n {
			if flushed[i] != i {
				t.Fatalf("flushed[%d] = %d: items lost or repeated", i, flushed[i])
			}
		}
		if batches >= n {
			t.Fatalf("%d flushes for %d concurrent items: nothing was batched", batches, n)
		}
	})

	t.Run("BatchBounded", func(t *testing.T) {
		t.Parallel()

		var mu sync.Mutex
		largest := 0
		g := New(4, func(items []int) error {
			time.Sleep(time.Millisecond)
			mu.Lock()
			largest = max(largest, len(items))
			mu.Unlock()
			return nil
		})
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() { _ = g.Submit(i) })
		}
		wg.Wait()
		if largest > 4 {
			t.Fatalf("a batch of %d items, limit 4", largest)
		}
	})

	t.Run("FailedBatchRetriedItemByItem", func(t *testing.T) {
		t.Parallel()

		errBad := errors.New("bad item")
		gate := make(chan struct{})
		first := true
		g := New(10, func(items []int) error {
			if first {
				first = false
				<-gate // hold the first flush so the rest queue into one batch
				return nil
			}
			if slices.Contains(items, 13) {
				return errBad
			}
			return nil
		})
		results := make([]error, 20)
		var wg sync.WaitGroup
		wg.Go(func() { results[0] = g.Submit(0) })
		time.Sleep(10 * time.Millisecond)
		for i := 1; i < 10; i++ {
			wg.Go(func() { results[i] = g.Submit(i + 5) })
		}
		time.Sleep(10 * time.Millisecond)
		close(gate)
		wg.Wait()
		for i, err := range results[:10] {
			want := error(nil)
			if i+5 == 13 {
				want = errBad
			}
			if i > 0 && !errors.Is(err, want) {
				t.Errorf("item %d: err = %v, want %v", i+5, err, want)
			}
		}
	})
}
