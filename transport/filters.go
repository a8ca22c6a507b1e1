package transport

import (
	"context"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

func (s *services) TestFilter(ctx context.Context, m *pb.TestFilterRequest) (*pb.TestFilterResponse, error) {
	payload, err := payloadJSON(m.GetPayload(), m.GetPayloadJson())
	if err != nil {
		return nil, err
	}
	matched, err := s.eng.TestFilter(ctx, m.GetFilter(), payload, m.GetLabels())
	if err != nil {
		return nil, err
	}
	return &pb.TestFilterResponse{Matched: matched}, nil
}
