package transport

import (
	"context"
	"slices"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/health"
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

// healthWindow turns window_seconds into the window GetWebhookHealthOver
// takes. A count too large for a time.Duration becomes one it refuses,
// rather than wrapping round to one it might accept.
func healthWindow(seconds int64) time.Duration {
	if seconds < 0 || seconds > int64(health.WindowWeek/time.Second) {
		return -1
	}
	return time.Duration(seconds) * time.Second
}
