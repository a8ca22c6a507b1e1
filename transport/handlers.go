package transport

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/errs"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/webhook"
)

// Handlers return the engine's errors as they are: errorTranslator turns
// them into Connect errors.

func inactive(active *bool) bool { return active != nil && !*active }

// replaceList reads a list field that replaces a stored list when set,
// with a companion flag to empty it.
func replaceList[T any](field string, values []T, clear bool) (*[]T, error) {
	switch {
	case clear && len(values) > 0:
		return nil, errs.InvalidArgument(field, "given together with clear_%s", field)
	case clear:
		return &[]T{}, nil
	case len(values) > 0:
		return &values, nil
	}
	return nil, nil
}

func replaceMap(field string, values map[string]string, clear bool) (*map[string]string, error) {
	switch {
	case clear && len(values) > 0:
		return nil, errs.InvalidArgument(field, "given together with clear_%s", field)
	case clear:
		return &map[string]string{}, nil
	case len(values) > 0:
		return &values, nil
	}
	return nil, nil
}

// WebhookService

func (s *services) RegisterWebhook(ctx context.Context, m *pb.RegisterWebhookRequest) (*pb.RegisterWebhookResponse, error) {
	schedule, err := webhook.ParseRetrySchedule("retry_schedule", m.GetRetrySchedule())
	if err != nil {
		return nil, err
	}
	w, err := s.eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		Namespace:          m.GetNamespace(),
		URL:                m.GetUrl(),
		Description:        m.GetDescription(),
		Events:             m.GetEvents(),
		Inactive:           inactive(m.Active),
		Secret:             m.GetWebhookSecret(),
		Headers:            m.GetHeaders(),
		Timeout:            seconds(m.GetTimeoutSeconds()),
		MaxAttempts:        int(m.GetMaxAttempts()),
		RetrySchedule:      schedule,
		RateLimitPerSecond: int(m.GetRateLimitPerSecond()),
		SignatureScheme:    m.GetSignatureScheme(),
	})
	if err != nil {
		return nil, err
	}
	return &pb.RegisterWebhookResponse{WebhookId: w.ID, Webhook: toWebhook(w), WebhookSecret: w.Secret, PublicKey: w.PublicKey}, nil
}

func (s *services) GetWebhook(ctx context.Context, m *pb.GetWebhookRequest) (*pb.GetWebhookResponse, error) {
	w, err := s.eng.GetWebhook(ctx, m.GetNamespace(), m.GetWebhookId())
	if err != nil {
		return nil, err
	}
	return &pb.GetWebhookResponse{Webhook: toWebhook(w)}, nil
}

