package sparrow_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/dnstest"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

func TestNewNilPool(t *testing.T) {
	t.Parallel()

	eng, err := sparrow.New(nil)
	if err == nil || eng != nil {
		t.Fatalf("New(nil) = %v, %v; want an error", eng, err)
	}
	if !strings.Contains(err.Error(), "nil pool") {
		t.Fatalf("New(nil): %q does not say the pool is missing", err)
	}
}

// TestNewInvalidOptions gives New each option with a value it can't take:
// New refuses it, naming the option.
func TestNewInvalidOptions(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts []sparrow.Option
		// want are the options the error must name.
		want []string
	}{
		{"MaxPayloadBytes", []sparrow.Option{sparrow.WithMaxPayloadBytes(-1)}, []string{"WithMaxPayloadBytes"}},
		{"MaxConcurrentPerWebhook", []sparrow.Option{sparrow.WithMaxConcurrentPerWebhook(-1)}, []string{"WithMaxConcurrentPerWebhook"}},
		{"MaxWorkers", []sparrow.Option{sparrow.WithMaxWorkers(-1)}, []string{"WithMaxWorkers"}},
		{"ResponseBodyLimit", []sparrow.Option{sparrow.WithResponseBodyLimit(-1)}, []string{"WithResponseBodyLimit"}},
		{"SecretGracePeriod", []sparrow.Option{sparrow.WithSecretGracePeriod(-time.Second)}, []string{"WithSecretGracePeriod"}},
		{"TemplateTimeout", []sparrow.Option{sparrow.WithTemplateTimeout(-time.Second)}, []string{"WithTemplateTimeout"}},
		{"Retention", []sparrow.Option{sparrow.WithRetention(-time.Hour)}, []string{"WithRetention"}},
		{"NamespaceRetentionNegative", []sparrow.Option{sparrow.WithNamespaceRetention("audit", -time.Hour)}, []string{`WithNamespaceRetention("audit")`}},
		{"NamespaceRetentionBadName", []sparrow.Option{sparrow.WithNamespaceRetention("no spaces", time.Hour)}, []string{"WithNamespaceRetention"}},
		{"NamespaceRetentionEmptyName", []sparrow.Option{sparrow.WithNamespaceRetention("", time.Hour)}, []string{"WithNamespaceRetention"}},
		{"HealthThresholds", []sparrow.Option{sparrow.WithHealthThresholds(health.Thresholds{Window: time.Second})}, []string{"WithHealthThresholds"}},
		{"SecretKeyShort", []sparrow.Option{sparrow.WithSecretKeys(sparrow.SecretKey{ID: "k1", Key: []byte("too short")})}, []string{"WithSecretKeys"}},
		{"SeveralAtOnce", []sparrow.Option{sparrow.WithMaxWorkers(-1), sparrow.WithTemplateTimeout(-time.Second)},
			[]string{"WithMaxWorkers", "WithTemplateTimeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			eng, err := sparrow.New(pgtest.Pool(t), tt.opts...)
			if err == nil || eng != nil {
				t.Fatalf("New accepted it: %v, %v", eng, err)
			}
			for _, option := range tt.want {
				if !strings.Contains(err.Error(), option) {
					t.Errorf("error %q does not name %s", err, option)
				}
			}
		})
	}

	t.Run("ValidValues", func(t *testing.T) {
		t.Parallel()

		// The same options with values they take: the refusals above are
		// about the values, not the options.
		_, err := sparrow.New(pgtest.Pool(t),
			sparrow.WithMaxPayloadBytes(1<<10), sparrow.WithMaxConcurrentPerWebhook(2), sparrow.WithMaxWorkers(8),
			sparrow.WithResponseBodyLimit(1<<10), sparrow.WithSecretGracePeriod(time.Hour), sparrow.WithTemplateTimeout(time.Second),
			sparrow.WithRetention(0), sparrow.WithNamespaceRetention("audit", time.Hour),
			sparrow.WithHealthThresholds(health.Thresholds{Window: time.Hour}),
			sparrow.WithSecretKeys(sparrow.SecretKey{ID: "k1", Key: make([]byte, 32)}),
		)
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestWithCheckRetry(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		check        delivery.CheckRetry
		status       int
		wantStatus   delivery.Status
		wantAttempts int
	}{
		// The default retries neither a 404 nor ...
		{"RetriesWhatTheDefaultDoesNot", func(o *delivery.Outcome) bool { return o.StatusCode == http.StatusNotFound }, http.StatusNotFound,
			delivery.StatusSucceeded, 2},
		// ... stops at a 500, which it retries.
		{"StopsWhereTheDefaultRetries", func(*delivery.Outcome) bool { return false }, http.StatusInternalServerError,
			delivery.StatusFailed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := setup(t, sparrow.WithCheckRetry(tt.check))
			b.start(t)
			rcv := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
				if n == 1 {
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			_, d := b.pushOne(t, rcv, func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 5 })
			d = b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
			if d.Status != tt.wantStatus || d.AttemptCount != tt.wantAttempts {
				t.Fatalf("status %s after %d attempts, want %s after %d", d.Status, d.AttemptCount, tt.wantStatus, tt.wantAttempts)
			}
		})
	}
}

