package store

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// TestNamespaceSummarizeReadsFewEvents summarizes namespaces over 20,000
// events in four of them: the plan must reach sparrow_event through an
// index, a handful of rows in all (a probe per namespace, and one for its
// latest event), never by reading the events.
func TestNamespaceSummarizeReadsFewEvents(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	schema := dbutil.Schema(pgtest.Schema(t))
	db := schema.On(pgtest.Pool(t))
	if _, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_event (id, namespace, name, payload, created_at)
SELECT 'evt_' || lpad(i::text, 26, '0'), (ARRAY['acme', 'beta', 'default', 'zeta'])[1 + i % 4], 'order.created', '{}',
    now() - make_interval(secs => 20000 - i)
FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "ANALYZE /*schema*/sparrow_event"); err != nil {
		t.Fatal(err)
	}

	got, err := NamespaceSummarize(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Namespace)
		if s.LastEventAt.IsZero() {
			t.Errorf("%s: no latest event", s.Namespace)
		}
	}
	if want := []string{"acme", "beta", "default", "zeta"}; !slices.Equal(names, want) {
		t.Fatalf("namespaces %v, want %v", names, want)
	}

	var plan []struct {
		Plan planNode `json:"Plan"`
	}
	var raw []byte
	if err := db.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON)"+namespaceSummarizeSQL, nil).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil {
		t.Fatal(err)
	}
	rows := 0.0
	plan[0].Plan.walk(func(n *planNode) {
		if n.Relation != "sparrow_event" {
			return
		}
		if n.Type == "Seq Scan" || n.Type == "Bitmap Heap Scan" {
			t.Errorf("sparrow_event is read by a %s", n.Type)
		}
		rows += n.Rows * n.Loops
	})
	// Five probes for the namespaces (the last finds none) and four for
	// the latest events.
	if rows > 20 {
		t.Errorf("the plan reads %v rows of sparrow_event:\n%s", rows, raw)
	}
}

type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

func (n *planNode) walk(fn func(*planNode)) {
	fn(n)
	for i := range n.Plans {
		n.Plans[i].walk(fn)
	}
}
