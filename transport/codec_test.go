package transport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// FuzzPushJSONNumbers pushes numbers through the JSON push path's codec, as
// the payload's value and inside a batch: whatever a valid JSON number is
// written as, payload_json must hold that text unchanged.
func FuzzPushJSONNumbers(f *testing.F) {
	for _, seed := range []string{
		"9007199254740993", "18446744073709551615", "-9223372036854775808", "10.10", "1e-400", "1E+400",
		"-0", "0.000000000000000000000000001", "123456789012345678901234567890.5",
	} {
		f.Add(seed)
	}
	codec := connectCodec{newPayloadCodec(codecJSON, false)}
	f.Fuzz(func(t *testing.T, number string) {
		var n json.Number
		if json.Unmarshal([]byte(number), &n) != nil || strings.TrimSpace(number) != number {
			return // not a JSON number
		}
		payload := `{"n": ` + number + `, "list": [` + number + `]}`
		var single pb.PushEventRequest
		if err := codec.Unmarshal([]byte(`{"event": "e", "payload": `+payload+`}`), &single); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if single.GetPayloadJson() != payload {
			t.Fatalf("payload_json = %q, want %q", single.GetPayloadJson(), payload)
		}
		var batch pb.PushEventsRequest
		if err := codec.Unmarshal([]byte(`{"events": [{"event": "e", "payload": `+payload+`}]}`), &batch); err != nil {
			t.Fatalf("unmarshal batch: %v", err)
		}
		if got := batch.GetEvents()[0].GetPayloadJson(); got != payload {
			t.Fatalf("batch payload_json = %q, want %q", got, payload)
		}
		answer, err := codec.Marshal(&pb.GetEventResponse{Event: &pb.Event{Id: "evt_1", PayloadJson: payload}})
		if err != nil || !strings.Contains(string(answer), `"payload":`+payload) {
			t.Fatalf("answer %s (%v) does not carry the payload verbatim", answer, err)
		}
	})
}

// TestOpensWithObject: only a request whose first member is the wrapping
// key with an object for value is taken apart as wrapped.
func TestOpensWithObject(t *testing.T) {
	t.Parallel()

	for data, want := range map[string]bool{
		`{"event": {"name": "a"}}`:                   true,
		"\n{ \"event\"\t:\n {}}":                     true,
		`{"event":{}}`:                               true,
		`{"event": "a", "payload": {"event": {}}}`:   false,
		`{"payload": {}, "event": {"name": "a"}}`:    false,
		`{"namespace": "n", "event": {"name": "a"}}`: false,
		`{"event": null}`:                            false,
		`{"event": [{}]}`:                            false,
		`{"\u0065vent": {}}`:                         true, // the key as protojson reads it
		`{"event"`:                                   false,
		`["event", {}]`:                              false,
		``:                                           false,
	} {
		if got := opensWithObject([]byte(data), "event"); got != want {
			t.Errorf("opensWithObject(%q) = %v, want %v", data, got, want)
		}
	}
	var req pb.PushEventRequest
	codec := connectCodec{newPayloadCodec(codecJSON, false)}
	if err := codec.Unmarshal([]byte(`{"event": {"name": "user.created", "payload": {"a": 1}}}`), &req); err != nil ||
		req.GetEvent() != "user.created" || req.GetPayloadJson() != `{"a": 1}` {
		t.Fatalf("wrapped request read as %v (%v)", &req, err)
	}
}

// BenchmarkPushEventJSON reads a PushEvent request with a 1 KiB payload
// through the codec, and reports its time against protojson reading the
// same request with the payload already given as payload_json text (the
// least any JSON reading of it costs), timed over as many reads in the
// same run, as ×protojson.
func BenchmarkPushEventJSON(b *testing.B) {
	payload := `{"order_id": "ord_1", "items": [` + strings.Repeat(`{"sku": "sku-123", "qty": 2, "price": 19.99},`, 22) + `{"sku": "x"}]}`
	request := []byte(`{"namespace": "default", "event": "order.paid", "payload": ` + payload + `, "labels": {"region": "eu"}}`)
	text, err := json.Marshal(payload)
	if err != nil {
		b.Fatal(err)
	}
	asText := []byte(`{"namespace": "default", "event": "order.paid", "payloadJson": ` + string(text) + `, "labels": {"region": "eu"}}`)
	codec := connectCodec{newPayloadCodec(codecJSON, false)}
	b.ReportAllocs()
	for range b.N {
		var m pb.PushEventRequest
		if err := codec.Unmarshal(request, &m); err != nil || m.GetPayloadJson() != payload {
			b.Fatalf("payload_json %q, %v", m.GetPayloadJson(), err)
		}
	}
	b.StopTimer()
	elapsed, start := b.Elapsed(), time.Now()
	for range b.N {
		var m pb.PushEventRequest
		if err := codec.unmarshal.Unmarshal(asText, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(elapsed)/float64(time.Since(start)), "×protojson")
}
