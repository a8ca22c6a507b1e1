package transport

import (
	"context"

	"github.com/sparrowhq/sparrow"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
	"github.com/sparrowhq/sparrow/webhook"
)

func (s *services) RecoverWebhook(ctx context.Context, m *pb.RecoverWebhookRequest) (*pb.RecoverWebhookResponse, error) {
	since, until, err := fromTimeRange(m.GetSince(), m.GetUntil())
	if err != nil {
		return nil, err
	}
	r, err := s.eng.RecoverWebhook(ctx, sparrow.RecoverWebhookParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), Since: since, Until: until,
	})
	if err != nil {
		return nil, err
	}
	return &pb.RecoverWebhookResponse{Recovery: toRecovery(r)}, nil
}

func (s *services) GetRecovery(ctx context.Context, m *pb.GetRecoveryRequest) (*pb.GetRecoveryResponse, error) {
	r, err := s.eng.GetRecovery(ctx, m.GetNamespace(), m.GetRecoveryId())
	if err != nil {
		return nil, err
	}
	return &pb.GetRecoveryResponse{Recovery: toRecovery(r)}, nil
}

func (s *services) ListRecoveries(ctx context.Context, m *pb.ListRecoveriesRequest) (*pb.ListRecoveriesResponse, error) {
	page, err := s.eng.ListRecoveries(ctx, sparrow.ListRecoveriesParams{
		Namespace: m.GetNamespace(), WebhookID: m.GetWebhookId(), Limit: int(m.GetLimit()), Cursor: m.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListRecoveriesResponse{NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Recoveries = append(out.Recoveries, toRecovery(&page.Items[i]))
	}
	return out, nil
}

func (s *services) CancelRecovery(ctx context.Context, m *pb.CancelRecoveryRequest) (*pb.CancelRecoveryResponse, error) {
	r, err := s.eng.CancelRecovery(ctx, m.GetNamespace(), m.GetRecoveryId())
	if err != nil {
		return nil, err
	}
	return &pb.CancelRecoveryResponse{Recovery: toRecovery(r)}, nil
}

func toRecovery(r *webhook.Recovery) *pb.Recovery {
	return &pb.Recovery{
		Id:        r.ID,
		Namespace: r.Namespace,
		WebhookId: r.WebhookID,
		Since:     timestamp(r.Since),
		Until:     timestamp(r.Until),
		Status:    string(r.Status),
		Error:     r.Error,
		Total:     r.Total,
		Done:      r.Done,
		Resent:    r.Resent,
		CreatedAt: timestamp(r.CreatedAt),
		UpdatedAt: timestamp(r.UpdatedAt),
	}
}
