// Package migrations creates and upgrades the tables Sparrow keeps in
// PostgreSQL.
//
// Most hosts call [Migrate] once at startup: it brings River's schema (through
// rivermigrate) and Sparrow's up to date under one advisory lock, so several
// processes starting together are safe. [Migrator] gives finer control (down
// migrations, target versions, validation), and [FS] exposes the SQL for
// teams that apply migrations with their own tool.
//
// Versions are files named NNN_name.up.sql and NNN_name.down.sql. Each
// version runs in its own transaction together with its row in the
// sparrow_migration table.
package migrations

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sparrowhq/sparrow/internal/dbutil"
)

//go:embed *.sql
var embedded embed.FS

// FS holds Sparrow's migrations as NNN_name.up.sql and NNN_name.down.sql, for
// teams that run them with goose, atlas or similar. Table names in them are
// preceded by a /*schema*/ comment, which such tools ignore: the tables land
// in the connection's search_path. River's own tables come from rivermigrate
// and must be migrated first.
var FS fs.FS = embedded

// Direction is the direction of a migration run.
type Direction string

const (
	// DirectionUp applies versions not yet applied.
	DirectionUp Direction = "up"
	// DirectionDown reverts applied versions.
	DirectionDown Direction = "down"
)

// Migration is one version of Sparrow's schema.
type Migration struct {
	Version int
	Name    string
	SQLUp   string
	SQLDown string
}

// Config configures a Migrator. The zero value is ready to use.
type Config struct {
	// Logger receives a line per applied version. Default: slog.Default().
	Logger *slog.Logger

	// Schema is the PostgreSQL schema holding Sparrow's and River's tables.
	// Default: the connection's search_path. It must match the engine's
	// sparrow.WithSchema.
	Schema string
}

// MigrateOpts narrows a migration run. The zero value migrates up fully, or
// down by one version.
type MigrateOpts struct {
	// TargetVersion is the version to stop at: the last one applied when going
	// up, the last one kept when going down. Going down, -1 reverts every
	// version; 0 (the default) reverts only the newest.
	TargetVersion int
}

// MigrateResult reports the versions a run applied or reverted, in order.
type MigrateResult struct {
	Direction Direction
	Versions  []MigrateVersion
}

// MigrateVersion is one version applied or reverted.
type MigrateVersion struct {
	Version  int
	Name     string
	Duration time.Duration
}

// Migrator applies Sparrow's migrations to a database.
type Migrator struct {
	logger     *slog.Logger
	migrations []Migration
	pool       *pgxpool.Pool
	schema     dbutil.Schema
}

// New returns a Migrator for pool.
func New(pool *pgxpool.Pool, config *Config) (*Migrator, error) {
	if pool == nil {
		return nil, errors.New("migrations: nil pool (pass the *pgxpool.Pool Sparrow's tables live in)")
	}
	if config == nil {
		config = &Config{}
	}
	migrations, err := load(FS)
	if err != nil {
		return nil, err
	}
	return &Migrator{
		logger:     cmp.Or(config.Logger, slog.Default()),
		migrations: migrations,
		pool:       pool,
		schema:     dbutil.Schema(config.Schema),
	}, nil
}

// Migrate brings River's schema and Sparrow's up to date in pool. Concurrent
// calls are safe: they serialize on an advisory lock, and the later ones find
// nothing to do.
func Migrate(ctx context.Context, pool *pgxpool.Pool, config *Config) error {
	m, err := New(pool, config)
	if err != nil {
		return err
	}
	return m.withLock(ctx, func() error {
		river, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
			Logger: m.logger,
			Schema: string(m.schema),
		})
		if err != nil {
			return fmt.Errorf("migrations: river: %w", err)
		}
		if _, err := river.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrations: river: %w", err)
		}
		_, err = m.migrate(ctx, DirectionUp, &MigrateOpts{})
		return err
	})
}

