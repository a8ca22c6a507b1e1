package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// fieldViolation returns the field and description an InvalidArgument
// error's google.rpc.BadRequest detail names, failing unless there is
// exactly one.
func fieldViolation(t *testing.T, err error) (field, description string) {
	t.Helper()
	wantCode(t, err, connect.CodeInvalidArgument)
	var connectErr *connect.Error
	if !errors.As(err, &connectErr) || len(connectErr.Details()) != 1 {
		t.Fatalf("want one error detail: %v", err)
	}
	detail, derr := connectErr.Details()[0].Value()
	if derr != nil {
		t.Fatal(derr)
	}
	v := detail.(*errdetails.BadRequest).GetFieldViolations()
	if len(v) != 1 {
		t.Fatalf("field violations: %v", v)
	}
	return v[0].GetField(), v[0].GetDescription()
}

// TestEventSchemas registers an event type with a JSON Schema over a real
// server and pushes payloads against it: a refused payload is answered
// InvalidArgument naming where it failed and stores nothing, in a batch too;
// an invalid schema is refused when saved; a cleared schema accepts again.
func TestEventSchemas(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients()
	schema, err := structpb.NewStruct(map[string]any{
		"type":     "object",
		"required": []any{"order_id", "total"},
		"properties": map[string]any{
			"order_id": map[string]any{"type": "string"},
			"total":    map[string]any{"type": "number", "minimum": 0},
			"items": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "required": []any{"sku"}, "properties": map[string]any{"sku": map[string]any{"type": "string"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if reg.GetEventType().GetSchema().GetFields()["required"] == nil {
		t.Fatalf("the registered type lacks its schema: %v", reg.GetEventType())
	}
	payload := func(v map[string]any) *structpb.Struct {
		t.Helper()
		p, err := structpb.NewStruct(v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	stored := func() int {
		t.Helper()
		var n int
		if err := pgtest.Pool(t).QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{s.schema, "sparrow_event"}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	good := payload(map[string]any{"order_id": "ord_1", "total": 10})
	bad := payload(map[string]any{"order_id": "ord_2", "total": 10, "items": []any{map[string]any{"sku": "a"}, map[string]any{"sku": 7}}})

	t.Run("PushRefused", func(t *testing.T) {
		_, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: bad})
		field, description := fieldViolation(t, err)
		if field != "payload" || !strings.Contains(description, "/items/1/sku") {
			t.Fatalf("violation %q: %q, want payload naming /items/1/sku", field, description)
		}
		if !strings.Contains(err.Error(), "/items/1/sku") {
			t.Fatalf("the message %q does not name the failing location", err)
		}
		if n := stored(); n != 0 {
			t.Fatalf("%d events stored by a refused push", n)
		}
	})
	t.Run("BatchRefused", func(t *testing.T) {
		_, err := c.events.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.PushEventRequest{
			{Event: "order.created", Payload: good},
			{Event: "order.created", Payload: good},
			{Event: "order.created", Payload: payload(map[string]any{"order_id": "ord_3", "total": -1})},
		}})
		field, description := fieldViolation(t, err)
		if field != "events[2].payload" || !strings.Contains(description, "/total") {
			t.Fatalf("violation %q: %q, want events[2].payload naming /total", field, description)
		}
		if n := stored(); n != 0 {
			t.Fatalf("%d events stored by a refused batch: a batch is all or nothing", n)
		}
	})
	t.Run("PushAccepted", func(t *testing.T) {
		if _, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: good}); err != nil {
			t.Fatal(err)
		}
		if n := stored(); n != 1 {
			t.Fatalf("%d events stored, want 1", n)
		}
	})
	t.Run("InvalidSchemaRefused", func(t *testing.T) {
		for name, invalid := range map[string]map[string]any{
			"BadKeywordValue": {"type": "object", "properties": map[string]any{"total": map[string]any{"minimum": "zero"}}},
			"UnknownType":     {"type": "objekt"},
			"ExternalRef":     {"$ref": "https://example.com/schema.json"},
		} {
			_, err := c.events.UpdateEvent(ctx, &pb.UpdateEventRequest{Name: "order.created", Schema: payload(invalid)})
			field, description := fieldViolation(t, err)
			if field != "schema" {
				t.Errorf("%s: violation %q: %q, want schema", name, field, description)
			}
		}
		got, err := c.events.GetEventType(ctx, &pb.GetEventTypeRequest{Name: "order.created"})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetEventType().GetSchema().GetFields()["required"] == nil {
			t.Fatalf("a refused UpdateEvent changed the schema: %v", got.GetEventType().GetSchema())
		}
		_, err = c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: bad})
		wantCode(t, err, connect.CodeInvalidArgument)
	})
	t.Run("ClearSchema", func(t *testing.T) {
		_, err := c.events.UpdateEvent(ctx, &pb.UpdateEventRequest{Name: "order.created", ClearSchema: true, Schema: schema})
		wantCode(t, err, connect.CodeInvalidArgument) // both at once is ambiguous
		res, err := c.events.UpdateEvent(ctx, &pb.UpdateEventRequest{Name: "order.created", ClearSchema: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetEventType().GetSchema() != nil {
			t.Fatalf("schema after clearing: %v", res.GetEventType().GetSchema())
		}
		before := stored()
		for i, p := range []*structpb.Struct{bad, payload(map[string]any{"anything": "goes"})} {
			if _, err := c.events.PushEvent(ctx, &pb.PushEventRequest{Event: "order.created", Payload: p}); err != nil {
				t.Fatalf("push %d after clearing the schema: %v", i, err)
			}
		}
		if n := stored(); n != before+2 {
			t.Fatalf("%d events stored, want %d", n, before+2)
		}
	})
}
