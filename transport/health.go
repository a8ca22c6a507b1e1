package transport

import (
	"context"
	"slices"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/sparrowhq/sparrow"
)

// readiness answers the standard gRPC health check (grpc.health.v1.Health,
// as Kubernetes probes and grpc-health-probe ask it) with the engine's
// readiness: SERVING while its database answers and its workers run.
type readiness struct {
	eng *sparrow.Engine
}

func (r *readiness) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !slices.Contains(ServiceNames, req.Service) {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	if err := r.eng.Ready(ctx); err != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
