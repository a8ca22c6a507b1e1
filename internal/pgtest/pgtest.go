// Package pgtest gives each test its own PostgreSQL schema with River's and
// Sparrow's tables, on a server found by localpg, so every test runs in
// parallel against real PostgreSQL without seeing another's rows.
//
// A package using it calls Main from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow/localpg"
	"github.com/sparrowhq/sparrow/migrations"
)

// databasePrefix begins the name of the database a test binary creates its
// schemas in, unless DATABASE_URL names one: one per binary, dropped when it
// ends.
const databasePrefix = "sparrow_test_"

const (
	schemaPrefix    = "sparrowtest_"
	runIDTimeLayout = "20060102t150405"
	// staleAfter: a database or schema this old belongs to a test binary
	// that died before its cleanup.
	staleAfter = time.Hour
)

var (
	server    *localpg.Server
	pool      *pgxpool.Pool
	database  string // "" when DATABASE_URL named one
	runID     string
	schemaSeq atomic.Int64
)

// Main finds a server, runs the tests, and cleans up. A test binary that
// cannot reach PostgreSQL fails with localpg's instructions; it never skips.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	if err := setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer func() {
		pool.Close()
		if database != "" {
			if err := server.DropDatabase(context.Background(), database); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}
		if err := server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop server:", err)
		}
	}()
	return m.Run()
}

func setup(ctx context.Context) error {
	var err error
	server, err = localpg.Find(ctx)
	if err != nil {
		return err
	}
	runID = fmt.Sprintf("%s_%d", time.Now().UTC().Format(runIDTimeLayout), os.Getpid())
	url := server.URL
	if server.Source != localpg.SourceEnv {
		if err := dropStaleDatabases(ctx); err != nil {
			return err
		}
		database = databasePrefix + runID
		if url, err = server.EnsureDatabase(ctx, database); err != nil {
			return err
		}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	// An empty search_path makes a statement that forgets its schema fail
	// loudly instead of quietly using some other schema's tables.
	cfg.ConnConfig.RuntimeParams["search_path"] = ""
	cfg.MaxConns = 40
	if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return err
	}
	return dropStaleSchemas(ctx)
}

// dropStaleDatabases removes the databases of test binaries that died
// before their cleanup ran.
func dropStaleDatabases(ctx context.Context) error {
	names, err := server.Databases(ctx, databasePrefix+"%")
	if err != nil {
		return err
	}
	for _, name := range names {
		if stale(strings.TrimPrefix(name, databasePrefix)) {
			if err := server.DropDatabase(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// stale reports whether a run id (or a name starting with one) is older
// than staleAfter.
func stale(runID string) bool {
	stamp, _, _ := strings.Cut(runID, "_")
	created, err := time.Parse(runIDTimeLayout, stamp)
	return err == nil && time.Since(created) > staleAfter
}

// dropStaleSchemas removes schemas left by test binaries that died before
// their cleanup ran. Anything older than an hour is no longer in use.
func dropStaleSchemas(ctx context.Context) error {
	rows, err := pool.Query(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", schemaPrefix+"%")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		if !stale(strings.TrimPrefix(name, schemaPrefix)) {
			continue
		}
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

// Pool returns the test binary's shared pool. Its search_path is empty:
// statements must name their schema (Sparrow's engine does, given
// sparrow.WithSchema).
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	if pool == nil {
		tb.Fatal("pgtest: call pgtest.Main(m) from TestMain")
	}
	return pool
}

// DatabaseName returns the name of the test database, for code under test
// that finds its server itself and asks for a database by name.
func DatabaseName(tb testing.TB) string {
	tb.Helper()
	var name string
	if err := Pool(tb).QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return name
}

// URL returns a connection string for the test database, for code under test
// that opens its own connections (a server process, a pool of its own).
func URL(tb testing.TB) string {
	tb.Helper()
	Pool(tb)
	return pool.Config().ConnString()
}

// EmptySchema creates an empty schema, dropped when the test ends.
func EmptySchema(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s%s_%d", schemaPrefix, runID, schemaSeq.Add(1))
	if _, err := Pool(tb).Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := dropSchema(name); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return name
}

// dropSchema drops a test's schema. Dropping every table at once can
// deadlock with a query that still runs on them (a connection of the code
// under test closing late); PostgreSQL then aborts the drop, which is tried
// again.
func dropSchema(name string) error {
	var err error
	for range 5 {
		_, err = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "40P01" { // deadlock_detected
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Schema creates a schema holding River's and Sparrow's tables, dropped when
// the test ends.
func Schema(tb testing.TB) string {
	tb.Helper()
	name := EmptySchema(tb)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := migrations.Migrate(context.Background(), Pool(tb), &migrations.Config{Schema: name, Logger: quiet}); err != nil {
		tb.Fatalf("pgtest: migrate %s: %v", name, err)
	}
	return name
}

// ForExample gives an Example function what a test gets: a testing.TB
// whose Fatal panics and whose cleanups run when done is called.
func ForExample() (tb testing.TB, done func()) {
	e := &exampleTB{}
	return e, e.cleanup
}

// exampleTB is the testing.TB an Example doesn't get. The embedded
// interface is nil: it only supplies TB's unexported method, and what
// Examples call is below.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (*exampleTB) Helper()                        {}
func (tb *exampleTB) Cleanup(f func())            { tb.cleanups = append(tb.cleanups, f) }
func (*exampleTB) Fatal(args ...any)              { log.Panic(args...) }
func (*exampleTB) Fatalf(format string, a ...any) { log.Panicf(format, a...) }
func (*exampleTB) Errorf(format string, a ...any) { log.Panicf(format, a...) }
func (*exampleTB) Logf(format string, a ...any)   { log.Printf(format, a...) }

func (tb *exampleTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}
