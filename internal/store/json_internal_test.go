package store

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonString must mean what encoding/json would have written.
func TestJSONString(t *testing.T) {
	t.Parallel()

	for _, m := range []map[string]string{
		nil,
		{},
		{"Content-Type": "application/json", "Webhook-Signature": "v1,abc+/= v1,def"},
		{`quote"back\slash`: "tab\tnewline\nnul\x00bell\x07", "html": "<a href='x'>&amp;</a>"},
		{"unicode": "héllo wörld ✓ 🎉 \u2028\u2029", "invalid": "a\xffb\xc3(c\xe2\x82", "": ""},
	} {
		got := jsonString(m)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var gotValue, wantValue map[string]string
		if err := json.Unmarshal([]byte(got), &gotValue); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		if err := json.Unmarshal(want, &wantValue); err != nil {
			t.Fatal(err)
		}
		if wantValue == nil {
			wantValue = map[string]string{} // stored as {} either way
		}
		if diff := cmp.Diff(wantValue, gotValue); diff != "" {
			t.Errorf("%q decodes otherwise than %s (-want +got):\n%s", got, want, diff)
		}
	}
}

func BenchmarkJSONString(b *testing.B) {
	m := map[string]string{
		"Content-Type": "application/json", "User-Agent": "Sparrow/1.0", "Webhook-Id": "dlv_01jexample0000000000000000",
		"Webhook-Timestamp": "1700000000", "Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
		"Sparrow-Event": "order.created", "Sparrow-Event-Id": "evt_01jexample0000000000000000", "Sparrow-Namespace": "default",
		"Sparrow-Webhook-Id": "wh_01jexample0000000000000000", "Sparrow-Attempt": "1",
	}
	b.ReportAllocs()
	for b.Loop() {
		jsonString(m)
	}
}