// AllVersions returns every version Sparrow knows, oldest first.
func (m *Migrator) AllVersions() []Migration { return slices.Clone(m.migrations) }

// ExistingVersions returns the versions applied to the database, oldest
// first.
func (m *Migrator) ExistingVersions(ctx context.Context) ([]int, error) {
	return m.existing(ctx, m.pool)
}

// Migrate applies (up) or reverts (down) versions, holding an advisory lock
// for the whole run.
func (m *Migrator) Migrate(ctx context.Context, direction Direction, opts *MigrateOpts) (*MigrateResult, error) {
	if opts == nil {
		opts = &MigrateOpts{}
	}
	var res *MigrateResult
	err := m.withLock(ctx, func() error {
		var err error
		res, err = m.migrate(ctx, direction, opts)
		return err
	})
	return res, err
}

// Validate returns an error naming the versions not yet applied, so a service
// can refuse to start on an outdated schema.
func (m *Migrator) Validate(ctx context.Context) error {
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return err
	}
	var missing []int
	for _, mig := range m.migrations {
		if !slices.Contains(existing, mig.Version) {
			missing = append(missing, mig.Version)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("migrations: unapplied versions %v (run migrations.Migrate)", missing)
	}
	return nil
}

func (m *Migrator) migrate(ctx context.Context, direction Direction, opts *MigrateOpts) (*MigrateResult, error) {
	db := m.schema.On(m.pool)
	existing, err := m.existing(ctx, m.pool)
	if err != nil {
		return nil, err
	}
	targets, err := m.targets(direction, opts, existing)
	if err != nil {
		return nil, err
	}
	res := &MigrateResult{Direction: direction}
	if len(targets) == 0 {
		return res, nil
	}
	if _, err := db.Exec(ctx, sqlCreateVersionTable); err != nil {
		return nil, fmt.Errorf("migrations: create version table: %w", err)
	}
	for _, mig := range targets {
		start := time.Now()
		if err := m.apply(ctx, direction, mig); err != nil {
			return res, err
		}
		v := MigrateVersion{Version: mig.Version, Name: mig.Name, Duration: time.Since(start)}
		res.Versions = append(res.Versions, v)
		m.logger.InfoContext(ctx, "sparrow: applied migration",
			slog.String("direction", string(direction)), slog.Int("version", v.Version),
			slog.String("name", v.Name), slog.Duration("duration", v.Duration))
	}
	if direction == DirectionDown && len(existing) == len(res.Versions) {
		// Down to empty leaves nothing of Sparrow behind.
		if _, err := db.Exec(ctx, "DROP TABLE /*schema*/sparrow_migration"); err != nil {
			return res, fmt.Errorf("migrations: drop version table: %w", err)
		}
	}
	return res, nil
}

// targets picks the versions a run applies, in the order it applies them.
func (m *Migrator) targets(direction Direction, opts *MigrateOpts, existing []int) ([]Migration, error) {
	if opts.TargetVersion > 0 && !slices.ContainsFunc(m.migrations, func(mig Migration) bool { return mig.Version == opts.TargetVersion }) {
		return nil, fmt.Errorf("migrations: unknown target version %d", opts.TargetVersion)
	}
	var out []Migration
	switch direction {
	case DirectionUp:
		for _, mig := range m.migrations {
			if !slices.Contains(existing, mig.Version) && (opts.TargetVersion == 0 || mig.Version <= opts.TargetVersion) {
				out = append(out, mig)
			}
		}
	case DirectionDown:
		for _, mig := range slices.Backward(m.migrations) {
			if !slices.Contains(existing, mig.Version) {
				continue
			}
			if opts.TargetVersion > 0 && mig.Version <= opts.TargetVersion {
				break
			}
			out = append(out, mig)
			if opts.TargetVersion == 0 {
				break
			}
		}
	default:
		return nil, fmt.Errorf("migrations: unknown direction %q", direction)
	}
	return out, nil
}

