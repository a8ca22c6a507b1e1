package localpg

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestThrowawayCluster starts, uses and removes a cluster from the local
// binaries: the path taken on a machine with no server running.
func TestThrowawayCluster(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	srv, err := startThrowaway(ctx)
	if err != nil {
		t.Fatalf("throwaway cluster: %v", err)
	}
	url, err := srv.EnsureDatabase(ctx, "sparrow_probe")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if db != "sparrow_probe" {
		t.Fatalf("connected to %q", db)
	}
	if _, err := srv.EnsureDatabase(ctx, "sparrow_probe"); err != nil {
		t.Fatalf("EnsureDatabase of an existing database: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.dataDir); !os.IsNotExist(err) {
		t.Fatalf("data directory left behind: %v", err)
	}
	if err := ping(ctx, srv.URL); err == nil {
		t.Fatal("the cluster still answers after Close")
	}
}

func TestDatabaseURL(t *testing.T) {
	t.Parallel()

	tests := map[string]string{
		"postgres://u:p@h:5432/postgres?sslmode=disable": "postgres://u:p@h:5432/other?sslmode=disable",
		"postgresql://h/db":             "postgresql://h/other",
		"host=h user=u dbname=postgres": "host=h user=u dbname=postgres dbname=other",
	}
	for in, want := range tests {
		got, err := (&Server{URL: in}).DatabaseURL("other")
		if err != nil || got != want {
			t.Errorf("DatabaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestFindPrefersDatabaseURL(t *testing.T) {
	// Not parallel: it sets an environment variable.
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if _, err := Find(context.Background()); err == nil {
		t.Fatal("Find accepted a DATABASE_URL that does not answer instead of reporting it")
	}
}
