package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestEmbedded(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{`"customer": "ada"`, "orders stored: 1, events stored: 1", "rolled back with its event"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
