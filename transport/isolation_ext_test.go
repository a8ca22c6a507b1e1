package transport_test

import (
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/transport"
)

// isolationRow is what a call with a key scoped to namespace "b", naming
// "b" and addressing namespace "a"'s ids, must get.
type isolationRow struct {
	code   connect.Code // 0: the call succeeds, and reveals nothing of "a"
	writes bool         // it creates in "b": only "a"'s rows must stay as they were
}

// isolationRows has a row for every procedure of webhook.proto: a new RPC
// without one fails TestIsolation.
var isolationRows = map[string]isolationRow{
	"RegisterWebhook":       {0, true},
	"GetWebhook":            {connect.CodeNotFound, false},
	"ListWebhooks":          {0, false},
	"UpdateWebhook":         {connect.CodeNotFound, false},
	"PauseWebhook":          {connect.CodeNotFound, false},
	"ResumeWebhook":         {connect.CodeNotFound, false},
	"DeleteWebhook":         {connect.CodeNotFound, false},
	"RotateWebhookSecret":   {connect.CodeNotFound, false},
	"RevealWebhookSecret":   {connect.CodeNotFound, false},
	"SendTestEvent":         {connect.CodeNotFound, false},
	"RecoverWebhook":        {connect.CodeNotFound, false},
	"GetRecovery":           {connect.CodeNotFound, false},
	"ListRecoveries":        {0, false}, // filtered to "a"'s webhook: empty
	"CancelRecovery":        {connect.CodeNotFound, false},
	"RegisterEvent":         {connect.CodePermissionDenied, false}, // global: no scoped key may change it
	"GetEventType":          {0, false},                            // global: every key reads event types
	"ListEventTypes":        {0, false},                            // global: every key reads event types
	"UpdateEvent":           {connect.CodePermissionDenied, false}, // global: no scoped key may change it
	"PushEvent":             {0, true},                             // with "a"'s idempotency key: a new event, not "a"'s
	"PushEvents":            {0, true},                             // likewise
	"GetEvent":              {connect.CodeNotFound, false},
	"ListEvents":            {0, false},
	"RepushEvent":           {connect.CodeNotFound, false},
	"CreateSubscription":    {connect.CodeNotFound, false}, // "a"'s webhook
	"GetSubscription":       {connect.CodeNotFound, false},
	"ListSubscriptions":     {0, false}, // filtered to "a"'s webhook: empty
	"UpdateSubscription":    {connect.CodeNotFound, false},
	"DeleteSubscription":    {connect.CodeNotFound, false},
	"RenderTemplate":        {0, false}, // reads and writes nothing stored
	"TestFilter":            {0, false}, // reads and writes nothing stored
	"ListDeliveries":        {0, false}, // filtered to "a"'s webhook and event: empty
	"GetDelivery":           {connect.CodeNotFound, false},
	"RetryDelivery":         {connect.CodeNotFound, false},
	"RetryFailedDeliveries": {connect.CodeNotFound, false},
	"GetWebhookHealth":      {connect.CodeNotFound, false},
	"GetHealthSummary":      {0, false},
	"ListNamespaces":        {0, false},                            // lists "b" alone
	"CreatePortalToken":     {connect.CodePermissionDenied, false}, // needs a key not limited to namespaces
}

// notNamespaced are the procedures whose requests name no namespace, and
// why that is right. Every other request must name one.
var notNamespaced = map[string]string{
	"RegisterEvent":  "event types are shared by every namespace; scoped keys may not change them",
	"UpdateEvent":    "event types are shared by every namespace; scoped keys may not change them",
	"GetEventType":   "event types are shared by every namespace, readable by every key",
	"ListEventTypes": "event types are shared by every namespace, readable by every key",
	"RenderTemplate": "renders a template over the payload given: reads and writes nothing stored",
	"TestFilter":     "evaluates a filter over the event given: reads and writes nothing stored",
	"ListNamespaces": "lists the namespaces the caller's credential may use",
}