func (s *services) ListWebhooks(ctx context.Context, m *pb.ListWebhooksRequest) (*pb.ListWebhooksResponse, error) {
	page, err := s.eng.ListWebhooks(ctx, sparrow.ListWebhooksParams{
		Namespace: m.GetNamespace(), Event: m.GetEvent(), ActiveOnly: m.GetActiveOnly(), Limit: int(m.GetLimit()), Cursor: m.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListWebhooksResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Webhooks = append(out.Webhooks, toWebhook(&page.Items[i]))
	}
	return out, nil
}

func (s *services) UpdateWebhook(ctx context.Context, m *pb.UpdateWebhookRequest) (*pb.UpdateWebhookResponse, error) {
	events, err := replaceList("events", m.GetEvents(), m.GetClearEvents())
	if err != nil {
		return nil, err
	}
	headers, err := replaceMap("headers", m.GetHeaders(), m.GetClearHeaders())
	if err != nil {
		return nil, err
	}
	written, err := replaceList("retry_schedule", m.GetRetrySchedule(), m.GetClearRetrySchedule())
	if err != nil {
		return nil, err
	}
	var schedule *[]time.Duration
	if written != nil {
		parsed, err := webhook.ParseRetrySchedule("retry_schedule", *written)
		if err != nil {
			return nil, err
		}
		schedule = &parsed
	}
	w, err := s.eng.UpdateWebhook(ctx, sparrow.UpdateWebhookParams{
		Namespace:          m.GetNamespace(),
		ID:                 m.GetWebhookId(),
		URL:                m.Url,
		Description:        m.Description,
		Events:             events,
		Headers:            headers,
		Timeout:            optional(m.TimeoutSeconds, seconds),
		MaxAttempts:        optional(m.MaxAttempts, func(n int32) int { return int(n) }),
		RetrySchedule:      schedule,
		RateLimitPerSecond: optional(m.RateLimitPerSecond, func(n int32) int { return int(n) }),
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateWebhookResponse{Webhook: toWebhook(w)}, nil
}

func (s *services) PauseWebhook(ctx context.Context, m *pb.PauseWebhookRequest) (*pb.PauseWebhookResponse, error) {
	w, err := s.eng.PauseWebhook(ctx, m.GetNamespace(), m.GetWebhookId())
	if err != nil {
		return nil, err
	}
	return &pb.PauseWebhookResponse{Webhook: toWebhook(w)}, nil
}

func (s *services) ResumeWebhook(ctx context.Context, m *pb.ResumeWebhookRequest) (*pb.ResumeWebhookResponse, error) {
	w, err := s.eng.ResumeWebhook(ctx, m.GetNamespace(), m.GetWebhookId())
	if err != nil {
		return nil, err
	}
	return &pb.ResumeWebhookResponse{Webhook: toWebhook(w)}, nil
}

func (s *services) DeleteWebhook(ctx context.Context, m *pb.DeleteWebhookRequest) (*pb.DeleteWebhookResponse, error) {
	if err := s.eng.DeleteWebhook(ctx, m.GetNamespace(), m.GetWebhookId()); err != nil {
		return nil, err
	}
	return &pb.DeleteWebhookResponse{}, nil
}

func (s *services) RotateWebhookSecret(ctx context.Context, m *pb.RotateWebhookSecretRequest) (*pb.RotateWebhookSecretResponse, error) {
	var grace *time.Duration
	if m.GracePeriodSeconds != nil {
		secs := m.GetGracePeriodSeconds()
		if secs < 0 || secs > int64(sparrow.MaxSecretGracePeriod/time.Second) {
			return nil, errs.InvalidArgument("grace_period_seconds", "must be between 0 and %d", int64(sparrow.MaxSecretGracePeriod/time.Second))
		}
		d := time.Duration(secs) * time.Second
		grace = &d
	}
	w, err := s.eng.RotateWebhookSecret(ctx, sparrow.RotateWebhookSecretParams{
		Namespace: m.GetNamespace(), ID: m.GetWebhookId(), Secret: m.GetWebhookSecret(), GracePeriod: grace,
		SignatureScheme: m.GetSignatureScheme(),
	})
	if err != nil {
		return nil, err
	}
	return &pb.RotateWebhookSecretResponse{Webhook: toWebhook(w), WebhookSecret: w.Secret, PublicKey: w.PublicKey}, nil
}

func (s *services) RevealWebhookSecret(ctx context.Context, m *pb.RevealWebhookSecretRequest) (*pb.RevealWebhookSecretResponse, error) {
	secret, err := s.eng.RevealWebhookSecret(ctx, m.GetNamespace(), m.GetWebhookId())
	if err != nil {
		return nil, err
	}
	return &pb.RevealWebhookSecretResponse{WebhookSecret: secret}, nil
}

// EventService

func (s *services) RegisterEvent(ctx context.Context, m *pb.RegisterEventRequest) (*pb.RegisterEventResponse, error) {
	schema, err := structJSON("schema", m.GetSchema())
	if err != nil {
		return nil, err
	}
	t, err := s.eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{
		Name: m.GetName(), Description: m.GetDescription(), Inactive: inactive(m.Active), Schema: schema,
	})
	if err != nil {
		return nil, err
	}
	return &pb.RegisterEventResponse{EventType: toEventType(t)}, nil
}

func (s *services) GetEventType(ctx context.Context, m *pb.GetEventTypeRequest) (*pb.GetEventTypeResponse, error) {
	t, err := s.eng.GetEventType(ctx, m.GetName())
	if err != nil {
		return nil, err
	}
	return &pb.GetEventTypeResponse{EventType: toEventType(t)}, nil
}

func (s *services) ListEventTypes(ctx context.Context, m *pb.ListEventTypesRequest) (*pb.ListEventTypesResponse, error) {
	page, err := s.eng.ListEventTypes(ctx, sparrow.ListEventTypesParams{ActiveOnly: m.GetActiveOnly(), Limit: int(m.GetLimit()), Cursor: m.GetCursor()})
	if err != nil {
		return nil, err
	}
	out := &pb.ListEventTypesResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.EventTypes = append(out.EventTypes, toEventType(&page.Items[i]))
	}
	return out, nil
}

func (s *services) UpdateEvent(ctx context.Context, m *pb.UpdateEventRequest) (*pb.UpdateEventResponse, error) {
	schema, err := structJSON("schema", m.GetSchema())
	if err != nil {
		return nil, err
	}
	var newSchema *json.RawMessage
	switch {
	case m.GetClearSchema() && schema != nil:
		return nil, errs.InvalidArgument("schema", "given together with clear_schema")
	case m.GetClearSchema():
		newSchema = &json.RawMessage{}
	case schema != nil:
		newSchema = &schema
	}
	t, err := s.eng.UpdateEventType(ctx, sparrow.UpdateEventTypeParams{Name: m.GetName(), Description: m.Description, Active: m.Active, Schema: newSchema})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateEventResponse{EventType: toEventType(t)}, nil
}

func (s *services) PushEvent(ctx context.Context, m *pb.PushEventRequest) (*pb.PushEventResponse, error) {
	ev, err := toPushEvent(m)
	if err != nil {
		return nil, err
	}
	stored, err := s.eng.PushEvent(ctx, ev)
	if err != nil {
		return nil, err
	}
	return &pb.PushEventResponse{EventId: stored.ID}, nil
}

func (s *services) PushEvents(ctx context.Context, m *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	evs := make([]sparrow.PushEventParams, len(m.GetEvents()))
	for i, req := range m.GetEvents() {
		ev, err := toPushEvent(req)
		if err != nil {
			return nil, err
		}
		evs[i] = ev
	}
	stored, err := s.eng.PushEvents(ctx, evs)
	if err != nil {
		return nil, err
	}
	out := &pb.PushEventsResponse{}
	for _, ev := range stored {
		out.EventIds = append(out.EventIds, ev.ID)
	}
	return out, nil
}

func (s *services) GetEvent(ctx context.Context, m *pb.GetEventRequest) (*pb.GetEventResponse, error) {
	ev, err := s.eng.GetEvent(ctx, m.GetNamespace(), m.GetEventId())
	if err != nil {
		return nil, err
	}
	return &pb.GetEventResponse{Event: toEvent(ev)}, nil
}

func (s *services) ListEvents(ctx context.Context, m *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	since, until, err := fromTimeRange(m.GetSince(), m.GetUntil())
	if err != nil {
		return nil, err
	}
	page, err := s.eng.ListEvents(ctx, sparrow.ListEventsParams{
		Namespace: m.GetNamespace(), Name: m.GetEventName(), Since: since, Until: until, HideSystemEvents: m.GetHideSystemEvents(),
		Limit: int(m.GetLimit()), Cursor: m.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListEventsResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Events = append(out.Events, toEvent(&page.Items[i]))
	}
	return out, nil
}

func (s *services) RepushEvent(ctx context.Context, m *pb.RepushEventRequest) (*pb.RepushEventResponse, error) {
	ev, err := s.eng.RepushEvent(ctx, m.GetNamespace(), m.GetEventId())
	if err != nil {
		return nil, err
	}
	return &pb.RepushEventResponse{Event: toEvent(ev)}, nil
}

// SubscriptionService

func (s *services) CreateSubscription(ctx context.Context, m *pb.CreateSubscriptionRequest) (*pb.CreateSubscriptionResponse, error) {
	sub, err := s.eng.CreateSubscription(ctx, sparrow.CreateSubscriptionParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), EventName: m.GetEventName(),
		Inactive: inactive(m.Active), LabelFilter: m.GetLabelFilter(), Template: m.GetTemplate(), Filter: m.GetFilter(),
	})
	if err != nil {
		return nil, err
	}
	return &pb.CreateSubscriptionResponse{SubscriptionId: sub.ID, Subscription: toSubscription(sub)}, nil
}

