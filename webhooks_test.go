package sparrow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/subscription"
	"github.com/sparrowhq/sparrow/webhook"
)

var ignoreWebhookTimes = cmpopts.IgnoreFields(webhook.Webhook{}, "ID", "CreatedAt", "UpdatedAt", "StateChangedAt", "Secret")

func TestRegisterWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created", "order.paid")
		got, err := b.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
			Namespace:   "billing",
			URL:         "https://example.com/hooks",
			Description: "orders to the ledger",
			Events:      []string{"order.paid", "order.created"},
			Headers:     map[string]string{"Authorization": "Bearer abc"},
			Timeout:     10 * time.Second,
			MaxAttempts: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &webhook.Webhook{
			Namespace:   "billing",
			URL:         "https://example.com/hooks",
			Description: "orders to the ledger",
			Events:      []string{"order.created", "order.paid"},
			State:       webhook.StateActive,
			Headers:     map[string]string{"Authorization": webhook.MaskedHeaderValue},
			Timeout:     10 * time.Second,
			MaxAttempts: 3,
			// Reads show the scheme, the default one here.
			SignatureScheme: webhook.SchemeHMAC,
		}
		if diff := cmp.Diff(want, got, ignoreWebhookTimes); diff != "" {
			t.Fatalf("registered (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(got.ID, "wh_") {
			t.Fatalf("id %q lacks the wh_ prefix", got.ID)
		}
		if !strings.HasPrefix(got.Secret, webhook.SecretPrefix) {
			t.Fatalf("generated secret %q is not in the whsec_ format", got.Secret)
		}
		if _, err := webhook.SigningKey(got.Secret); err != nil {
			t.Fatalf("generated secret does not decode: %v", err)
		}

		stored, err := b.eng.GetWebhook(ctx, "billing", got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Secret != "" {
			t.Fatal("GetWebhook revealed the secret")
		}
		if diff := cmp.Diff(want, stored, ignoreWebhookTimes); diff != "" {
			t.Fatalf("stored (-want +got):\n%s", diff)
		}
		subs, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{Namespace: "billing", WebhookID: got.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(subs.Items) != 2 {
			t.Fatalf("registration made %d subscriptions, want 2", len(subs.Items))
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		got := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "http://example.com/x", Secret: "my plain secret"})
		if got.Namespace != "default" || got.Timeout != webhook.TimeoutDefault || got.MaxAttempts != webhook.MaxAttemptsDefault {
			t.Fatalf("defaults not applied: %+v", got)
		}
		if got.Secret != "my plain secret" {
			t.Fatalf("given secret replaced by %q", got.Secret)
		}
		if got.Events == nil || len(got.Events) != 0 {
			t.Fatalf("Events = %#v, want empty", got.Events)
		}
	})

	t.Run("Inactive", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		got := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "http://example.com/x", Inactive: true})
		if got.State != webhook.StatePaused {
			t.Fatalf("State = %s, want paused", got.State)
		}
	})

	t.Run("InvalidInput", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		valid := sparrow.RegisterWebhookParams{URL: "https://example.com/hook", Events: []string{"order.created"}}
		with := func(change func(p *sparrow.RegisterWebhookParams)) sparrow.RegisterWebhookParams {
			p := valid
			change(&p)
			return p
		}
		tests := []struct {
			name  string
			p     sparrow.RegisterWebhookParams
			field string
		}{
			{"NoURL", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "" }), "url"},
			{"FTPURL", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "ftp://example.com/x" }), "url"},
			{"RelativeURL", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "/hooks" }), "url"},
			{"URLWithCredentials", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "https://u:p@example.com/" }), "url"},
			{"URLWithFragment", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "https://example.com/#x" }), "url"},
			{"URLNoHost", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "https:///path" }), "url"},
			{"URLTooLong", with(func(p *sparrow.RegisterWebhookParams) { p.URL = "https://example.com/" + strings.Repeat("a", 2048) }), "url"},
			{"BadNamespace", with(func(p *sparrow.RegisterWebhookParams) { p.Namespace = "has space" }), "namespace"},
			{"NamespaceTooLong", with(func(p *sparrow.RegisterWebhookParams) { p.Namespace = strings.Repeat("n", 65) }), "namespace"},
			{"UnregisteredEvent", with(func(p *sparrow.RegisterWebhookParams) { p.Events = []string{"order.created", "nope"} }), "events[1]"},
			{"BadEventName", with(func(p *sparrow.RegisterWebhookParams) { p.Events = []string{"bad name"} }), "events[0]"},
			{"DuplicateEvent", with(func(p *sparrow.RegisterWebhookParams) { p.Events = []string{"order.created", "order.created"} }), "events[1]"},
			{"ReservedHeader", with(func(p *sparrow.RegisterWebhookParams) { p.Headers = map[string]string{"Webhook-Signature": "x"} }), "headers[Webhook-Signature]"},
			{"ContentTypeHeader", with(func(p *sparrow.RegisterWebhookParams) { p.Headers = map[string]string{"content-type": "text/plain"} }), "headers[content-type]"},
			{"BadHeaderName", with(func(p *sparrow.RegisterWebhookParams) { p.Headers = map[string]string{"Bad Header": "x"} }), "headers[Bad Header]"},
			{"HeaderInjection", with(func(p *sparrow.RegisterWebhookParams) { p.Headers = map[string]string{"X-A": "a\r\nX-B: b"} }), "headers[X-A]"},
			{"TimeoutTooLong", with(func(p *sparrow.RegisterWebhookParams) { p.Timeout = 61 * time.Second }), "timeout_seconds"},
			{"TimeoutTooShort", with(func(p *sparrow.RegisterWebhookParams) { p.Timeout = time.Millisecond }), "timeout_seconds"},
			{"NegativeAttempts", with(func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = -1 }), "max_attempts"},
			{"TooManyAttempts", with(func(p *sparrow.RegisterWebhookParams) { p.MaxAttempts = 51 }), "max_attempts"},
			{"BadWhsecSecret", with(func(p *sparrow.RegisterWebhookParams) { p.Secret = "whsec_not*base64" }), "webhook_secret"},
			{"SecretNUL", with(func(p *sparrow.RegisterWebhookParams) { p.Secret = "a\x00b" }), "webhook_secret"},
			{"DescriptionInvalidUTF8", with(func(p *sparrow.RegisterWebhookParams) { p.Description = "\xc3\x28" }), "description"},
		}
		for _, tt := range tests {
			_, err := b.eng.RegisterWebhook(ctx, tt.p)
			t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
		}
		for _, table := range []string{"sparrow_webhook", "sparrow_webhook_secret", "sparrow_subscription"} {
			if n := b.count(t, table); n != 0 {
				t.Errorf("refused input left %d rows in %s", n, table)
			}
		}
	})

	t.Run("TxRolledBack", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "order.created")
		tx, err := b.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := b.eng.RegisterWebhookTx(ctx, tx, sparrow.RegisterWebhookParams{URL: "https://example.com", Events: []string{"order.created"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.GetWebhook(ctx, "default", w.ID)
		wantErr(t, err, sparrow.ErrNotFound)
		if n := b.count(t, "sparrow_subscription"); n != 0 {
			t.Fatalf("rolled back registration left %d subscriptions", n)
		}
	})
}

func TestGetWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com"})

	_, err := b.eng.GetWebhook(ctx, "default", "wh_01aaaaaaaaaaaaaaaaaaaaaaaa")
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.GetWebhook(ctx, "default", "not-an-id")
	wantInvalid(t, err, "webhook_id")
	_, err = b.eng.GetWebhook(ctx, "default", "")
	wantInvalid(t, err, "webhook_id")
	_, err = b.eng.GetWebhook(ctx, "other", w.ID)
	wantErr(t, err, sparrow.ErrNotFound)
}

func TestListWebhooks(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created", "user.created")
	var orders, all []string
	for i := range 5 {
		p := sparrow.RegisterWebhookParams{URL: "https://example.com/" + string(rune('a'+i)), Events: []string{"user.created"}}
		if i%2 == 0 {
			p.Events = []string{"order.created"}
		}
		w := b.registerWebhook(t, p)
		all = append([]string{w.ID}, all...) // newest first
		if i%2 == 0 {
			orders = append([]string{w.ID}, orders...)
		}
	}
	other := b.registerWebhook(t, sparrow.RegisterWebhookParams{Namespace: "other", URL: "https://example.com/other"})
	if _, err := b.eng.PauseWebhook(ctx, "default", all[0]); err != nil {
		t.Fatal(err)
	}
	ids := func(p sparrow.ListWebhooksParams) []string {
		t.Helper()
		var got []string
		for range 10 {
			page, err := b.eng.ListWebhooks(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range page.Items {
				got = append(got, w.ID)
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				return got
			}
		}
		t.Fatal("pagination did not end")
		return nil
	}

	if diff := cmp.Diff(all, ids(sparrow.ListWebhooksParams{Limit: 2})); diff != "" {
		t.Errorf("all, 2 per page (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orders, ids(sparrow.ListWebhooksParams{Event: "order.created"})); diff != "" {
		t.Errorf("subscribed to order.created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[1:], ids(sparrow.ListWebhooksParams{ActiveOnly: true})); diff != "" {
		t.Errorf("active only (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{other.ID}, ids(sparrow.ListWebhooksParams{Namespace: "other"})); diff != "" {
		t.Errorf("namespace other (-want +got):\n%s", diff)
	}
	if got := ids(sparrow.ListWebhooksParams{Namespace: "empty"}); len(got) != 0 {
		t.Errorf("empty namespace listed %v", got)
	}
	for _, tt := range []struct {
		name  string
		p     sparrow.ListWebhooksParams
		field string
	}{
		{"Event", sparrow.ListWebhooksParams{Event: "bad event"}, "event"},
		{"LimitNegative", sparrow.ListWebhooksParams{Limit: -1}, "limit"},
		{"LimitOverMax", sparrow.ListWebhooksParams{Limit: 101}, "limit"},
		{"CursorNotBase64", sparrow.ListWebhooksParams{Cursor: "!!not a cursor!!"}, "cursor"},
		{"CursorTooLong", sparrow.ListWebhooksParams{Cursor: strings.Repeat("A", 400)}, "cursor"},
		{"Namespace", sparrow.ListWebhooksParams{Namespace: "no spaces"}, "namespace"},
	} {
		_, err := b.eng.ListWebhooks(ctx, tt.p)
		t.Run(tt.name, func(t *testing.T) { wantInvalid(t, err, tt.field) })
	}
}

func TestUpdateWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("Settings", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com/a", Headers: map[string]string{"X-A": "1"}})
		got, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{
			ID:          w.ID,
			URL:         ptr("https://example.com/b"),
			Headers:     ptr(map[string]string{"X-B": "2"}),
			Timeout:     ptr(5 * time.Second),
			MaxAttempts: ptr(2),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := *w
		want.URL, want.Headers, want.Timeout, want.MaxAttempts = "https://example.com/b", map[string]string{"X-B": webhook.MaskedHeaderValue}, 5*time.Second, 2
		if diff := cmp.Diff(&want, got, ignoreWebhookTimes); diff != "" {
			t.Fatalf("updated (-want +got):\n%s", diff)
		}
		// Nothing given: nothing changes.
		again, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, again, cmpopts.IgnoreFields(webhook.Webhook{}, "UpdatedAt")); diff != "" {
			t.Fatalf("empty update changed (-before +after):\n%s", diff)
		}
	})

	t.Run("MaskedHeadersKept", func(t *testing.T) {
		t.Parallel()

		// Header values are write-only; what a read shows, sent back,
		// keeps them. Deliveries get the real values.
		b := setup(t)
		b.start(t)
		rcv := newReceiver(t, nil)
		b.registerEvent(t, "order.created")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: rcv.URL, Events: []string{"order.created"},
			Headers: map[string]string{"Authorization": "Bearer s3cret", "X-Tenant": "acme"}})
		read, err := b.eng.GetWebhook(ctx, "default", w.ID)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := b.eng.ListWebhooks(ctx, sparrow.ListWebhooksParams{})
		if err != nil {
			t.Fatal(err)
		}
		masked := map[string]string{"Authorization": webhook.MaskedHeaderValue, "X-Tenant": webhook.MaskedHeaderValue}
		for _, shown := range []map[string]string{w.Headers, read.Headers, listed.Items[0].Headers} {
			if diff := cmp.Diff(masked, shown); diff != "" {
				t.Fatalf("headers shown (-want +got):\n%s", diff)
			}
		}
		edited := read.Headers
		edited["X-Tenant"] = "globex"
		if _, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Headers: &edited}); err != nil {
			t.Fatal(err)
		}
		_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID,
			Headers: ptr(map[string]string{"X-Unknown": webhook.MaskedHeaderValue, "X-Tenant": "changed"})})
		wantInvalid(t, err, "headers[X-Unknown]")
		if _, err := b.eng.PushEvent(ctx, sparrow.PushEventParams{Name: "order.created", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		got := rcv.waitRequests(t, 1)[0].Header
		if got.Get("Authorization") != "Bearer s3cret" || got.Get("X-Tenant") != "globex" {
			t.Fatalf("delivered with Authorization %q, X-Tenant %q; want the kept secret and the edit", got.Get("Authorization"), got.Get("X-Tenant"))
		}
	})

	t.Run("EventsSync", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.registerEvent(t, "a.one", "b.two", "c.three")
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com", Events: []string{"a.one", "b.two"}})
		subs, err := b.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{WebhookID: w.ID, EventName: "b.two"})
		if err != nil {
			t.Fatal(err)
		}
		kept := subs.Items[0]
		if _, err := b.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{ID: kept.ID, Template: ptr(`{"x": 1}`)}); err != nil {
			t.Fatal(err)
		}

		got, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Events: ptr([]string{"c.three", "b.two"})})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"b.two", "c.three"}, got.Events); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}
		after, err := b.eng.GetSubscription(ctx, "default", kept.ID)
		if err != nil {
			t.Fatalf("the subscription to a kept event was replaced: %v", err)
		}
		if after.Template != `{"x": 1}` {
			t.Fatal("the kept subscription lost its template")
		}

		_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Events: ptr([]string{"nope"})})
		wantInvalid(t, err, "events[0]")
		still, err := b.eng.GetWebhook(ctx, "default", w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"b.two", "c.three"}, still.Events); diff != "" {
			t.Fatalf("a refused update changed events (-want +got):\n%s", diff)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com"})
		_, err := b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, URL: ptr("gopher://x")})
		wantInvalid(t, err, "url")
		_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Timeout: ptr(time.Hour)})
		wantInvalid(t, err, "timeout_seconds")
		_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{ID: w.ID, Headers: ptr(map[string]string{"Host": "x"})})
		wantInvalid(t, err, "headers[Host]")
		_, err = b.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{Namespace: "other", ID: w.ID, URL: ptr("https://evil.example")})
		wantErr(t, err, sparrow.ErrNotFound)
		got, err := b.eng.GetWebhook(ctx, "default", w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.URL != "https://example.com" {
			t.Fatalf("a refused update changed the URL to %q", got.URL)
		}
	})
}

func TestPauseResumeWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com"})

	paused, err := b.eng.PauseWebhook(ctx, "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if paused.State != webhook.StatePaused || paused.StateReason == "" {
		t.Fatalf("after pause: state %s, reason %q", paused.State, paused.StateReason)
	}
	again, err := b.eng.PauseWebhook(ctx, "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !again.StateChangedAt.Equal(paused.StateChangedAt) {
		t.Fatal("pausing a paused webhook moved its state time")
	}
	resumed, err := b.eng.ResumeWebhook(ctx, "default", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.State != webhook.StateActive || resumed.StateReason != "" {
		t.Fatalf("after resume: state %s, reason %q", resumed.State, resumed.StateReason)
	}
	_, err = b.eng.PauseWebhook(ctx, "other", w.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	_, err = b.eng.ResumeWebhook(ctx, "default", "wh_x")
	wantInvalid(t, err, "webhook_id")
}

func TestDeleteWebhook(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	b := setup(t)
	b.registerEvent(t, "order.created")
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com", Events: []string{"order.created"}})

	wantErr(t, b.eng.DeleteWebhook(ctx, "other", w.ID), sparrow.ErrNotFound)
	if err := b.eng.DeleteWebhook(ctx, "default", w.ID); err != nil {
		t.Fatal(err)
	}
	_, err := b.eng.GetWebhook(ctx, "default", w.ID)
	wantErr(t, err, sparrow.ErrNotFound)
	wantErr(t, b.eng.DeleteWebhook(ctx, "default", w.ID), sparrow.ErrNotFound)
	page, err := b.eng.ListWebhooks(ctx, sparrow.ListWebhooksParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Fatal("a deleted webhook is still listed")
	}
	if n := b.count(t, "sparrow_subscription"); n != 0 {
		t.Fatalf("deleting the webhook left %d subscriptions", n)
	}
}

func TestRotateWebhookSecret(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b := setup(t, sparrow.WithClock(func() time.Time { return now }))
	w := b.registerWebhook(t, sparrow.RegisterWebhookParams{URL: "https://example.com", Secret: "whsec_" + "c2VjcmV0LW9uZS1vZi0yNC1ieXRlcy1vcg=="})

	rotated, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == "" || rotated.Secret == w.Secret {
		t.Fatalf("rotation returned secret %q", rotated.Secret)
	}
	secrets := func(at time.Time) []string {
		t.Helper()
		got, err := store.WebhookSecretListActive(ctx, schemaDB(b), w.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		var values []string
		for _, s := range got {
			values = append(values, s.Plain)
		}
		return values
	}
	if diff := cmp.Diff([]string{rotated.Secret, w.Secret}, secrets(now)); diff != "" {
		t.Fatalf("during the grace period (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rotated.Secret}, secrets(now.Add(sparrow.SecretGracePeriodDefault))); diff != "" {
		t.Fatalf("after the grace period (-want +got):\n%s", diff)
	}

	third, err := b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID, Secret: "plain-third", GracePeriod: ptr(time.Duration(0))})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"plain-third"}, secrets(now)); diff != "" || third.Secret != "plain-third" {
		t.Fatalf("rotation without grace (-want +got):\n%s", diff)
	}

	_, err = b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID, GracePeriod: ptr(-time.Second)})
	wantInvalid(t, err, "grace_period_seconds")
	_, err = b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{ID: w.ID, Secret: "whsec_???"})
	wantInvalid(t, err, "webhook_secret")
	_, err = b.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{Namespace: "other", ID: w.ID})
	wantErr(t, err, sparrow.ErrNotFound)
	if diff := cmp.Diff([]string{"plain-third"}, secrets(now)); diff != "" {
		t.Fatalf("refused rotations changed secrets (-want +got):\n%s", diff)
	}
}

// ignoreSubscriptionTimes compares subscriptions without their timestamps.
var ignoreSubscriptionTimes = cmpopts.IgnoreFields(subscription.Subscription{}, "CreatedAt", "UpdatedAt")
