package subscription_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/subscription"
)

func TestFilterMatch(t *testing.T) {
	t.Parallel()

	payload := []byte(`{"total":150,"price":49.99,"currency":"EUR","big":12345678901234567890,"exact":9007199254740993,
"customer":{"tier":"gold"},"items":[{"sku":"a"},{"sku":"b"}],"note":null}`)
	labels := map[string]string{"region": "eu"}
	tests := []struct {
		name    string
		filter  string
		want    bool
		wantErr string
	}{
		{"Example", `payload.total > 100 && payload.currency == "EUR"`, true, ""},
		{"ExampleFails", `payload.total > 200 && payload.currency == "EUR"`, false, ""},
		{"Nested", `payload.customer.tier in ["gold", "platinum"]`, true, ""},
		{"IntsExact", `payload.exact == 9007199254740993 && payload.exact != 9007199254740992`, true, ""},
		{"IntsAreInts", `type(payload.total) == int && type(payload.price) == double`, true, ""},
		{"BeyondInt64IsDouble", `type(payload.big) == double && payload.big > 1e19`, true, ""},
		{"IntAgainstDouble", `payload.total > 149.5 && payload.price < 50`, true, ""},
		{"Lists", `payload.items.exists(i, i.sku == "b") && size(payload.items) == 2`, true, ""},
		{"Null", `payload.note == null`, true, ""},
		{"Label", `labels.region == "eu"`, true, ""},
		{"LabelIn", `"region" in labels && !("tenant" in labels)`, true, ""},
		{"LabelIndex", `labels["region"].startsWith("e")`, true, ""},
		// A field the event lacks makes the filter not match, quietly.
		{"MissingField", `payload.discount > 0`, false, ""},
		{"MissingNested", `payload.customer.address.city == "Paris"`, false, ""},
		{"MissingLabel", `labels.tenant == "acme"`, false, ""},
		{"MissingIndex", `payload.items[5].sku == "a"`, false, ""},
		{"MissingNegated", `!(payload.discount > 0)`, false, ""},
		// CEL's || and && absorb an error when the other side decides.
		{"MissingOrTrue", `payload.discount > 0 || payload.total > 100`, true, ""},
		{"Has", `!has(payload.discount) && has(payload.customer.tier)`, true, ""},
		{"HasOrDefault", `(has(payload.discount) ? payload.discount : 0) == 0`, true, ""},
		{"WrongType", `payload.currency > 1`, false, "no such overload"},
		{"DivideByZero", `payload.total / 0 == 1`, false, "division by zero"},
		{"CostLimit", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b,
			[1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`, false, "cost limit exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			f, err := subscription.ParseFilter("filter", tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			in, err := subscription.NewFilterInput(payload, labels)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Match(in)
			if tt.wantErr != "" {
				if !errors.Is(err, subscription.ErrFilter) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a filter error containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFilterCostLimitPayload spends the cost limit on a large payload
// rather than on the expression's own literals: a list the event brings is
// bounded alike.
func TestFilterCostLimitPayload(t *testing.T) {
	t.Parallel()

	items := strings.TrimSuffix(strings.Repeat(`{"sku":"a"},`, 5000), ",")
	in, err := subscription.NewFilterInput([]byte(`{"items":[`+items+`]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err := subscription.NewFilterInput([]byte(`{"items":[{"sku":"a"},{"sku":"b"}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := subscription.ParseFilter("filter", `payload.items.exists(i, i.sku == "b")`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.Match(small); !got || err != nil {
		t.Fatalf("small payload: matched = %v, err = %v; want true, nil", got, err)
	}
	if got, err := f.Match(in); got || !errors.Is(err, subscription.ErrFilter) || !strings.Contains(err.Error(), "cost limit exceeded") {
		t.Fatalf("large payload: matched = %v, err = %v; want false and the cost limit", got, err)
	}
}

func TestParseFilterInvalid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		filter string
		reason string
	}{
		{"Empty", "", "empty expression"},
		{"Blank", " \n\t", "empty expression"},
		{"TooLong", `payload.a == "` + strings.Repeat("x", subscription.MaxFilterLen) + `"`, "longer than 4096 bytes"},
		{"NUL", "payload.a == \"\x00\"", "NUL"},
		{"Syntax", `payload.total > `, "1:17: Syntax error"},
		{"SyntaxSecondLine", "payload.total > 100 &&\n  payload.currency = \"EUR\"", "2:20: Syntax error"},
		{"Undeclared", `total > 100`, "1:1: undeclared reference to 'total'"},
		{"UnknownFunction", `payload.name.shout()`, "1:19: undeclared reference to 'shout'"},
		{"LabelsAreStrings", `labels.region > 1`, "1:15: found no matching overload for '_>_' applied to '(string, int)'"},
		{"NotBool", `payload.total + 1`, "of type int, not bool"},
		{"String", `labels.region`, "of type string, not bool"},
		{"Dyn", `payload.active`, "not known to be bool"},
		{"ManyErrors", `a && b && c && d && e`, "(and 2 more)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			f, err := subscription.ParseFilter("filter", tt.filter)
			var invalid *errs.InvalidArgumentError
			if !errors.As(err, &invalid) || invalid.Field != "filter" || !strings.Contains(invalid.Reason, tt.reason) {
				t.Fatalf("ParseFilter = %v, %v; want an invalid filter containing %q", f, err, tt.reason)
			}
		})
	}
}

// TestParseFilterCached returns one compiled filter for one source: fan-out
// compiles each filter once, not once per event.
func TestParseFilterCached(t *testing.T) {
	t.Parallel()

	text := `payload.cached == "` + t.Name() + `"`
	a, err := subscription.ParseFilter("filter", text)
	if err != nil {
		t.Fatal(err)
	}
	b, err := subscription.ParseFilter("filter", text)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the same filter compiled twice")
	}
}

func TestNewFilterInputInvalid(t *testing.T) {
	t.Parallel()

	if _, err := subscription.NewFilterInput([]byte(`{"total":`), nil); !errors.Is(err, subscription.ErrFilter) {
		t.Fatalf("err = %v, want ErrFilter", err)
	}
}

// BenchmarkFilter evaluates a typical filter over a fresh input, as fan-out
// does for each event.
func BenchmarkFilter(b *testing.B) {
	f, err := subscription.ParseFilter("filter", `payload.total > 40 && payload.currency == "EUR" && labels.region == "eu"`)
	if err != nil {
		b.Fatal(err)
	}
	labels := map[string]string{"region": "eu"}
	b.ReportAllocs()
	for b.Loop() {
		in, err := subscription.NewFilterInput(benchPayload, labels)
		if err != nil {
			b.Fatal(err)
		}
		if ok, err := f.Match(in); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
