// Package localpg finds a PostgreSQL server to develop and test against, in
// this order: DATABASE_URL when set; a server answering on 127.0.0.1:5432
// (user postgres); a throwaway cluster started from the local PostgreSQL
// binaries (initdb on PATH or under /usr/lib/postgresql/*/bin). When none
// is possible it says exactly what to do. Sparrow's examples and tests find
// their database with it; production code connects to its own.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultLocalURL is the server tried when DATABASE_URL is not set.
const DefaultLocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Source says where a Server came from.
type Source string

const (
	SourceEnv       Source = "DATABASE_URL"
	SourceLocal     Source = "local server"
	SourceThrowaway Source = "throwaway cluster"
)

// Server is a PostgreSQL server to connect to.
type Server struct {
	// URL connects to the server's maintenance database.
	URL    string
	Source Source

	dataDir string
	pgCtl   string
	user    *user.User
}

// Find returns a server, starting a throwaway cluster if it must; Close stops
// and removes such a cluster.
func Find(ctx context.Context) (*Server, error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		if err := ping(ctx, url); err != nil {
			return nil, fmt.Errorf("DATABASE_URL is set but does not answer: %w", err)
		}
		return &Server{URL: url, Source: SourceEnv}, nil
	}
	localErr := ping(ctx, DefaultLocalURL)
	if localErr == nil {
		return &Server{URL: DefaultLocalURL, Source: SourceLocal}, nil
	}
	srv, startErr := startThrowaway(ctx)
	if startErr == nil {
		return srv, nil
	}
	return nil, fmt.Errorf(`no PostgreSQL server found:
  - DATABASE_URL is not set
  - 127.0.0.1:5432 does not answer as user postgres: %v
  - a throwaway cluster could not be started: %v
Do one of:
  export DATABASE_URL=postgres://user:password@host:5432/dbname
  or start PostgreSQL on 127.0.0.1:5432 with user postgres (trust auth)
  or install the server binaries (Debian/Ubuntu: apt-get install postgresql) so a throwaway cluster can be started`,
		localErr, startErr)
}

// Close stops a throwaway cluster and removes its files; for other sources it
// does nothing.
func (s *Server) Close() error {
	if s.dataDir == "" {
		return nil
	}
	stop := exec.Command(s.pgCtl, "stop", "-D", s.dataDir, "-m", "fast", "-w")
	runAs(stop, s.user)
	out, err := stop.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return errors.Join(err, os.RemoveAll(filepath.Dir(s.dataDir)))
}

// DatabaseURL returns the server's URL pointed at database name. It accepts
// both URL and keyword/value connection strings.
func (s *Server) DatabaseURL(name string) (string, error) {
	if !strings.HasPrefix(s.URL, "postgres://") && !strings.HasPrefix(s.URL, "postgresql://") {
		// In keyword/value strings the last occurrence of a keyword wins.
		return s.URL + " dbname=" + name, nil
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// EnsureDatabase creates database name if it does not exist yet and returns
// its URL.
func (s *Server) EnsureDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		// Concurrent test binaries race to create it; losing that race is fine.
		if err != nil && !isDuplicateDatabase(err) {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return s.DatabaseURL(name)
}

// DropDatabase drops database name if it exists, ending its connections.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// Databases returns the names of the server's databases that match pattern
// (SQL LIKE).
func (s *Server) Databases(ctx context.Context, pattern string) ([]string, error) {
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname", pattern)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func isDuplicateDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// startThrowaway initdbs a cluster in a temporary directory and starts it on
// a free loopback port, as an unprivileged user when run as root (initdb
// refuses root).
func startThrowaway(ctx context.Context) (*Server, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	runUser, err := unprivilegedUser()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "sparrow-pg-")
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(root, "data")
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(root)
		return nil, err
	}
	if runUser != nil {
		uid, _ := strconv.Atoi(runUser.Uid)
		gid, _ := strconv.Atoi(runUser.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			return fail(err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "-D", dataDir, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--no-sync")
	runAs(initdb, runUser)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	pgCtl := filepath.Join(binDir, "pg_ctl")
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=300", port, root)
	start := exec.CommandContext(ctx, pgCtl, "start", "-D", dataDir, "-w", "-t", "60",
		"-l", filepath.Join(root, "postgres.log"), "-o", opts)
	runAs(start, runUser)
	if out, err := start.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(root, "postgres.log"))
		return fail(fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, log))
	}
	return &Server{
		URL:     fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		Source:  SourceThrowaway,
		dataDir: dataDir,
		pgCtl:   pgCtl,
		user:    runUser,
	}, nil
}

// findBinDir finds initdb on PATH or in Debian's /usr/lib/postgresql/*/bin,
// preferring the newest version.
func findBinDir() (string, error) {
	if path, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(path); err == nil {
			path = resolved
		}
		return filepath.Dir(path), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb not found on PATH or under /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unprivilegedUser returns the user to run PostgreSQL as: nil (the current
// user) unless running as root, then postgres or nobody.
func unprivilegedUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
	}
	return nil, errors.New("running as root and no postgres or nobody user to run initdb as")
}

func runAs(cmd *exec.Cmd, u *user.User) {
	if u == nil {
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Dir = os.TempDir()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
