package transport

import (
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/event"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/errs"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/subscription"
	"github.com/sparrowhq/sparrow/webhook"
)

// Conversions between the engine's types and the API's messages. Text that
// came from strangers (receivers' headers and bodies) is made valid UTF-8,
// as protobuf strings must be.

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// fromTimestamp reads an optional Timestamp; nil is the zero time. One
// outside Timestamp's documented range (years 1 to 9999, nanos within a
// second) is refused, as protojson refuses it in JSON: the binary format
// mustn't carry a time the JSON one can't.
func fromTimestamp(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, errs.InvalidArgument(field, "not a valid timestamp (years 1 to 9999, nanos 0 to 999999999)")
	}
	return ts.AsTime(), nil
}

// fromTimeRange reads the optional since and until of a listing.
func fromTimeRange(since, until *timestamppb.Timestamp) (time.Time, time.Time, error) {
	from, err := fromTimestamp("since", since)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := fromTimestamp("until", until)
	return from, to, err
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func text(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func textMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[text(k)] = text(v)
	}
	return out
}

// optional returns nil for an absent optional field, else a pointer to its
// value converted by conv.
func optional[T, U any](v *T, conv func(T) U) *U {
	if v == nil {
		return nil
	}
	u := conv(*v)
	return &u
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

// payloadJSON returns a request's payload: its payload_json as given, else
// its Struct written as compact JSON with sorted keys.
func payloadJSON(s *structpb.Struct, text string) (json.RawMessage, error) {
	switch {
	case text != "" && s != nil:
		return nil, errs.InvalidArgument("payload_json", "set payload or payload_json, not both")
	case text != "":
		return json.RawMessage(text), nil
	}
	return structJSON("payload", s)
}

// MaxStructDepth bounds how deeply the objects and lists of a Struct in a
// request (a payload, a schema) may nest. Protobuf decoders refuse messages
// nested more than 10,000 deep, and each level of a Struct takes three:
// far below that, whatever is stored stays readable in every response that
// carries it, by every client.
const MaxStructDepth = 128

// structJSON writes a Struct as compact JSON with sorted keys; nil stays nil.
func structJSON(field string, s *structpb.Struct) (json.RawMessage, error) {
	if s == nil {
		return nil, nil
	}
	if nestedDeeper(structpb.NewStructValue(s), MaxStructDepth) {
		return nil, errs.InvalidArgument(field, "nests objects and lists more than %d deep", MaxStructDepth)
	}
	b, err := json.Marshal(s.AsMap())
	if err != nil {
		return nil, errs.InvalidArgument(field, "%v", err)
	}
	return b, nil
}

// nestedDeeper reports whether v nests objects and lists more than levels
// deep, counting itself.
func nestedDeeper(v *structpb.Value, levels int) bool {
	var children iter.Seq[*structpb.Value]
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		children = maps.Values(k.StructValue.GetFields())
	case *structpb.Value_ListValue:
		children = slices.Values(k.ListValue.GetValues())
	default:
		return false
	}
	if levels == 0 {
		return true
	}
	for c := range children {
		if nestedDeeper(c, levels-1) {
			return true
		}
	}
	return false
}

// payloadStruct reads a stored JSON object as a Struct.
func payloadStruct(payload json.RawMessage) *structpb.Struct {
	if payload == nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil
	}
	return s
}

func toWebhook(w *webhook.Webhook) *pb.Webhook {
	return &pb.Webhook{
		Id:                 w.ID,
		Namespace:          w.Namespace,
		Url:                w.URL,
		Description:        w.Description,
		Events:             w.Events,
		Active:             w.State == webhook.StateActive,
		State:              string(w.State),
		StateReason:        w.StateReason,
		StateChangedAt:     timestamp(w.StateChangedAt),
		Headers:            w.Headers,
		TimeoutSeconds:     int32(w.Timeout / time.Second),
		MaxAttempts:        int32(w.MaxAttempts),
		CreatedAt:          timestamp(w.CreatedAt),
		UpdatedAt:          timestamp(w.UpdatedAt),
		RetrySchedule:      webhook.FormatRetrySchedule(w.RetrySchedule),
		RateLimitPerSecond: int32(w.RateLimitPerSecond),
		SignatureScheme:    w.SignatureScheme,
		PublicKey:          w.PublicKey,
	}
}

