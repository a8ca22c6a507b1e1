package migrations_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/pgtest"
	"github.com/sparrowhq/sparrow/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sparrowTables lists the sparrow_* tables in schema.
func sparrowTables(t *testing.T, schema string) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(context.Background(),
		"SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'sparrow%' ORDER BY tablename", schema)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func allVersions(m *migrations.Migrator) []int {
	var out []int
	for _, mig := range m.AllVersions() {
		out = append(out, mig.Version)
	}
	return out
}

func TestMigrator(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	setup := func(t *testing.T) (*migrations.Migrator, string) {
		t.Helper()
		schema := pgtest.EmptySchema(t)
		m, err := migrations.New(pgtest.Pool(t), &migrations.Config{Schema: schema, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return m, schema
	}

	t.Run("UpDownUp", func(t *testing.T) {
		t.Parallel()

		m, schema := setup(t)
		res, err := m.Migrate(ctx, migrations.DirectionUp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Versions) != len(m.AllVersions()) {
			t.Fatalf("applied %d versions, want %d", len(res.Versions), len(m.AllVersions()))
		}
		if len(sparrowTables(t, schema)) < 8 {
			t.Fatalf("tables after up: %v", sparrowTables(t, schema))
		}
		existing, err := m.ExistingVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(allVersions(m), existing); diff != "" {
			t.Fatalf("existing versions (-want +got):\n%s", diff)
		}
		if err := m.Validate(ctx); err != nil {
			t.Fatalf("Validate after up: %v", err)
		}

		if _, err := m.Migrate(ctx, migrations.DirectionDown, &migrations.MigrateOpts{TargetVersion: -1}); err != nil {
			t.Fatal(err)
		}
		if tables := sparrowTables(t, schema); len(tables) != 0 {
			t.Fatalf("tables left after down to empty: %v", tables)
		}
		if err := m.Validate(ctx); err == nil {
			t.Fatal("Validate on an empty schema: want an error naming unapplied versions")
		}

		if _, err := m.Migrate(ctx, migrations.DirectionUp, nil); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if err := m.Validate(ctx); err != nil {
			t.Fatalf("Validate after up again: %v", err)
		}
	})

	t.Run("UpTwiceIsNoOp", func(t *testing.T) {
		t.Parallel()

		m, _ := setup(t)
		if _, err := m.Migrate(ctx, migrations.DirectionUp, nil); err != nil {
			t.Fatal(err)
		}
		res, err := m.Migrate(ctx, migrations.DirectionUp, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Versions) != 0 {
			t.Fatalf("second up applied %v, want nothing", res.Versions)
		}
	})

	t.Run("DownDefaultsToOneStep", func(t *testing.T) {
		t.Parallel()

		m, _ := setup(t)
		if _, err := m.Migrate(ctx, migrations.DirectionUp, nil); err != nil {
			t.Fatal(err)
		}
		res, err := m.Migrate(ctx, migrations.DirectionDown, nil)
		if err != nil {
			t.Fatal(err)
		}
		newest := allVersions(m)[len(allVersions(m))-1]
		if len(res.Versions) != 1 || res.Versions[0].Version != newest {
			t.Fatalf("down reverted %v, want only version %d", res.Versions, newest)
		}
	})

	t.Run("DownRefusedWhileEventsWaitForFanout", func(t *testing.T) {
		t.Parallel()

		// Version 8 has no fan-out queue: going below 9 with events in it
		// would leave them undelivered.
		m, schema := setup(t)
		if _, err := m.Migrate(ctx, migrations.DirectionUp, nil); err != nil {
			t.Fatal(err)
		}
		queue := pgx.Identifier{schema, "sparrow_fanout_queue"}.Sanitize()
		if _, err := pgtest.Pool(t).Exec(ctx, "INSERT INTO "+queue+" (event_id, queued_at) VALUES ('evt_1', now())"); err != nil {
			t.Fatal(err)
		}
		_, err := m.Migrate(ctx, migrations.DirectionDown, &migrations.MigrateOpts{TargetVersion: 8})
		if err == nil || !strings.Contains(err.Error(), "1 events wait for fan-out") {
			t.Fatalf("down with an event queued: %v, want a refusal naming the queue", err)
		}
		// Each version reverts in its own transaction: those above 9 are
		// gone, 9 stays.
		if existing, err := m.ExistingVersions(ctx); err != nil || existing[len(existing)-1] != 9 {
			t.Fatalf("after the refused down: versions %v (%v), want up to 9 still applied", existing, err)
		}
		if _, err := pgtest.Pool(t).Exec(ctx, "DELETE FROM "+queue); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Migrate(ctx, migrations.DirectionDown, &migrations.MigrateOpts{TargetVersion: 8}); err != nil {
			t.Fatalf("down with the queue empty: %v", err)
		}
	})

	t.Run("DownRefusedWhileHeadersSealed", func(t *testing.T) {
		t.Parallel()

		// Sealed headers can't be opened in SQL, and version 10 has nowhere
		// to keep them: going below 11 would lose them.
		m, schema := setup(t)
		if _, err := m.Migrate(ctx, migrations.DirectionUp, nil); err != nil {
			t.Fatal(err)
		}
		webhooks := pgx.Identifier{schema, "sparrow_webhook"}.Sanitize()
		insert := "INSERT INTO " + webhooks + ` (id, namespace, url, state_changed_at, headers, headers_key_id, headers_sealed,
    timeout_ms, max_attempts, created_at, updated_at) VALUES ($1, 'default', 'https://example.com', now(), $2, 'k1', '\x00',
    1000, 1, now(), now())`
		if _, err := pgtest.Pool(t).Exec(ctx, insert, "wh_leaky", `{"Authorization": "Bearer in-the-clear"}`); err == nil {
			t.Fatal("a row with sealed headers kept a value in the clear")
		}
		if _, err := pgtest.Pool(t).Exec(ctx, insert, "wh_1", `{"Authorization": "********"}`); err != nil {
			t.Fatal(err)
		}
		_, err := m.Migrate(ctx, migrations.DirectionDown, &migrations.MigrateOpts{TargetVersion: 10})
		if err == nil || !strings.Contains(err.Error(), "1 webhooks have encrypted headers") {
			t.Fatalf("down with sealed headers: %v, want a refusal", err)
		}
		if existing, err := m.ExistingVersions(ctx); err != nil || existing[len(existing)-1] != 11 {
			t.Fatalf("after the refused down: versions %v (%v), want 11 still applied", existing, err)
		}
		if _, err := pgtest.Pool(t).Exec(ctx, "UPDATE "+webhooks+" SET headers = '{}', headers_key_id = NULL, headers_sealed = NULL"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Migrate(ctx, migrations.DirectionDown, &migrations.MigrateOpts{TargetVersion: 10}); err != nil {
			t.Fatalf("down with no sealed headers: %v", err)
		}
	})

	t.Run("UnknownTargetVersion", func(t *testing.T) {
		t.Parallel()

		m, schema := setup(t)
		if _, err := m.Migrate(ctx, migrations.DirectionUp, &migrations.MigrateOpts{TargetVersion: 999}); err == nil {
			t.Fatal("want an error for an unknown target version")
		}
		if tables := sparrowTables(t, schema); len(tables) != 0 {
			t.Fatalf("a refused run created tables: %v", tables)
		}
	})
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	schema := pgtest.EmptySchema(t)

	const callers = 4
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			errs[i] = migrations.Migrate(ctx, pgtest.Pool(t), &migrations.Config{Schema: schema, Logger: quietLogger()})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}

	m, err := migrations.New(pgtest.Pool(t), &migrations.Config{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	var riverTables int
	if err := pgtest.Pool(t).QueryRow(ctx,
		"SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'river_job'", schema).Scan(&riverTables); err != nil {
		t.Fatal(err)
	}
	if riverTables != 1 {
		t.Fatal("Migrate did not create River's tables")
	}
}
