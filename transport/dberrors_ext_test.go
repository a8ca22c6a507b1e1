package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/pgtest"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// TestDatabaseRefusalsAreGeneric makes PostgreSQL refuse a value with each
// error the storage code answers InvalidArgument (a real CHECK constraint,
// and a trigger raising the others as PostgreSQL words them): the client is
// told the value was refused, and nothing of the table or constraint, which
// the server's log keeps.
func TestDatabaseRefusalsAreGeneric(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	s := newTestServer(t)
	c := s.clients()
	if _, err := c.events.RegisterEvent(ctx, &pb.RegisterEventRequest{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	table := pgx.Identifier{s.schema, "sparrow_event_type"}.Sanitize()
	refuse := pgx.Identifier{s.schema, "refuse_description"}.Sanitize()
	for _, sql := range []string{
		"ALTER TABLE " + table + " ADD CONSTRAINT sparrow_event_type_hidden_rule CHECK (description <> 'check')",
		"CREATE FUNCTION " + refuse + `() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.description LIKE 'sqlstate %' THEN
				RAISE EXCEPTION 'insert or update on table "sparrow_event_type" violates constraint "sparrow_event_type_hidden_fkey"'
					USING ERRCODE = substr(NEW.description, 10), TABLE = 'sparrow_event_type', CONSTRAINT = 'sparrow_event_type_hidden_fkey';
			END IF;
			RETURN NEW;
		END $$`,
		"CREATE TRIGGER refuse BEFORE UPDATE ON " + table + " FOR EACH ROW EXECUTE FUNCTION " + refuse + "()",
	} {
		if _, err := pgtest.Pool(t).Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, description, code, constraint string }{
		{"CheckViolation", "check", "23514", "sparrow_event_type_hidden_rule"},
		{"ForeignKeyViolation", "sqlstate 23503", "23503", "sparrow_event_type_hidden_fkey"},
		{"CharacterNotInRepertoire", "sqlstate 22021", "22021", "sparrow_event_type_hidden_fkey"},
		{"UntranslatableCharacter", "sqlstate 22P05", "22P05", "sparrow_event_type_hidden_fkey"},
		{"InvalidTextRepresentation", "sqlstate 22P02", "22P02", "sparrow_event_type_hidden_fkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.events.UpdateEvent(ctx, &pb.UpdateEventRequest{Name: "order.created", Description: &tc.description})
			wantCode(t, err, connect.CodeInvalidArgument)
			var msg *connect.Error
			if !errors.As(err, &msg) || msg.Message() == "" {
				t.Fatalf("no message: %v", err)
			}
			for _, secret := range []string{"sparrow_event_type", tc.constraint, "SQLSTATE", "violates", "constraint"} {
				if strings.Contains(msg.Message(), secret) {
					t.Errorf("the client was told %q, which has %q", msg.Message(), secret)
				}
			}
			if logs := s.logs.String(); !strings.Contains(logs, "SQLSTATE "+tc.code) || !strings.Contains(logs, tc.constraint) {
				t.Errorf("the server log lacks the cause (SQLSTATE %s, %s):\n%s", tc.code, tc.constraint, logs)
			}
		})
	}
}