func (s *services) GetSubscription(ctx context.Context, m *pb.GetSubscriptionRequest) (*pb.GetSubscriptionResponse, error) {
	sub, err := s.eng.GetSubscription(ctx, m.GetNamespace(), m.GetSubscriptionId())
	if err != nil {
		return nil, err
	}
	return &pb.GetSubscriptionResponse{Subscription: toSubscription(sub)}, nil
}

func (s *services) ListSubscriptions(ctx context.Context, m *pb.ListSubscriptionsRequest) (*pb.ListSubscriptionsResponse, error) {
	page, err := s.eng.ListSubscriptions(ctx, sparrow.ListSubscriptionsParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), EventName: m.GetEventName(), Limit: int(m.GetLimit()), Cursor: m.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListSubscriptionsResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Subscriptions = append(out.Subscriptions, toSubscription(&page.Items[i]))
	}
	return out, nil
}

func (s *services) UpdateSubscription(ctx context.Context, m *pb.UpdateSubscriptionRequest) (*pb.UpdateSubscriptionResponse, error) {
	filter, err := replaceMap("label_filter", m.GetLabelFilter(), m.GetClearLabelFilter())
	if err != nil {
		return nil, err
	}
	sub, err := s.eng.UpdateSubscription(ctx, sparrow.UpdateSubscriptionParams{
		Namespace: m.GetNamespace(), ID: m.GetSubscriptionId(), Active: m.Active, LabelFilter: filter, Template: m.Template,
		Filter: m.Filter,
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateSubscriptionResponse{Subscription: toSubscription(sub)}, nil
}

func (s *services) DeleteSubscription(ctx context.Context, m *pb.DeleteSubscriptionRequest) (*pb.DeleteSubscriptionResponse, error) {
	if err := s.eng.DeleteSubscription(ctx, m.GetNamespace(), m.GetSubscriptionId()); err != nil {
		return nil, err
	}
	return &pb.DeleteSubscriptionResponse{}, nil
}

func (s *services) RenderTemplate(ctx context.Context, m *pb.RenderTemplateRequest) (*pb.RenderTemplateResponse, error) {
	payload, err := payloadJSON(m.GetPayload(), m.GetPayloadJson())
	if err != nil {
		return nil, err
	}
	body, err := s.eng.RenderTemplate(ctx, m.GetTemplate(), payload)
	if err != nil {
		return nil, err
	}
	return &pb.RenderTemplateResponse{Body: string(body)}, nil
}

// DeliveryService

func (s *services) ListDeliveries(ctx context.Context, m *pb.ListDeliveriesRequest) (*pb.ListDeliveriesResponse, error) {
	since, until, err := fromTimeRange(m.GetSince(), m.GetUntil())
	if err != nil {
		return nil, err
	}
	page, err := s.eng.ListDeliveries(ctx, sparrow.ListDeliveriesParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), EventID: m.GetEventId(), Status: delivery.Status(m.GetStatus()),
		EventName: m.GetEventName(), HTTPStatus: int(m.GetHttpStatus()), ErrorClass: delivery.ErrorClass(m.GetErrorClass()),
		Since: since, Until: until, Limit: int(m.GetLimit()), Cursor: m.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListDeliveriesResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Deliveries = append(out.Deliveries, toDelivery(&page.Items[i]))
	}
	return out, nil
}

func (s *services) GetDelivery(ctx context.Context, m *pb.GetDeliveryRequest) (*pb.GetDeliveryResponse, error) {
	d, err := s.eng.GetDelivery(ctx, m.GetNamespace(), m.GetDeliveryId())
	if err != nil {
		return nil, err
	}
	return &pb.GetDeliveryResponse{Delivery: toDelivery(d)}, nil
}

func (s *services) RetryDelivery(ctx context.Context, m *pb.RetryDeliveryRequest) (*pb.RetryDeliveryResponse, error) {
	d, err := s.eng.RetryDelivery(ctx, m.GetNamespace(), m.GetDeliveryId())
	if err != nil {
		return nil, err
	}
	return &pb.RetryDeliveryResponse{Delivery: toDelivery(d)}, nil
}

func (s *services) RetryFailedDeliveries(ctx context.Context, m *pb.RetryFailedDeliveriesRequest) (*pb.RetryFailedDeliveriesResponse, error) {
	since, err := fromTimestamp("since", m.GetSince())
	if err != nil {
		return nil, err
	}
	n, err := s.eng.RetryFailedDeliveries(ctx, sparrow.RetryFailedDeliveriesParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), Since: since, DryRun: m.GetDryRun(),
	})
	if err != nil {
		return nil, err
	}
	return &pb.RetryFailedDeliveriesResponse{Retried: int32(n)}, nil
}

// HealthService

func (s *services) GetWebhookHealth(ctx context.Context, m *pb.GetWebhookHealthRequest) (*pb.GetWebhookHealthResponse, error) {
	h, err := s.eng.GetWebhookHealthOver(ctx, m.GetNamespace(), m.GetWebhookId(), healthWindow(m.GetWindowSeconds()))
	if err != nil {
		return nil, err
	}
	return toHealth(h), nil
}

func (s *services) GetHealthSummary(ctx context.Context, m *pb.GetHealthSummaryRequest) (*pb.GetHealthSummaryResponse, error) {
	sum, err := s.eng.GetHealthSummary(ctx, m.GetNamespace())
	if err != nil {
		return nil, err
	}
	return toSummary(sum), nil
}
