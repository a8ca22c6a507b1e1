package transport

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/errs"
	pb "github.com/sparrowhq/sparrow/proto/webhookpb"
)

// NamespaceService

// ListNamespaces lists the namespaces in use to a caller for every
// namespace; to one limited to some, those, in use or not, so that the
// dashboard can open on an empty one.
func (s *services) ListNamespaces(ctx context.Context, _ *pb.ListNamespacesRequest) (*pb.ListNamespacesResponse, error) {
	c, ok := callerOf(ctx)
	if !ok {
		return nil, errors.New("transport: ListNamespaces was called without the authenticator")
	}
	summaries, err := s.eng.ListNamespaces(ctx, sparrow.ListNamespacesParams{Namespaces: c.namespaces})
	if err != nil {
		return nil, err
	}
	out := &pb.ListNamespacesResponse{Access: toAccess(c)}
	for _, n := range summaries {
		out.Namespaces = append(out.Namespaces, toNamespaceSummary(n))
	}
	return out, nil
}

func toNamespaceSummary(n sparrow.NamespaceSummary) *pb.NamespaceSummary {
	out := &pb.NamespaceSummary{
		Namespace: n.Namespace, Webhooks: int32(n.Webhooks), PausedWebhooks: int32(n.PausedWebhooks), Subscriptions: int32(n.Subscriptions),
	}
	if !n.LastEventAt.IsZero() {
		out.LastEventAt = timestamppb.New(n.LastEventAt)
	}
	return out
}

func toAccess(c *caller) *pb.CallerAccess {
	out := &pb.CallerAccess{AllNamespaces: c.namespaces == nil, Namespaces: c.namespaces, Portal: c.portal}
	for _, capability := range c.capabilities {
		out.Capabilities = append(out.Capabilities, string(capability))
	}
	if c.portal {
		out.ExpiresAt = timestamppb.New(c.expiresAt)
	}
	return out
}

func (s *services) CreatePortalToken(_ context.Context, m *pb.CreatePortalTokenRequest) (*pb.CreatePortalTokenResponse, error) {
	// Checked in seconds first: a huge count would overflow a Duration.
	if ttl := m.GetTtlSeconds(); ttl != 0 && (ttl < int64(PortalTTLMin/time.Second) || ttl > int64(PortalTTLMax/time.Second)) {
		return nil, errs.InvalidArgument("ttl_seconds", "must be %d (%v) to %d (%v)",
			int64(PortalTTLMin/time.Second), PortalTTLMin, int64(PortalTTLMax/time.Second), PortalTTLMax)
	}
	grant := PortalGrant{Namespace: m.GetNamespace(), TTL: time.Duration(m.GetTtlSeconds()) * time.Second}
	for _, capability := range m.GetCapabilities() {
		grant.Capabilities = append(grant.Capabilities, Capability(capability))
	}
	if err := grant.validate(); err != nil {
		return nil, err
	}
	if s.portalSecret == nil {
		return nil, errs.FailedPrecondition("the server has no portal secret: configure one (transport.WithPortalSecret, SPARROW_PORTAL_SECRET for examples/server)")
	}
	token, expiresAt, err := NewPortalToken(s.portalSecret, grant)
	if err != nil {
		return nil, err
	}
	return &pb.CreatePortalTokenResponse{Token: token, ExpiresAt: timestamppb.New(expiresAt)}, nil
}
