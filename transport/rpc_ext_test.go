package transport_test

// A harness for tests that drive every RPC generically: the procedures come
// from the proto's descriptors (so a new RPC is covered without editing a
// list), requests go over the Connect protocol as raw bytes (so they can
// carry what a well-behaved client can't marshal, like invalid UTF-8), and
// snapshots of the test schema's tables show whether a call wrote anything.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// procedures returns every method of every service in webhook.proto.
func procedures() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	services := pb.File_proto_webhook_proto.Services()
	for i := range services.Len() {
		methods := services.Get(i).Methods()
		for j := range methods.Len() {
			out = append(out, methods.Get(j))
		}
	}
	return out
}

// procedure returns the method named, of whichever service.
func procedure(t testing.TB, name string) protoreflect.MethodDescriptor {
	t.Helper()
	for _, md := range procedures() {
		if string(md.Name()) == name {
			return md
		}
	}
	t.Fatalf("no procedure %s", name)
	return nil
}

// procedurePath is a method's Connect path, "/webhook.WebhookService/GetWebhook".
func procedurePath(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// newMessage returns an empty message of the type md describes.
func newMessage(t testing.TB, md protoreflect.MessageDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

// reply is what a raw call got back.
type reply struct {
	status int
	code   connect.Code // 0 when the call succeeded
	body   []byte       // the response message, or the error's JSON
}

func (r reply) String() string {
	if r.code == 0 {
		return fmt.Sprintf("HTTP %d, OK", r.status)
	}
	return fmt.Sprintf("HTTP %d, %s: %.300s", r.status, r.code, r.body)
}

// callRaw POSTs body to a procedure as a Connect unary call.
func (s *testServer) callRaw(t testing.TB, md protoreflect.MethodDescriptor, contentType string, body []byte, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+procedurePath(md), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Connect-Protocol-Version", "1")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v (did the server drop the connection?)", md.Name(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the response: %v", md.Name(), err)
	}
	r := reply{status: resp.StatusCode, body: raw}
	if resp.StatusCode == http.StatusOK {
		return r
	}
	// A Connect error is a JSON object with a code; anything else (an HTML
	// page, an empty body) is not something the API documents.
	var e struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Code == "" {
		t.Fatalf("%s: HTTP %d with a body that is not a Connect error: %.300q", md.Name(), resp.StatusCode, raw)
	}
	if err := r.code.UnmarshalText([]byte(e.Code)); err != nil {
		t.Fatalf("%s: unknown code %q", md.Name(), e.Code)
	}
	return r
}

// utf8Marker stands for invalid UTF-8 in a message: proto.Marshal refuses
// invalid strings, so a test sets a field to the marker and encode replaces
// it with bytes of the same length, keeping every length prefix right.
const utf8Marker = "<<invalid-utf8>>"

var invalidUTF8 = strings.Repeat("\xff\xfe", len(utf8Marker)/2)

// wire encodes msg in the proto binary format, with utf8Marker made invalid.
func wire(t testing.TB, msg proto.Message) []byte {
	t.Helper()
	b, ok := encode(msg, false)
	if !ok {
		t.Fatalf("can't encode %v", msg)
	}
	return b
}

// encode writes msg in the proto binary or the JSON format, with
// utf8Marker made invalid. It reports false when the format can't carry
// msg (JSON has no NaN).
func encode(msg proto.Message, useJSON bool) ([]byte, bool) {
	marshal := proto.Marshal
	if useJSON {
		marshal = protojson.Marshal
	}
	b, err := marshal(msg)
	if err != nil {
		return nil, false
	}
	return bytes.ReplaceAll(b, []byte(utf8Marker), []byte(invalidUTF8)), true
}

// decode reads a response in the format it was asked in.
func decode(b []byte, msg proto.Message, useJSON bool) error {
	if useJSON {
		return protojson.Unmarshal(b, msg)
	}
	return proto.Unmarshal(b, msg)
}

var contentTypes = map[bool]string{false: "application/proto", true: "application/json"}

// send sends msg in the proto binary or the JSON format and decodes a
// successful response.
func (s *testServer) send(t testing.TB, md protoreflect.MethodDescriptor, msg proto.Message, useJSON bool, header ...string) (reply, proto.Message) {
	t.Helper()
	b, ok := encode(msg, useJSON)
	if !ok {
		t.Fatalf("can't encode %v", msg)
	}
	r := s.callRaw(t, md, contentTypes[useJSON], b, header...)
	if r.code != 0 {
		return r, nil
	}
	out := newMessage(t, md.Output())
	if err := decode(r.body, out, useJSON); err != nil {
		t.Fatalf("%s answered OK with an undecodable %s: %v", md.Name(), md.Output().FullName(), err)
	}
	return r, out
}

// call sends msg in the proto binary format and decodes a successful
// response.
func (s *testServer) call(t testing.TB, md protoreflect.MethodDescriptor, msg proto.Message, header ...string) (reply, proto.Message) {
	t.Helper()
	return s.send(t, md, msg, false, header...)
}

// tables lists the base tables of the test server's schema.
func (s *testServer) tables(t testing.TB) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(context.Background(),
		"SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1", s.schema)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("the test schema has no tables")
	}
	return names
}