func TestWithQueue(t *testing.T) {
	t.Parallel()

	b := setup(t, sparrow.WithQueue("partner_hooks"))
	riverConfig := &river.Config{Schema: b.schema}
	if err := b.eng.Install(riverConfig); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"partner_hooks"}, slices.Sorted(maps.Keys(riverConfig.Queues))); diff != "" {
		t.Fatalf("Queues (-want +got):\n%s", diff)
	}
	b.start(t)
	rcv := newReceiver(t, nil)
	_, d := b.pushOne(t, rcv, nil)
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))

	rows, err := b.pool.Query(context.Background(),
		"SELECT DISTINCT queue FROM "+pgx.Identifier{b.schema, "river_job"}.Sanitize()+" ORDER BY queue")
	if err != nil {
		t.Fatal(err)
	}
	queues, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"partner_hooks"}, queues); diff != "" {
		t.Fatalf("queues of the jobs inserted (-want +got):\n%s", diff)
	}
}

// roundTripperFunc is an http.RoundTripper from a function.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()

	var sent atomic.Int64
	client := &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		r = r.Clone(r.Context())
		r.Header.Set("X-Via", "host-client")
		return http.DefaultTransport.RoundTrip(r)
	})}
	b := setup(t)
	// Without WithAllowPrivateNetworks: the host's client takes over the
	// destination checks, so loopback is reached (the default client
	// refuses it, see TestDeliveryBlockedDestination).
	eng, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithLogger(testLogger(t)), sparrow.WithHTTPClient(client))
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	b.start(t)
	rcv := newReceiver(t, nil)
	_, d := b.pushOne(t, rcv, nil)
	b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
	if got := rcv.received()[0].Header.Get("X-Via"); got != "host-client" || sent.Load() != 1 {
		t.Fatalf("X-Via %q after %d requests through the host's client, want host-client after 1", got, sent.Load())
	}
}

// TestWithSecretGracePeriod rotates a secret on an engine whose grace period
// is an hour: half an hour later deliveries are signed by both secrets, two
// hours later (within the default 24h) only by the new one.
func TestWithSecretGracePeriod(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	rotatedAt := time.Now()
	var clock atomic.Int64
	clock.Store(rotatedAt.UnixNano())
	b := setup(t, sparrow.WithSecretGracePeriod(time.Hour), sparrow.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"}})
	rotated, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID})
	if err != nil {
		t.Fatal(err)
	}

	signedBy := func(after time.Duration) []bool {
		t.Helper()
		clock.Store(rotatedAt.Add(after).UnixNano())
		ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
		b.waitDelivery(t, "default", d.ID, statusIs(delivery.StatusSucceeded))
		var req *receivedRequest
		for _, r := range rcv.received() {
			if r.Header.Get("Webhook-Id") == d.ID {
				req = &r
			}
		}
		var verified []bool
		for _, secret := range []string{w.Secret, rotated.Secret} {
			verifier, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			// The timestamp is the engine's clock, hours from the real one.
			verified = append(verified, verifier.VerifyIgnoringTimestamp(req.Body, req.Header) == nil)
		}
		return verified
	}
	if diff := cmp.Diff([]bool{true, true}, signedBy(30*time.Minute)); diff != "" {
		t.Errorf("within the grace period, verified by [old new] (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, true}, signedBy(2*time.Hour)); diff != "" {
		t.Errorf("past the grace period, verified by [old new] (-want +got):\n%s", diff)
	}
}

