package transport

import (
	"encoding/json"
	"strings"
	"testing"

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
