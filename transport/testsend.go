package transport

import (
	"context"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

func (s *services) SendTestEvent(ctx context.Context, m *pb.SendTestEventRequest) (*pb.SendTestEventResponse, error) {
	payload, err := payloadJSON(m.GetPayload(), m.GetPayloadJson())
	if err != nil {
		return nil, err
	}
	sent, err := s.eng.SendTestEvent(ctx, sparrow.SendTestEventParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), Name: m.GetEventName(), Payload: payload,
	})
	if err != nil {
		return nil, err
	}
	return &pb.SendTestEventResponse{
		EventId:     sent.Event.ID,
		DeliveryId:  sent.Delivery.ID,
		Payload:     payloadStruct(sent.Event.Payload),
		PayloadJson: string(sent.Event.Payload),
	}, nil
}
