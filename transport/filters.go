package transport

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

func (s *services) TestFilter(context.Context, *pb.TestFilterRequest) (*pb.TestFilterResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("TestFilter: not yet"))
}