func toEventType(t *event.Type) *pb.EventType {
	return &pb.EventType{
		Name:        t.Name,
		Description: t.Description,
		Active:      t.Active,
		CreatedAt:   timestamp(t.CreatedAt),
		UpdatedAt:   timestamp(t.UpdatedAt),
		Schema:      payloadStruct(t.Schema),
	}
}

func toEvent(ev *event.Event) *pb.Event {
	return &pb.Event{
		Id:             ev.ID,
		Namespace:      ev.Namespace,
		EventName:      ev.Name,
		Payload:        payloadStruct(ev.Payload),
		PayloadJson:    string(ev.Payload),
		Labels:         ev.Labels,
		IdempotencyKey: ev.IdempotencyKey,
		OrderingKey:    ev.OrderingKey,
		CreatedAt:      timestamp(ev.CreatedAt),
		ExpiresAt:      timestamp(ev.ExpiresAt),
	}
}

func toPushEvent(m *pb.PushEventRequest) (sparrow.PushEventParams, error) {
	payload, err := payloadJSON(m.GetPayload(), m.GetPayloadJson())
	if err != nil {
		return sparrow.PushEventParams{}, err
	}
	if m.GetTtlSeconds() < 0 || m.GetTtlSeconds() > int64(event.MaxTTL/time.Second) {
		return sparrow.PushEventParams{}, errs.InvalidArgument("ttl_seconds", "must be between 0 (no expiry) and %d", int64(event.MaxTTL/time.Second))
	}
	return sparrow.PushEventParams{
		Namespace:      m.GetNamespace(),
		Name:           m.GetEvent(),
		Payload:        payload,
		Labels:         m.GetLabels(),
		TTL:            time.Duration(m.GetTtlSeconds()) * time.Second,
		IdempotencyKey: m.GetIdempotencyKey(),
		OrderingKey:    m.GetOrderingKey(),
	}, nil
}

func toSubscription(s *subscription.Subscription) *pb.Subscription {
	return &pb.Subscription{
		Id:          s.ID,
		Namespace:   s.Namespace,
		WebhookId:   s.WebhookID,
		EventName:   s.EventName,
		Active:      s.Active,
		LabelFilter: s.LabelFilter,
		Template:    s.Template,
		CreatedAt:   timestamp(s.CreatedAt),
		UpdatedAt:   timestamp(s.UpdatedAt),
		Filter:      s.Filter,
	}
}

func toDelivery(d *delivery.Delivery) *pb.Delivery {
	out := &pb.Delivery{
		Id:             d.ID,
		Namespace:      d.Namespace,
		WebhookId:      d.WebhookID,
		EventId:        d.EventID,
		EventName:      d.EventName,
		SubscriptionId: d.SubscriptionID,
		Status:         string(d.Status),
		AttemptCount:   int32(d.AttemptCount),
		MaxAttempts:    int32(d.MaxAttempts),
		Waiting:        d.Waiting,
		LastStatusCode: int32(d.LastStatusCode),
		LastErrorClass: string(d.LastErrorClass),
		LastError:      text(d.LastError),
		NextAttemptAt:  timestamp(d.NextAttemptAt),
		LastAttemptAt:  timestamp(d.LastAttemptAt),
		CreatedAt:      timestamp(d.CreatedAt),
		UpdatedAt:      timestamp(d.UpdatedAt),
		CompletedAt:    timestamp(d.CompletedAt),
		ExpiresAt:      timestamp(d.ExpiresAt),
		Body:           text(string(d.Body)),
		OrderingKey:    d.OrderingKey,
		WaitsFor:       d.WaitsFor,

		ManualAttemptCount: int32(d.ManualAttemptCount),
		RetryRequested:     d.RetryRequested,
	}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, &pb.DeliveryAttempt{
			Number:                int32(a.Number),
			StartedAt:             timestamp(a.StartedAt),
			DurationMs:            millis(a.Duration),
			StatusCode:            int32(a.StatusCode),
			ErrorClass:            string(a.ErrorClass),
			Error:                 text(a.Error),
			RequestHeaders:        textMap(a.RequestHeaders),
			ResponseHeaders:       textMap(a.ResponseHeaders),
			ResponseBody:          text(string(a.ResponseBody)),
			ResponseBodyTruncated: a.ResponseBodyTruncated,
			NextAttemptAt:         timestamp(a.NextAttemptAt),
			Manual:                a.Manual,
		})
	}
	return out
}