func TestWithTemplateTimeout(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	// Every range iteration checks the deadline; a nanosecond is always
	// past by the first.
	const template = `{"n": {{len .items}}{{range .items}}{{end}}}`
	payload := []byte(`{"items": [1, 2, 3]}`)

	if got, err := setup(t).eng.RenderTemplate(ctx, template, payload); err != nil || string(got) != `{"n": 3}` {
		t.Fatalf("with the default timeout: %s, %v", got, err)
	}
	b := setup(t, sparrow.WithTemplateTimeout(time.Nanosecond))
	_, err := b.eng.RenderTemplate(ctx, template, payload)
	wantInvalid(t, err, "template")
	if !strings.Contains(err.Error(), "ran past its 1ns limit") {
		t.Fatalf("err = %v, want it to say the template took too long", err)
	}

	// Fan-out renders under the same bound.
	b.start(t)
	rcv := newReceiver(t, nil)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL})
	if _, err := b.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{WebhookID: w.ID, EventName: "order.created", Template: template}); err != nil {
		t.Fatal(err)
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	d := b.waitDeliveries(t, "default", ev.ID, 1)[0]
	if d.Status != delivery.StatusFailed || d.LastErrorClass != delivery.ClassTransform || !strings.Contains(d.LastError, "ran past its 1ns limit") {
		t.Fatalf("delivery %s, class %q (%s); want failed, transform, timed out", d.Status, d.LastErrorClass, d.LastError)
	}
	if n := len(rcv.received()); n != 0 {
		t.Fatalf("a timed-out template still sent %d requests", n)
	}
}

// TestWithAllowedCIDRs allows loopback by CIDR on an engine that otherwise
// keeps the default policy: the loopback receiver gets its delivery, other
// non-public destinations are still refused at dial time.
func TestWithAllowedCIDRs(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	rcv := newReceiver(t, nil)
	port := rcv.Listener.Addr().(*net.TCPAddr).Port
	dns := dnstest.New(t, map[string][]netip.Addr{
		"loopback.customer.test.": {netip.MustParseAddr("127.0.0.1")},
		"private.customer.test.":  {netip.MustParseAddr("10.0.0.7")},
		"metadata.customer.test.": {netip.MustParseAddr("169.254.169.254")},
		"v6.customer.test.":       {netip.MustParseAddr("::1")},
	})
	b := setup(t)
	eng, err := sparrow.New(b.pool, sparrow.WithSchema(b.schema), sparrow.WithLogger(testLogger(t)), sparrow.WithResolver(dns.Resolver()),
		sparrow.WithAllowedCIDRs(netip.MustParsePrefix("127.0.0.0/8")))
	if err != nil {
		t.Fatal(err)
	}
	b.eng = eng
	b.start(t)
	b.registerEvent(t, "order.created")
	want := map[string]delivery.ErrorClass{}
	for host, class := range map[string]delivery.ErrorClass{
		"loopback.customer.test": delivery.ClassNone,
		"private.customer.test":  delivery.ClassBlockedDestination,
		"metadata.customer.test": delivery.ClassBlockedDestination,
		"v6.customer.test":       delivery.ClassBlockedDestination, // ::1 is not in 127.0.0.0/8
	} {
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: fmt.Sprintf("http://%s:%d/hook", host, port), Events: []string{"order.created"}})
		want[w.ID] = class
	}
	ev, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]delivery.ErrorClass{}
	for _, d := range b.waitDeliveries(t, "default", ev.ID, len(want)) {
		final := b.waitDelivery(t, "default", d.ID, func(d *delivery.Delivery) bool { return d.Status.Final() })
		got[d.WebhookID] = final.LastErrorClass
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("last error class by webhook (-want +got):\n%s", diff)
	}
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("the receiver got %d requests, want only the allowed webhook's", n)
	}
}