// snapshot is each table's row count and the sum of its rows' xmin (the
// transaction that wrote each row version): an insert, update or delete
// committed in between changes it, and reading it costs no detoasting of
// large values.
type snapshot map[string]string

// snapshotQuery builds the query snapshot runs, once per server.
func (s *testServer) snapshotQuery(t testing.TB) string {
	t.Helper()
	var parts []string
	for _, table := range s.tables(t) {
		parts = append(parts, fmt.Sprintf("SELECT %s, count(*)::text || '/' || coalesce(sum(xmin::text::bigint), 0)::text FROM %s",
			quoteLiteral(table), pgx.Identifier{s.schema, table}.Sanitize()))
	}
	return strings.Join(parts, " UNION ALL ")
}

// namespaceSnapshotQuery builds a snapshot query over the rows of one
// namespace: those with its namespace, or belonging to its webhooks or
// deliveries, and the tables every namespace shares (event types). River's
// tables are left out: jobs belong to no namespace.
func (s *testServer) namespaceSnapshotQuery(t testing.TB, namespace string) string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(context.Background(),
		"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1", s.schema)
	if err != nil {
		t.Fatal(err)
	}
	columns := map[string]map[string]bool{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		if columns[table] == nil {
			columns[table] = map[string]bool{}
		}
		columns[table][column] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ns := quoteLiteral(namespace)
	ident := func(table string) string { return pgx.Identifier{s.schema, table}.Sanitize() }
	var parts []string
	for _, table := range s.tables(t) {
		var where string
		switch cols := columns[table]; {
		case strings.HasPrefix(table, "river_"):
			continue
		case cols["namespace"]:
			where = "namespace = " + ns
		case cols["webhook_id"]:
			where = fmt.Sprintf("webhook_id IN (SELECT id FROM %s WHERE namespace = %s)", ident("sparrow_webhook"), ns)
		case cols["delivery_id"]:
			where = fmt.Sprintf("delivery_id IN (SELECT id FROM %s WHERE namespace = %s)", ident("sparrow_delivery"), ns)
		case cols["event_id"]:
			where = fmt.Sprintf("event_id IN (SELECT id FROM %s WHERE namespace = %s)", ident("sparrow_event"), ns)
		default:
			where = "true"
		}
		parts = append(parts, fmt.Sprintf("SELECT %s, count(*)::text || '/' || coalesce(sum(xmin::text::bigint), 0)::text FROM %s WHERE %s",
			quoteLiteral(table), ident(table), where))
	}
	return strings.Join(parts, " UNION ALL ")
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (s *testServer) snapshot(t testing.TB, query string) snapshot {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	out := snapshot{}
	for rows.Next() {
		var table, state string
		if err := rows.Scan(&table, &state); err != nil {
			t.Fatal(err)
		}
		out[table] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// changed names the tables whose rows differ between two snapshots.
func changed(before, after snapshot) []string {
	var out []string
	for table, state := range after {
		if before[table] != state {
			out = append(out, table)
		}
	}
	slices.Sort(out)
	return out
}

// fixture is one of every resource in a namespace, with a finished
// delivery, made through the engine.
type fixture struct {
	namespace      string
	webhookID      string // subscribed to fixtureEvent
	subscriptionID string // webhookID to fixtureEvent
	eventID        string // pushed with idempotencyKey
	deliveryID     string // of eventID, succeeded
	idempotencyKey string
	// Spares for the destructive calls, so that deleting leaves the rest.
	spareWebhookID      string
	spareSubscriptionID string // webhookID to spareEvent
	recoveryID          string // of webhookID, running: made once the workers stopped
}

const (
	fixtureEvent = "order.created"
	spareEvent   = "order.shipped"
	freeEvent    = "order.cancelled" // registered, subscribed by nobody
)

// newFixtures registers the event types, makes a fixture in each namespace,
// waits for their deliveries to succeed and stops the engine's workers, so
// that nothing but the calls under test writes to the schema from then on
// (the RPCs keep working: the engine inserts jobs without running them).
func newFixtures(t testing.TB, s *testServer, namespaces ...string) []fixture {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{fixtureEvent, spareEvent, freeEvent} {
		if _, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	t.Cleanup(rcv.Close)
	var out []fixture
	for _, ns := range namespaces {
		fx := fixture{namespace: ns, idempotencyKey: "idem-" + ns}
		w, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: ns, URL: rcv.URL, Events: []string{fixtureEvent, spareEvent}})
		if err != nil {
			t.Fatal(err)
		}
		fx.webhookID = w.ID
		spare, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{Namespace: ns, URL: rcv.URL})
		if err != nil {
			t.Fatal(err)
		}
		fx.spareWebhookID = spare.ID
		subs, err := s.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{Namespace: ns, WebhookID: w.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range subs.Items {
			switch sub.EventName {
			case fixtureEvent:
				fx.subscriptionID = sub.ID
			case spareEvent:
				fx.spareSubscriptionID = sub.ID
			}
		}
		ev, err := s.eng.PushEvent(ctx, sparrow.PushEventParams{Namespace: ns, Name: fixtureEvent, Payload: []byte(`{"order_id":"ord_1"}`), IdempotencyKey: fx.idempotencyKey})
		if err != nil {
			t.Fatal(err)
		}
		fx.eventID = ev.ID
		out = append(out, fx)
	}
	for i := range out {
		out[i].deliveryID = waitSucceeded(t, s, out[i].namespace, out[i].eventID)
	}
	if err := s.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		rec, err := s.eng.RecoverWebhook(ctx, sparrow.RecoverWebhookParams{Namespace: out[i].namespace, WebhookID: out[i].webhookID, Since: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		out[i].recoveryID = rec.ID
	}
	return out
}

// waitSucceeded waits for the one delivery of an event to succeed.
func waitSucceeded(t testing.TB, s *testServer, namespace, eventID string) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		page, err := s.eng.ListDeliveries(context.Background(), sparrow.ListDeliveriesParams{Namespace: namespace, EventID: eventID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 1 && page.Items[0].Status == delivery.StatusSucceeded {
			return page.Items[0].ID
		}
	}
	t.Fatalf("event %s of namespace %s was not delivered", eventID, namespace)
	return ""
}

// validRequests returns, for every procedure, a request that succeeds
// against fixture fx when sent with namespace ns = fx.namespace. Creating
// requests use fresh names where the name is an identity, except where a
// second call is meant to conflict.
func validRequests(fx fixture, ns string) map[string]func() proto.Message {
	payload := func() *structpb.Struct {
		s, _ := structpb.NewStruct(map[string]any{"order_id": "ord_1", "total": 49.99})
		return s
	}
	since := func() *timestamppb.Timestamp { return timestamppb.New(time.Unix(0, 0)) }
	var pushes atomic.Int64
	push := func() *pb.PushEventRequest {
		// A key of its own: a key names one event, and variations of the
		// request are other events.
		return &pb.PushEventRequest{
			Namespace: ns, Event: fixtureEvent, Payload: payload(), TtlSeconds: 3600,
			Labels: map[string]string{"region": "eu"}, IdempotencyKey: fmt.Sprintf("idem-push-%d", pushes.Add(1)),
		}
	}
	var registered atomic.Int64
	return map[string]func() proto.Message{
		"RegisterWebhook": func() proto.Message {
			return &pb.RegisterWebhookRequest{
				Namespace: ns, Url: "https://example.com/hook", Events: []string{fixtureEvent}, Active: new(true),
				WebhookSecret: "your-secret", Description: "orders", Headers: map[string]string{"X-Team": "billing"},
				TimeoutSeconds: 10, MaxAttempts: 5,
			}
		},
		"GetWebhook":   func() proto.Message { return &pb.GetWebhookRequest{Namespace: ns, WebhookId: fx.webhookID} },
		"ListWebhooks": func() proto.Message { return &pb.ListWebhooksRequest{Namespace: ns, Event: fixtureEvent, Limit: 10} },
		"UpdateWebhook": func() proto.Message {
			return &pb.UpdateWebhookRequest{
				Namespace: ns, WebhookId: fx.webhookID, Description: new("orders, updated"),
				Headers: map[string]string{"X-Team": "billing"}, TimeoutSeconds: new(int32(20)), MaxAttempts: new(int32(6)),
			}
		},
		"PauseWebhook":  func() proto.Message { return &pb.PauseWebhookRequest{Namespace: ns, WebhookId: fx.webhookID} },
		"ResumeWebhook": func() proto.Message { return &pb.ResumeWebhookRequest{Namespace: ns, WebhookId: fx.webhookID} },
		"DeleteWebhook": func() proto.Message { return &pb.DeleteWebhookRequest{Namespace: ns, WebhookId: fx.spareWebhookID} },
		"RotateWebhookSecret": func() proto.Message {
			return &pb.RotateWebhookSecretRequest{Namespace: ns, WebhookId: fx.webhookID, WebhookSecret: "next-secret", GracePeriodSeconds: new(int64(60))}
		},
		"RevealWebhookSecret": func() proto.Message {
			return &pb.RevealWebhookSecretRequest{Namespace: ns, WebhookId: fx.webhookID}
		},
		"RecoverWebhook": func() proto.Message {
			return &pb.RecoverWebhookRequest{Namespace: ns, WebhookId: fx.webhookID, Since: timestamppb.New(time.Now().Add(-time.Hour))}
		},
		"GetRecovery": func() proto.Message { return &pb.GetRecoveryRequest{Namespace: ns, RecoveryId: fx.recoveryID} },
		"ListRecoveries": func() proto.Message {
			return &pb.ListRecoveriesRequest{Namespace: ns, WebhookId: fx.webhookID, Limit: 10}
		},
		"CancelRecovery": func() proto.Message { return &pb.CancelRecoveryRequest{Namespace: ns, RecoveryId: fx.recoveryID} },
		"SendTestEvent": func() proto.Message {
			return &pb.SendTestEventRequest{Namespace: ns, WebhookId: fx.webhookID, EventName: fixtureEvent, Payload: payload()}
		},
		"RegisterEvent": func() proto.Message {
			schema, _ := structpb.NewStruct(map[string]any{"type": "object"})
			// A fresh name each time: a taken one is AlreadyExists.
			return &pb.RegisterEventRequest{Name: fmt.Sprintf("invoice.paid%d", registered.Add(1)), Description: "an invoice was paid", Active: new(true), Schema: schema}
		},
		"GetEventType":   func() proto.Message { return &pb.GetEventTypeRequest{Name: fixtureEvent} },
		"ListEventTypes": func() proto.Message { return &pb.ListEventTypesRequest{Limit: 100} },
		"UpdateEvent": func() proto.Message {
			return &pb.UpdateEventRequest{Name: fixtureEvent, Description: new("orders placed"), Active: new(true)}
		},
		"PushEvent":  func() proto.Message { return push() },
		"PushEvents": func() proto.Message { return &pb.PushEventsRequest{Events: []*pb.PushEventRequest{push(), push()}} },
		"GetEvent":   func() proto.Message { return &pb.GetEventRequest{Namespace: ns, EventId: fx.eventID} },
		"ListEvents": func() proto.Message {
			return &pb.ListEventsRequest{Namespace: ns, EventName: fixtureEvent, Since: since(), Until: timestamppb.Now(), Limit: 10}
		},
		"RepushEvent": func() proto.Message { return &pb.RepushEventRequest{Namespace: ns, EventId: fx.eventID} },
		"CreateSubscription": func() proto.Message {
			return &pb.CreateSubscriptionRequest{
				Namespace: ns, WebhookId: fx.webhookID, EventName: freeEvent, Active: new(true),
				LabelFilter: map[string]string{"region": "eu"}, Template: `{"id": {{json .order_id}}}`,
			}
		},
		"GetSubscription": func() proto.Message {
			return &pb.GetSubscriptionRequest{Namespace: ns, SubscriptionId: fx.subscriptionID}
		},
		"ListSubscriptions": func() proto.Message {
			return &pb.ListSubscriptionsRequest{Namespace: ns, WebhookId: fx.webhookID, EventName: fixtureEvent, Limit: 10}
		},
		"UpdateSubscription": func() proto.Message {
			return &pb.UpdateSubscriptionRequest{
				Namespace: ns, SubscriptionId: fx.subscriptionID, Active: new(true),
				LabelFilter: map[string]string{"region": "eu"}, Template: new(`{"id": {{json .order_id}}}`),
			}
		},
		"DeleteSubscription": func() proto.Message {
			return &pb.DeleteSubscriptionRequest{Namespace: ns, SubscriptionId: fx.spareSubscriptionID}
		},
		"RenderTemplate": func() proto.Message {
			return &pb.RenderTemplateRequest{Template: `{"id": {{json .order_id}}}`, Payload: payload()}
		},
		"TestFilter": func() proto.Message {
			return &pb.TestFilterRequest{Filter: `payload.order_id != ""`, Payload: payload(), Labels: map[string]string{"region": "eu"}}
		},
		"ListDeliveries": func() proto.Message {
			return &pb.ListDeliveriesRequest{
				Namespace: ns, WebhookId: fx.webhookID, EventId: fx.eventID, Status: "succeeded",
				Since: since(), Until: timestamppb.Now(), Limit: 10,
			}
		},
		"GetDelivery":   func() proto.Message { return &pb.GetDeliveryRequest{Namespace: ns, DeliveryId: fx.deliveryID} },
		"RetryDelivery": func() proto.Message { return &pb.RetryDeliveryRequest{Namespace: ns, DeliveryId: fx.deliveryID} },
		"RetryFailedDeliveries": func() proto.Message {
			return &pb.RetryFailedDeliveriesRequest{Namespace: ns, WebhookId: fx.webhookID, Since: since()}
		},
		"GetWebhookHealth": func() proto.Message {
			return &pb.GetWebhookHealthRequest{Namespace: ns, WebhookId: fx.webhookID}
		},
		"GetHealthSummary": func() proto.Message { return &pb.GetHealthSummaryRequest{Namespace: ns} },
		"ListNamespaces":   func() proto.Message { return &pb.ListNamespacesRequest{} },
		"CreatePortalToken": func() proto.Message {
			return &pb.CreatePortalTokenRequest{Namespace: ns, Capabilities: []string{"read", "manage_webhooks"}, TtlSeconds: 600}
		},
	}
}

// wantValid sends every valid request and fails unless each succeeds:
// deletes last, as they remove what others address.
func (s *testServer) wantValid(t *testing.T, valid map[string]func() proto.Message, header ...string) {
	t.Helper()
	for _, deletes := range []bool{false, true} {
		for _, md := range procedures() {
			name := string(md.Name())
			if build := valid[name]; build != nil && strings.HasPrefix(name, "Delete") == deletes {
				if r, _ := s.call(t, md, build(), header...); r.code != 0 {
					t.Errorf("%s: %v", name, r)
				}
			}
		}
	}
}
