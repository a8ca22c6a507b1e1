// Command withpg runs a command with DATABASE_URL pointing at a PostgreSQL
// server found the way Sparrow's tests find one (DATABASE_URL, then
// 127.0.0.1:5432, then a throwaway cluster from local binaries), so that a
// whole test run shares one server. A throwaway cluster is removed after.
//
//	go run ./internal/cmd/withpg -- go test -race ./...
//
// With -fresh-schema, DATABASE_URL gets a search_path naming a new, empty
// schema, dropped when the command ends: a clean database for tests written
// in other languages (the Python client's, the dashboard's).
//
//	go run ./internal/cmd/withpg -fresh-schema -- python3 -m unittest
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/localpg"
)

func main() {
	os.Exit(run())
}

func run() int {
	flags := flag.NewFlagSet("withpg", flag.ContinueOnError)
	freshSchema := flags.Bool("fresh-schema", false, "point DATABASE_URL at a new schema, dropped afterwards")
	if err := flags.Parse(os.Args[1:]); err != nil {
		return 2
	}
	args := flags.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withpg [-fresh-schema] -- command [args...]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := localpg.Find(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "withpg: stop server:", err)
		}
	}()
	if srv.Source != localpg.SourceEnv {
		fmt.Fprintf(os.Stderr, "withpg: using %s at %s\n", srv.Source, srv.URL)
	}
	url := srv.URL
	if *freshSchema {
		var drop func()
		if url, drop, err = createSchema(ctx, srv.URL); err != nil {
			fmt.Fprintln(os.Stderr, "withpg:", err)
			return 1
		}
		defer drop()
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
	return 0
}

// createSchema makes a schema and returns url with it as search_path, and a
// function dropping it.
func createSchema(ctx context.Context, url string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("withpg_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, err
	}
	drop := func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			fmt.Fprintln(os.Stderr, "withpg: drop schema:", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			fmt.Fprintln(os.Stderr, "withpg: drop schema:", err)
		}
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + name, drop, nil
}
