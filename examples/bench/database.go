package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparrowhq/sparrow/localpg"
	"github.com/sparrowhq/sparrow/migrations"
)

const (
	// databasePrefix names the databases the bench creates; a run's is
	// databasePrefix + its start time, pid and sequence number.
	databasePrefix = "sparrow_bench_"
	stampLayout    = "20060102t150405"
	// staleAfter is how old another run's database must be before a new
	// run drops it (it was left by a run killed before its cleanup).
	staleAfter = 6 * time.Hour
)

// database is the bench's database: one of its own, dropped at the end, or,
// where it may not create databases, schemas in DATABASE_URL's.
type database struct {
	server *localpg.Server
	// own is the database created for the run; empty when borrowing
	// DATABASE_URL's.
	own   string
	url   string
	admin *pgxpool.Pool
	quiet *slog.Logger
	// runID tags the run's schemas and connections (application_name).
	runID     string
	schemaSeq atomic.Int64
	version   string
}

// runSeq tells apart runs in one process (the tests').
var runSeq atomic.Int64

func openDatabase(ctx context.Context, quiet *slog.Logger) (*database, error) {
	srv, err := localpg.Find(ctx)
	if err != nil {
		return nil, err
	}
	stamp := time.Now().UTC().Format(stampLayout)
	runID := fmt.Sprintf("%s_%d_%d", stamp, os.Getpid(), runSeq.Add(1))
	d := &database{server: srv, quiet: quiet, runID: runID}
	dropStaleDatabases(ctx, srv.URL)
	name := databasePrefix + d.runID
	d.url, err = srv.EnsureDatabase(ctx, name)
	switch {
	case err == nil:
		d.own = name
	case srv.Source == localpg.SourceEnv && isCode(err, "42501"):
		// Not allowed to create databases: schemas in DATABASE_URL's will do.
		d.url = srv.URL
	default:
		// Interrupted, CREATE DATABASE may still have been done: drop what
		// there is.
		return nil, errors.Join(fmt.Errorf("create database %s: %w", name, err),
			dropDatabase(context.WithoutCancel(ctx), srv.URL, name), srv.Close())
	}
	if d.admin, err = d.pool(ctx, "", 4, "admin"); err != nil {
		return nil, errors.Join(err, d.close(context.WithoutCancel(ctx)))
	}
	if err := d.admin.QueryRow(ctx, "SHOW server_version").Scan(&d.version); err != nil {
		return nil, errors.Join(err, d.close(context.WithoutCancel(ctx)))
	}
	return d, nil
}

// dropStaleDatabases drops databases left by bench runs killed before their
// cleanup. A database still in use refuses to be dropped, which is fine.
func dropStaleDatabases(ctx context.Context, url string) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", databasePrefix+"%")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		stamp, _, _ := strings.Cut(strings.TrimPrefix(name, databasePrefix), "_")
		if created, err := time.Parse(stampLayout, stamp); err == nil && time.Since(created) > staleAfter {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		}
	}
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// close drops what the run created and stops a throwaway server.
func (d *database) close(ctx context.Context) error {
	var errs []error
	if d.admin != nil {
		if d.own == "" {
			errs = append(errs, d.dropRunSchemas(ctx))
		}
		d.admin.Close()
	}
	if d.own != "" {
		errs = append(errs, dropDatabase(ctx, d.server.URL, d.own))
	}
	errs = append(errs, d.server.Close())
	return errors.Join(errs...)
}

func dropDatabase(ctx context.Context, maintenanceURL, name string) error {
	conn, err := pgx.Connect(ctx, maintenanceURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// FORCE ends connections a pool closed in a hurry may have left.
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	if isCode(err, "42601") { // before PostgreSQL 13
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize())
	}
	return err
}

// dropRunSchemas drops the run's schemas left in a borrowed database.
func (d *database) dropRunSchemas(ctx context.Context) error {
	rows, err := d.admin.Query(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", d.schemaPrefix()+"%")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := d.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

func (d *database) schemaPrefix() string { return "bench_" + d.runID + "_" }

// applicationName tags a pool's connections, so pg_stat_activity can count
// them apart from anyone else's.
func (d *database) applicationName(role string) string {
	return "sparrow-bench-" + d.runID + "-" + role
}

// pool opens a pool on the bench database with search_path set to schema.
func (d *database) pool(ctx context.Context, schema string, maxConns int, role string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(d.url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(maxConns)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = d.applicationName(role)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// schema creates a schema for one scenario, with River's and Sparrow's
// tables when migrate is set. drop removes it, even after Ctrl-C.
func (d *database) schema(ctx context.Context, name string, migrate bool) (schema string, drop func(), err error) {
	schema = fmt.Sprintf("%s%d_%s", d.schemaPrefix(), d.schemaSeq.Add(1), name)
	if _, err := d.admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return "", nil, err
	}
	drop = func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = d.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	}
	if migrate {
		if err := migrations.Migrate(ctx, d.admin, &migrations.Config{Schema: schema, Logger: d.quiet}); err != nil {
			drop()
			return "", nil, fmt.Errorf("migrate %s: %w", schema, err)
		}
	}
	return schema, drop, nil
}

// serverConnections counts the server's connections of pools opened with
// role (see applicationName).
func (d *database) serverConnections(ctx context.Context, role string) (int, error) {
	var n int
	err := d.admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", d.applicationName(role)).Scan(&n)
	return n, err
}
