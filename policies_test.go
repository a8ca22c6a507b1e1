package sparrow_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
)

// TestRetrySchedule: a webhook's retry schedule replaces the backoff, the
// attempt limit following its length; a receiver's longer Retry-After
// still wins.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithBackoff(delivery.DefaultBackoff))
	b.start(t)
	rcv := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if r.URL.Path == "/limited" {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	b.registerEvent(t, "order.created")
	schedule := []time.Duration{7 * time.Second, 3 * time.Hour}
	plain := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, RetrySchedule: schedule})
	limited := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL + "/limited", Events: []string{"order.created"}, RetrySchedule: schedule})
	if plain.MaxAttempts != 3 || !slices.Equal(plain.RetrySchedule, schedule) {
		t.Fatalf("registered with attempts %d, schedule %v; want 3 and %v", plain.MaxAttempts, plain.RetrySchedule, schedule)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.waitDeliveries(t, "default", ev.ID, 2) {
		d := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.AttemptCount == 1 })
		wait := d.NextAttemptAt.Sub(d.LastAttemptAt).Round(time.Second)
		want := schedule[0]
		if d.WebhookID == limited.ID {
			want = 120 * time.Second // Retry-After, longer than the schedule's wait
		}
		if d.Status != delivery.StatusRetrying || wait != want || d.MaxAttempts != 3 {
			t.Errorf("webhook %s: %s, next attempt %s after the first, limit %d; want retrying after %s, limit 3",
				d.WebhookID, d.Status, wait, d.MaxAttempts, want)
		}
	}

	// Updating the schedule sets the limit from it; clearing it restores
	// the backoff and the default limit.
	longer := []time.Duration{time.Second, time.Second, time.Second, time.Second}
	w, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: plain.ID, RetrySchedule: &longer})
	if err != nil || w.MaxAttempts != 5 || len(w.RetrySchedule) != 4 {
		t.Fatalf("after setting 4 waits: %+v, %v; want 5 attempts", w, err)
	}
	w, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: plain.ID, RetrySchedule: &[]time.Duration{}})
	if err != nil || w.MaxAttempts != 8 || w.RetrySchedule != nil {
		t.Fatalf("after clearing: %+v, %v; want the default 8 attempts and no schedule", w, err)
	}
}

// TestPolicyValidation: bad schedules and rate limits are refused, naming
// the field, and change nothing.
func TestPolicyValidation(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	tooMany := make([]time.Duration, 21)
	for i := range tooMany {
		tooMany[i] = time.Minute
	}
	for field, p := range map[string]sparrow.RegisterWebhookParams{
		"retry_schedule":        {RetrySchedule: tooMany},
		"retry_schedule[1]":     {RetrySchedule: []time.Duration{time.Second, 500 * time.Millisecond}},
		"retry_schedule[0]":     {RetrySchedule: []time.Duration{25 * time.Hour}},
		"rate_limit_per_second": {RateLimitPerSecond: -1},
	} {
		p.URL = "https://example.com/hooks"
		_, err := b.eng.RegisterWebhook(ctx, p)
		wantInvalid(t, err, field)
	}
	_, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{URL: "https://example.com/hooks", RateLimitPerSecond: 10_001})
	wantInvalid(t, err, "rate_limit_per_second")
	if n := b.count(t, "sparrow_webhook"); n != 0 {
		t.Fatalf("%d webhooks stored by refused registrations", n)
	}
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/hooks", RateLimitPerSecond: 5})
	_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, RateLimitPerSecond: ptr(-5)})
	wantInvalid(t, err, "rate_limit_per_second")
	got, err := b.eng.GetWebhook(ctx, "default", w.ID)
	if err != nil || got.RateLimitPerSecond != 5 {
		t.Fatalf("after a refused update: %+v, %v; want the limit kept at 5", got, err)
	}
}

// arrivalsWithin returns the most requests that arrived within any window
// of d.
func arrivalsWithin(reqs []receivedRequest, d time.Duration) int {
	most := 0
	for i := range reqs {
		n := 0
		for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < d; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// TestRateLimitSharedByEngines: three engines on one database deliver to a
// webhook limited to 10 requests a second, its receiver failing some
// requests and holding others past its timeout: together they never send
// more than the limit, and the deliveries waiting for their turn spend no
// attempt.
func TestRateLimitSharedByEngines(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t, sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Second }))
	rcv := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		switch {
		case n%7 == 3:
			w.WriteHeader(http.StatusInternalServerError)
		case n%11 == 5:
			time.Sleep(1500 * time.Millisecond) // past the webhook's 1s timeout
		}
	})
	b.registerEvent(t, "order.created")
	const limit, events = 10, 60
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}, RateLimitPerSecond: limit,
		Timeout: time.Second})
	b.start(t)
	for range 2 {
		eng := newEngine(t, b.schema, sparrow.WithAllowPrivateNetworks(), sparrow.WithBackoff(func(int, *delivery.Outcome) time.Duration { return time.Second }))
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Stop(context.Background()) })
	}
	batch := make([]sparrow.PushEventParams, events)
	for i := range batch {
		batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: mustJSON(t, map[string]int{"n": i})}
	}
	// Three batches, so that each engine's fan-out makes delivery jobs.
	for part := range slices.Chunk(batch, events/3) {
		if _, err := b.eng.PushEvents(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(time.Minute); countStatus(t, b, delivery.StatusSucceeded) < events; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), events)
		}
	}
	reqs := rcv.received()
	// A turn is when a request starts; requests held up on their way (a
	// loaded machine delays a goroutine by a turn or two) may land beside
	// the next, so two more than the limit can share a second. Three
	// engines that did not share the limit would send three times as many.
	if most := arrivalsWithin(reqs, time.Second); most > limit+2 {
		t.Errorf("%d requests within one second, limit %d", most, limit)
	}
	if most := arrivalsWithin(reqs, 3*time.Second); most > 3*limit+2 {
		t.Errorf("%d requests within three seconds, limit %d a second", most, limit)
	}
	page, err := b.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{WebhookID: w.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for _, d := range page.Items {
		attempts += d.AttemptCount
	}
	if attempts != len(reqs) {
		t.Errorf("%d attempts recorded for %d requests: waiting for a turn must spend none", attempts, len(reqs))
	}
	elapsed := reqs[len(reqs)-1].At.Sub(reqs[0].At)
	if min := time.Duration(len(reqs)-limit-1) * time.Second / limit; elapsed < min {
		t.Errorf("%d requests in %s: faster than %d a second", len(reqs), elapsed, limit)
	}
	t.Logf("%d requests for %d deliveries in %s; at most %d in a second", len(reqs), events, elapsed.Round(time.Millisecond),
		arrivalsWithin(reqs, time.Second))
}