func toHealth(h *health.Health) *pb.GetWebhookHealthResponse {
	out := &pb.GetWebhookHealthResponse{
		WebhookId:           h.WebhookID,
		Namespace:           h.Namespace,
		HealthStatus:        string(h.State),
		StatusReason:        h.StateReason,
		StatusChangedAt:     timestamp(h.StateChangedAt),
		SuccessRate:         h.SuccessRate,
		WindowSeconds:       int64(h.Window / time.Second),
		Attempts:            int32(h.Attempts),
		Successes:           int32(h.Successes),
		Failures:            int32(h.Failures),
		LatencyAvgMs:        millis(h.LatencyAvg),
		LatencyP95Ms:        millis(h.LatencyP95),
		ErrorCounts:         map[string]int32{},
		RecentAttempts:      int32(h.RecentAttempts),
		RecentSuccessRate:   h.RecentSuccessRate,
		RecentLatencyAvgMs:  millis(h.RecentLatencyAvg),
		RecentLatencyP95Ms:  millis(h.RecentLatencyP95),
		ConsecutiveFailures: int32(h.ConsecutiveFailures),
		FailingSince:        timestamp(h.FailingSince),
		LastSuccessAt:       timestamp(h.LastSuccessAt),
		LastFailureAt:       timestamp(h.LastFailureAt),
		PendingDeliveries:   int32(h.PendingDeliveries),
	}
	for class, n := range h.ErrorCounts {
		out.ErrorCounts[class] = int32(n)
	}
	out.StatusCounts = make(map[string]int32, len(h.StatusCounts))
	for status, n := range h.StatusCounts {
		out.StatusCounts[status] = int32(n)
	}
	out.Timeline = toPoints(h.Timeline)
	for _, t := range h.Transitions {
		out.Transitions = append(out.Transitions, &pb.HealthTransition{
			At: timestamp(t.At), From: string(t.From), To: string(t.To), Reason: t.Reason,
		})
	}
	return out
}

func toSummary(s *health.Summary) *pb.GetHealthSummaryResponse {
	out := &pb.GetHealthSummaryResponse{
		Namespace:        s.Namespace,
		WebhooksByStatus: map[string]int32{},
		WindowSeconds:    int64(s.Window / time.Second),
		Attempts:         int32(s.Attempts),
		Successes:        int32(s.Successes),
		SuccessRate:      s.SuccessRate,
	}
	for state, n := range s.Webhooks {
		out.WebhooksByStatus[string(state)] = int32(n)
	}
	out.Timeline = toPoints(s.Timeline)
	for _, h := range s.Worst {
		out.Worst = append(out.Worst, &pb.WebhookHealthSummary{
			WebhookId: h.WebhookID, HealthStatus: string(h.State), StatusReason: h.StateReason,
			SuccessRate: h.SuccessRate, Attempts: int32(h.Attempts), ConsecutiveFailures: int32(h.ConsecutiveFailures),
		})
	}
	return out
}

func toPoints(points []health.Point) []*pb.HealthPoint {
	out := make([]*pb.HealthPoint, len(points))
	for i, p := range points {
		out[i] = &pb.HealthPoint{At: timestamp(p.At), Attempts: int32(p.Attempts), Successes: int32(p.Successes), LatencyAvgMs: millis(p.LatencyAvg)}
	}
	return out
}
