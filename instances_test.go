package sparrow_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// TestThreeInstances runs three engines, each with its own River client, on
// one database while events keep coming: every delivery is sent exactly
// once (each receiver answers 200 the first time), and health counts every
// attempt once, whichever engine made it.
func TestThreeInstances(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	var mu sync.Mutex
	perDelivery := map[string]int{}
	rcv := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		perDelivery[r.Header.Get("Webhook-Id")]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	})
	b.registerEvent(t, "order.created")
	webhooks := []string{
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}}).ID,
		b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}}).ID,
	}
	engines := []*sparrow.Engine{b.eng}
	for range 2 {
		eng, err := sparrow.New(pgtest.Pool(t), sparrow.WithSchema(b.schema), sparrow.WithAllowPrivateNetworks(),
			sparrow.WithLogger(testLogger(t)), sparrow.WithBackoff(fastBackoff))
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, eng)
	}
	for _, eng := range engines {
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Stop(context.Background()) })
	}

	// Pushed through every engine, in batches and one by one, while all
	// three deliver.
	const rounds, perRound = 10, 30
	for round := range rounds {
		eng := engines[round%len(engines)]
		batch := make([]sparrow.PushEventParams, perRound)
		for i := range batch {
			batch[i] = sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}
		}
		if _, err := eng.PushEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for range perRound / 3 {
			if _, err := eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const total = (rounds*perRound + rounds*(perRound/3)) * 2
	rcv.waitRequests(t, total)
	for deadline := time.Now().Add(20 * time.Second); countStatus(t, b, delivery.StatusSucceeded) < total; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded", countStatus(t, b, delivery.StatusSucceeded), total)
		}
		time.Sleep(20 * time.Millisecond)
	}

	mu.Lock()
	for id, n := range perDelivery {
		if n != 1 {
			t.Errorf("delivery %s was sent %d times", id, n)
		}
	}
	distinct := len(perDelivery)
	mu.Unlock()
	if distinct != total {
		t.Fatalf("%d distinct deliveries received, want %d", distinct, total)
	}
	// All three took part: River records which client ran each job.
	var clients int
	if err := b.pool.QueryRow(ctx, "SELECT count(DISTINCT attempted_by[1]) FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+
		" WHERE kind = 'sparrow_deliver'").Scan(&clients); err != nil {
		t.Fatal(err)
	}
	if clients != len(engines) {
		t.Fatalf("deliveries ran in %d River clients, want %d", clients, len(engines))
	}
	if n := b.count(t, "sparrow_delivery_attempt"); n != total {
		t.Fatalf("%d attempts recorded, want %d", n, total)
	}
	for _, id := range webhooks {
		h, err := b.eng.GetWebhookHealth(ctx, "default", id)
		if err != nil {
			t.Fatal(err)
		}
		if h.Attempts != total/2 || h.Successes != total/2 || h.State != "healthy" {
			t.Errorf("webhook %s health: %d attempts, %d successes, %s; want %d, %d, healthy",
				id, h.Attempts, h.Successes, h.State, total/2, total/2)
		}
	}
}
