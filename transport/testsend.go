package transport

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

func (s *services) SendTestEvent(context.Context, *pb.SendTestEventRequest) (*pb.SendTestEventResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("SendTestEvent: not yet"))
}
