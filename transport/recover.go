package transport

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

func (s *services) RecoverWebhook(context.Context, *pb.RecoverWebhookRequest) (*pb.RecoverWebhookResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("RecoverWebhook: not yet"))
}

func (s *services) GetRecovery(context.Context, *pb.GetRecoveryRequest) (*pb.GetRecoveryResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("GetRecovery: not yet"))
}

func (s *services) ListRecoveries(context.Context, *pb.ListRecoveriesRequest) (*pb.ListRecoveriesResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("ListRecoveries: not yet"))
}

func (s *services) CancelRecovery(context.Context, *pb.CancelRecoveryRequest) (*pb.CancelRecoveryResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("CancelRecovery: not yet"))
}
