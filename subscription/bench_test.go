package subscription_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/internal/benchcmp"
	"github.com/sparrowhq/sparrow/subscription"
)

var benchPayload = []byte(`{"order_id":"ord_123","total":49.99,"currency":"EUR","customer":{"id":"cus_9","email":"a@example.com"},
"items":[{"sku":"A1","qty":2,"price":10.5},{"sku":"B2","qty":1,"price":28.99}]}`)

// BenchmarkRender renders a reshaping template, beside decoding and
// re-encoding the same payload with encoding/json: the least any transform
// does.
func BenchmarkRender(b *testing.B) {
	tmpl, err := subscription.ParseTemplate("template",
		`{"id": {{json .order_id}}, "amount": {{json .total}}, "email": {{json .customer.email}}, "skus": [{{range $i, $it := .items}}{{if $i}},{{end}}{{json $it.sku}}{{end}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(benchPayload, time.Second); err != nil {
			b.Fatal(err)
		}
	}
	benchcmp.Report(b, func() {
		var v any
		if err := json.Unmarshal(benchPayload, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	})
}
