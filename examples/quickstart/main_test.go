package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestQuickstart runs the README's run command and checks what it prints:
// four deliveries, all succeeded, the flaky webhook's after retries.
func TestQuickstart(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer
	if err := run(context.Background(), &out, false); err != nil {
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
	// Not on a terminal: changes line by line, one table at the end.
	if n := strings.Count(text, "LAST CODE"); n != 1 {
		t.Fatalf("the deliveries table printed %d times, want once:\n%s", n, text)
	}
	if !strings.Contains(text, ": retrying after attempt 1 (500 http_5xx)") || strings.Count(text, ": succeeded after attempt") != 4 {
		t.Fatalf("the changes are not told line by line:\n%s", text)
	}
}

// TestQuickstartLive: on a terminal the table is redrawn in place: each
// redraw moves the cursor back up over the table it replaces.
func TestQuickstartLive(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer
	if err := run(context.Background(), &out, true); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	tables := strings.Count(text, "LAST CODE")
	if redraws := len(regexp.MustCompile(`\x1b\[\d+A\x1b\[J`).FindAllString(text, -1)); tables < 2 || redraws != tables-1 {
		t.Fatalf("%d tables drawn, %d of them over the one before; want each after the first to replace it:\n%q", tables, redraws, text)
	}
	if strings.Contains(text, "after attempt") {
		t.Fatalf("change lines on a terminal:\n%s", text)
	}
}
