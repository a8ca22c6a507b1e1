package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestQuickstart runs the README's run command and checks what it prints:
// four deliveries, all succeeded, the flaky webhook's after retries.
func TestQuickstart(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	final := text[strings.LastIndex(text, "DELIVERY"):]
	if n := strings.Count(final, " ok "); n != 4 {
		t.Fatalf("%d successful final attempts, want 4:\n%s", n, text)
	}
	if !strings.Contains(text, "http_5xx") {
		t.Fatalf("no failed attempt shown for the flaky receiver:\n%s", text)
	}
	table := text[strings.LastIndex(text[:strings.LastIndex(text, "attempts:")], "DELIVERY"):]
	if n := strings.Count(table, "succeeded"); n != 4 {
		t.Fatalf("%d succeeded deliveries in the last table, want 4:\n%s", n, table)
	}
}
