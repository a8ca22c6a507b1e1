// Command cleandb drops the databases Sparrow's examples and tests create on
// the local PostgreSQL server (make clean-db): the examples' own
// (sparrow_quickstart, sparrow_dashboard) and any a test or benchmark run
// left behind when it was killed. It leaves examples/server's database
// (sparrow), which holds what you registered, and touches nothing when
// DATABASE_URL names a server of yours.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sparrowhq/sparrow/localpg"
)

// patterns are the databases to drop, as SQL LIKE patterns.
var patterns = []string{
	"sparrow_quickstart", "sparrow_dashboard", "sparrow_embedded",
	`sparrow\_test`, `sparrow\_test\_%`, "sparrow_dashboard_test", `sparrow\_bench\_%`,
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "clean-db:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if os.Getenv("DATABASE_URL") != "" {
		fmt.Println("clean-db: DATABASE_URL is set; dropping nothing on a server that is not the local development one")
		return nil
	}
	srv, err := localpg.Find(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	if srv.Source != localpg.SourceLocal {
		fmt.Println("clean-db: no local server on 127.0.0.1:5432, nothing to drop")
		return nil
	}
	dropped := 0
	for _, pattern := range patterns {
		names, err := srv.Databases(ctx, pattern)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := srv.DropDatabase(ctx, name); err != nil {
				return err
			}
			fmt.Println("dropped", name)
			dropped++
		}
	}
	fmt.Printf("clean-db: %d databases dropped (examples/server's \"sparrow\" is kept: DROP DATABASE sparrow removes it)\n", dropped)
	return nil
}