func (m *Migrator) apply(ctx context.Context, direction Direction, mig Migration) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		db := m.schema.On(tx)
		sql, record, args := mig.SQLUp, sqlInsertVersion, []any{mig.Version, mig.Name}
		if direction == DirectionDown {
			sql, record, args = mig.SQLDown, sqlDeleteVersion, []any{mig.Version}
		}
		if _, err := db.Exec(ctx, sql); err != nil {
			return fmt.Errorf("migrations: version %03d %s: %w", mig.Version, direction, err)
		}
		if _, err := db.Exec(ctx, record, args...); err != nil {
			return fmt.Errorf("migrations: version %03d: record: %w", mig.Version, err)
		}
		return nil
	})
}

func (m *Migrator) existing(ctx context.Context, e dbutil.Executor) ([]int, error) {
	var exists bool
	if err := m.schema.On(e).QueryRow(ctx, sqlVersionTableExists, string(m.schema)).Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrations: check version table: %w", err)
	}
	if !exists {
		return nil, nil
	}
	rows, err := m.schema.On(e).Query(ctx, "SELECT version FROM /*schema*/sparrow_migration ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("migrations: read versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("migrations: read versions: %w", err)
	}
	return versions, nil
}

// withLock runs fn holding a session advisory lock on a connection of its
// own, outside the pool, so that fn can use every pooled connection (a pool
// of one included) while other migrating processes wait.
func (m *Migrator) withLock(ctx context.Context, fn func() error) (err error) {
	conn, err := pgx.ConnectConfig(ctx, m.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("migrations: connect for lock: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	key := "sparrow.migrate:" + string(m.schema)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	defer func() {
		_, unlockErr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
		err = errors.Join(err, unlockErr)
	}()
	return fn()
}

const (
	sqlCreateVersionTable = `CREATE TABLE IF NOT EXISTS /*schema*/sparrow_migration (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`
	sqlVersionTableExists = `SELECT to_regclass(CASE WHEN $1 = '' THEN 'sparrow_migration'
    ELSE quote_ident($1) || '.sparrow_migration' END) IS NOT NULL`
	sqlInsertVersion = "INSERT INTO /*schema*/sparrow_migration (version, name) VALUES ($1, $2)"
	sqlDeleteVersion = "DELETE FROM /*schema*/sparrow_migration WHERE version = $1"
)

var fileName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.(up|down)\.sql$`)

// load reads migrations from fsys and refuses gaps, duplicates and versions
// missing a direction, so a bad release fails at startup, not half-applied.
func load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: read: %w", err)
	}
	byVersion := map[int]*Migration{}
	for _, entry := range entries {
		match := fileName.FindStringSubmatch(entry.Name())
		if match == nil {
			return nil, fmt.Errorf("migrations: unexpected file %q (want NNN_name.up.sql or NNN_name.down.sql)", entry.Name())
		}
		version, _ := strconv.Atoi(match[1])
		body, err := fs.ReadFile(fsys, path.Join(".", entry.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: read %s: %w", entry.Name(), err)
		}
		mig := byVersion[version]
		if mig == nil {
			mig = &Migration{Version: version, Name: match[2]}
			byVersion[version] = mig
		}
		if mig.Name != match[2] {
			return nil, fmt.Errorf("migrations: version %03d appears twice, as %q and %q", version, mig.Name, match[2])
		}
		if match[3] == "up" {
			mig.SQLUp = string(body)
		} else {
			mig.SQLDown = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for v := 1; v <= len(byVersion); v++ {
		mig, ok := byVersion[v]
		if !ok {
			return nil, fmt.Errorf("migrations: version %03d is missing (versions must run 001, 002, ... without gaps)", v)
		}
		if mig.SQLUp == "" || mig.SQLDown == "" {
			return nil, fmt.Errorf("migrations: version %03d needs both an up and a down file", v)
		}
		out = append(out, *mig)
	}
	return out, nil
}