// hostJobArgs is a job of a host's own, for a host River client.
type hostJobArgs struct{}

func (hostJobArgs) Kind() string { return "host_job" }

// TestInstall: Install adds Sparrow's workers, queue and periodic jobs to a
// host's configuration, beside the host's own, and refuses, changing
// nothing, a configuration it would contradict.
func TestInstall(t *testing.T) {
	t.Parallel()

	b := setup(t, sparrow.WithMaxWorkers(40))
	hostWorkers := river.NewWorkers()
	river.AddWorker(hostWorkers, river.WorkFunc(func(context.Context, *river.Job[hostJobArgs]) error { return nil }))
	hostJob := river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return hostJobArgs{}, nil }, nil)
	hostQueues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}}
	cfg := &river.Config{Schema: b.schema, Workers: hostWorkers, Queues: hostQueues, PeriodicJobs: []*river.PeriodicJob{hostJob}}
	if err := b.eng.Install(cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}, sparrow.QueueDefault: {MaxWorkers: 40}}
	if diff := cmp.Diff(want, cfg.Queues); diff != "" {
		t.Errorf("Queues (-want +got):\n%s", diff)
	}
	if len(hostQueues) != 1 {
		t.Errorf("the host's own map changed: %v", hostQueues)
	}
	if cfg.Workers != hostWorkers || len(cfg.PeriodicJobs) != 3 || cfg.PeriodicJobs[0] != hostJob {
		t.Errorf("Workers kept: %v; periodic jobs %d, want the host's then the sweep and retention", cfg.Workers == hostWorkers, len(cfg.PeriodicJobs))
	}

	for name, bad := range map[string]*river.Config{
		"ConflictingQueue": {Schema: b.schema, Queues: map[string]river.QueueConfig{sparrow.QueueDefault: {MaxWorkers: 7}}},
		"OtherSchema":      {Schema: "elsewhere"},
		"InstalledTwice":   {Schema: b.schema, Workers: hostWorkers},
	} {
		before := *bad
		err := b.eng.Install(bad)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if bad.Workers != before.Workers || len(bad.Queues) != len(before.Queues) || len(bad.PeriodicJobs) != 0 {
			t.Errorf("%s: refused (%v) but changed the configuration", name, err)
		}
	}
	if err := b.eng.Install(nil); err == nil {
		t.Error("nil configuration: accepted")
	}
}

// TestInstallDelivers: a host's River client with Install's configuration
// delivers single pushes and batches, and runs the host's own jobs.
func TestInstallDelivers(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b, rcv := subscribedBundle(t)
	ran := make(chan struct{}, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[hostJobArgs]) error {
		ran <- struct{}{}
		return nil
	}))
	cfg := &river.Config{
		Logger: testLogger(t), Schema: b.schema, Workers: workers, FetchCooldown: 10 * time.Millisecond,
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
	}
	if err := b.eng.Install(cfg); err != nil {
		t.Fatal(err)
	}
	client, err := river.NewClient(riverpgxv5.New(b.pool), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.eng.Stop(context.Background())
		client.Stop(context.Background())
	})
	if _, err := client.Insert(ctx, hostJobArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.eng.PushEvents(ctx, []sparrow.PushEventParams{{Name: "order.created", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	rcv.waitRequests(t, 2)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the host's own job did not run")
	}
}
