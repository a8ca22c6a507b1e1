package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestEmbedded runs the program on a database of its own (a schema, as its
// search_path), where it must see its event delivered.
func TestEmbedded(t *testing.T) {
	t.Parallel()

	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.EmptySchema(t))
	u.RawQuery = q.Encode()
	if err := run(context.Background(), u.String()); err != nil {
		t.Fatal(err)
	}
}

// TestREADMEEmbedIt: README.md's "Embed it" program is this program, whole,
// so that what the README shows compiles and delivers.
func TestREADMEEmbedIt(t *testing.T) {
	t.Parallel()

	program, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(program)+"```\n") {
		t.Fatal("README.md does not show examples/embedded/main.go as it is: copy the file into its \"Embed it\" section")
	}
}