// TestIsolation runs every RPC, over the API with API keys, against
// namespace "a"'s resources with a key scoped to namespace "b": naming "b"
// (the resources are not found there, listings show none of them), then
// naming "a" and the default namespace (refused: PermissionDenied). None of
// it may change a row of "a", and the refused calls write nothing at all.
// Then the same requests, with an unscoped key and naming "a", succeed:
// the ids were right, the namespace is what stopped them.
func TestIsolation(t *testing.T) {
	t.Parallel()

	const (
		adminKey = "admin-key-0123456789"
		bKey     = "b-only-key-0123456789"
	)
	s := newTestServer(t, transport.WithAPIKeys(
		transport.APIKey{Key: adminKey},
		transport.APIKey{Key: bKey, Namespaces: []string{"b"}},
	))
	// "b" has resources of its own, so that its listings are not empty by
	// default and a filter ignoring the namespace would show.
	fixtures := newFixtures(t, s, "a", "b")
	a := fixtures[0]
	aIDs := []string{a.webhookID, a.subscriptionID, a.eventID, a.deliveryID, a.spareWebhookID, a.spareSubscriptionID}
	whole, ofA := s.snapshotQuery(t), s.namespaceSnapshotQuery(t, "a")
	aBefore := s.snapshot(t, ofA)
	asB := []string{"X-Api-Key", bKey}

	for _, md := range procedures() {
		name := string(md.Name())
		if _, ok := isolationRows[name]; !ok {
			t.Errorf("%s has no row in isolationRows", name)
		}
		_, exempt := notNamespaced[name]
		if named := namesNamespace(md.Input()); named == exempt {
			t.Errorf("%s: its request names a namespace: %v, but notNamespaced lists it: %v", name, named, exempt)
		}
	}

	t.Run("OwnNamespace", func(t *testing.T) {
		requests := validRequests(a, "b")
		for _, md := range procedures() {
			name := string(md.Name())
			row, ok := isolationRows[name]
			if !ok {
				continue
			}
			msg := requests[name]()
			reuseKey(msg, a.idempotencyKey)
			query := whole
			if row.writes {
				query = ofA
			}
			before := s.snapshot(t, query)
			r, res := s.call(t, md, msg, asB...)
			if r.code != row.code {
				t.Errorf("%s: %v, want %s", name, r, codeName(row.code))
			}
			if res != nil {
				text := protojson.Format(res)
				for _, id := range aIDs {
					if strings.Contains(text, id) {
						t.Errorf("%s from namespace b revealed %s of namespace a: %.500s", name, id, text)
					}
				}
			}
			if tables := changed(before, s.snapshot(t, query)); len(tables) > 0 {
				t.Errorf("%s from namespace b changed %v", name, tables)
			}
		}
	})
	t.Run("OtherNamespace", func(t *testing.T) {
		for _, ns := range []string{"a", ""} { // "": the default namespace
			requests := validRequests(a, ns)
			for _, md := range procedures() {
				name := string(md.Name())
				if _, exempt := notNamespaced[name]; exempt {
					continue
				}
				before := s.snapshot(t, whole)
				if r, _ := s.call(t, md, requests[name](), asB...); r.code != connect.CodePermissionDenied {
					t.Errorf("%s naming namespace %q with a key for b: %v, want permission_denied", name, ns, r)
				}
				if tables := changed(before, s.snapshot(t, whole)); len(tables) > 0 {
					t.Errorf("%s naming namespace %q with a key for b changed %v", name, ns, tables)
				}
			}
		}
	})
	if tables := changed(aBefore, s.snapshot(t, ofA)); len(tables) > 0 {
		t.Fatalf("namespace a changed in %v", tables)
	}
	t.Run("Unscoped", func(t *testing.T) { s.wantValid(t, validRequests(a, "a"), "X-Api-Key", adminKey) })
}

// namesNamespace reports whether a request names a namespace: a namespace
// field, or one in the messages of a list (a batch's events).
func namesNamespace(md protoreflect.MessageDescriptor) bool {
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Name() == "namespace" || fd.IsList() && fd.Message() != nil && namesNamespace(fd.Message()) {
			return true
		}
	}
	return false
}

// reuseKey gives the events of a push the idempotency key of another
// namespace's event: the push must still make a new event.
func reuseKey(msg proto.Message, key string) {
	switch m := msg.(type) {
	case *pb.PushEventRequest:
		m.IdempotencyKey = key
	case *pb.PushEventsRequest:
		for _, ev := range m.GetEvents() {
			ev.IdempotencyKey = key
		}
	}
}
