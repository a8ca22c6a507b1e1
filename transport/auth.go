package transport

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
)

// procedureCapabilities maps every procedure to the capability it needs.
// API keys hold capabilities too (see Capability), so this one table also
// keeps keys limited to namespaces from the event types every namespace
// shares. A procedure missing here is refused to portal tokens.
var procedureCapabilities = map[string]Capability{
	webhookpbconnect.NamespaceServiceListNamespacesProcedure:    CapabilityRead,
	webhookpbconnect.NamespaceServiceCreatePortalTokenProcedure: issuePortalTokens,

	webhookpbconnect.WebhookServiceRegisterWebhookProcedure:     CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceGetWebhookProcedure:          CapabilityRead,
	webhookpbconnect.WebhookServiceListWebhooksProcedure:        CapabilityRead,
	webhookpbconnect.WebhookServiceUpdateWebhookProcedure:       CapabilityManageWebhooks,
	webhookpbconnect.WebhookServicePauseWebhookProcedure:        CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceResumeWebhookProcedure:       CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceDeleteWebhookProcedure:       CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceRotateWebhookSecretProcedure: CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceRevealWebhookSecretProcedure: CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceSendTestEventProcedure:       CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceRecoverWebhookProcedure:      CapabilityManageWebhooks,
	webhookpbconnect.WebhookServiceGetRecoveryProcedure:         CapabilityRead,
	webhookpbconnect.WebhookServiceListRecoveriesProcedure:      CapabilityRead,
	webhookpbconnect.WebhookServiceCancelRecoveryProcedure:      CapabilityManageWebhooks,

	webhookpbconnect.EventServiceRegisterEventProcedure:  CapabilityManageEventTypes,
	webhookpbconnect.EventServiceGetEventTypeProcedure:   CapabilityRead,
	webhookpbconnect.EventServiceListEventTypesProcedure: CapabilityRead,
	webhookpbconnect.EventServiceUpdateEventProcedure:    CapabilityManageEventTypes,
	webhookpbconnect.EventServicePushEventProcedure:      CapabilityPushEvents,
	webhookpbconnect.EventServicePushEventsProcedure:     CapabilityPushEvents,
	webhookpbconnect.EventServiceGetEventProcedure:       CapabilityRead,
	webhookpbconnect.EventServiceListEventsProcedure:     CapabilityRead,
	webhookpbconnect.EventServiceRepushEventProcedure:    CapabilityPushEvents,

	webhookpbconnect.SubscriptionServiceCreateSubscriptionProcedure: CapabilityManageWebhooks,
	webhookpbconnect.SubscriptionServiceGetSubscriptionProcedure:    CapabilityRead,
	webhookpbconnect.SubscriptionServiceListSubscriptionsProcedure:  CapabilityRead,
	webhookpbconnect.SubscriptionServiceUpdateSubscriptionProcedure: CapabilityManageWebhooks,
	webhookpbconnect.SubscriptionServiceDeleteSubscriptionProcedure: CapabilityManageWebhooks,
	webhookpbconnect.SubscriptionServiceRenderTemplateProcedure:     CapabilityRead,
	webhookpbconnect.SubscriptionServiceTestFilterProcedure:         CapabilityRead,

	webhookpbconnect.DeliveryServiceListDeliveriesProcedure:        CapabilityRead,
	webhookpbconnect.DeliveryServiceGetDeliveryProcedure:           CapabilityRead,
	webhookpbconnect.DeliveryServiceRetryDeliveryProcedure:         CapabilityManageWebhooks,
	webhookpbconnect.DeliveryServiceRetryFailedDeliveriesProcedure: CapabilityManageWebhooks,

	webhookpbconnect.HealthServiceGetWebhookHealthProcedure: CapabilityRead,
	webhookpbconnect.HealthServiceGetHealthSummaryProcedure: CapabilityRead,
}

// issuePortalTokens is what CreatePortalToken needs: a credential for every
// namespace (an unscoped API key, or none on a server without keys). It is
// no capability a token can be given, and access never lists it.
const issuePortalTokens Capability = "issue_portal_tokens"

// caller is what a request's credential may do.
type caller struct {
	namespaces   []string // nil: every namespace
	capabilities []Capability
	portal       bool
	expiresAt    time.Time // of a portal token
}

// Unscoped API keys, and every caller of a server without keys, may do
// everything; keys limited to namespaces all but change the event types
// every namespace shares.
var (
	unscopedCapabilities = allCapabilities
	scopedCapabilities   = []Capability{CapabilityRead, CapabilityManageWebhooks, CapabilityPushEvents}
	openCaller           = &caller{capabilities: unscopedCapabilities}
)

type callerKey struct{}

// callerOf returns the caller the authenticator let through: handlers
// that answer per caller (ListNamespaces) read it.
func callerOf(ctx context.Context) (*caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*caller)
	return c, ok
}

type hashedKey struct {
	sum    [sha256.Size]byte
	caller *caller
}

// authenticator checks API keys and portal tokens, and what they may do:
// the capability a procedure needs, and the namespaces of a scoped key or
// a token against every namespace a request names. With no keys
// configured it lets through every request without a portal token.
type authenticator struct {
	keys         []hashedKey
	portalSecret []byte // nil: portal tokens refused
}

func newAuthenticator(keys []APIKey, portalSecret []byte) (*authenticator, error) {
	a := &authenticator{portalSecret: portalSecret}
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("transport: key %d: %w", i, err)
		}
		c := &caller{capabilities: unscopedCapabilities}
		for _, ns := range k.Namespaces {
			ns, _ := validate.Namespace(ns)
			if !slices.Contains(c.namespaces, ns) {
				c.namespaces = append(c.namespaces, ns)
			}
		}
		if c.namespaces != nil {
			slices.Sort(c.namespaces)
			c.capabilities = scopedCapabilities
		}
		a.keys = append(a.keys, hashedKey{sum: sha256.Sum256([]byte(k.Key)), caller: c})
	}
	return a, nil
}

func (a *authenticator) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		c, err := a.authorize(req)
		if err != nil {
			return nil, err
		}
		return next(context.WithValue(ctx, callerKey{}, c), req)
	}
}

func (a *authenticator) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authenticator) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if len(a.keys) > 0 || a.portalSecret != nil {
			return connect.NewError(connect.CodeUnimplemented, errors.New("streaming is not offered"))
		}
		return next(ctx, conn)
	}
}

func (a *authenticator) authorize(req connect.AnyRequest) (*caller, error) {
	c, err := a.identify(req.Header())
	if err != nil {
		return nil, err
	}
	if err := c.mayCall(req.Spec().Procedure); err != nil {
		return nil, err
	}
	if c.namespaces == nil {
		return c, nil
	}
	msg, ok := req.Any().(proto.Message)
	if !ok {
		return nil, connect.NewError(connect.CodeInternal, errors.New("unexpected request type"))
	}
	for _, ns := range namespacesOf(msg.ProtoReflect()) {
		if !slices.Contains(c.namespaces, ns) {
			return nil, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("this %s may not use namespace %q", c.kind(), ns))
		}
	}
	return c, nil
}

// mayCall refuses a procedure that needs a capability c lacks.
func (c *caller) mayCall(procedure string) error {
	need, listed := procedureCapabilities[procedure]
	switch {
	case !listed && c.portal:
		return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("portal tokens may not call %s", procedure))
	case !listed:
		return nil
	case need == issuePortalTokens && c.portal:
		return connect.NewError(connect.CodePermissionDenied, errors.New("a portal token may not issue portal tokens: that needs an API key not limited to namespaces"))
	case need == issuePortalTokens && c.namespaces != nil:
		return connect.NewError(connect.CodePermissionDenied, errors.New("issuing portal tokens needs an API key not limited to namespaces"))
	case need == issuePortalTokens || slices.Contains(c.capabilities, need):
		return nil
	case need == CapabilityManageEventTypes && !c.portal:
		return connect.NewError(connect.CodePermissionDenied,
			errors.New("event types are shared by every namespace: changing them needs a key not limited to namespaces"))
	}
	return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("this %s lacks the %q capability, which %s needs", c.kind(), need, procedure))
}

func (c *caller) kind() string {
	if c.portal {
		return "portal token"
	}
	return "API key"
}

// authenticate checks the credential a request's headers carry, when one
// is needed or given.
func (a *authenticator) authenticate(h http.Header) error {
	_, err := a.identify(h)
	return err
}

// identify returns what the credential a request's headers carry may do:
// a configured API key's, or a portal token's. Without keys configured, a
// request without a portal token may do everything.
func (a *authenticator) identify(h http.Header) (*caller, error) {
	presented := PresentedKey(h)
	if presented == "" {
		if len(a.keys) == 0 {
			return openCaller, nil
		}
		if a.portalSecret != nil {
			return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("missing API key or portal token: send it in x-api-key or Authorization: Bearer"))
		}
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("missing API key: send it in x-api-key or Authorization: Bearer"))
	}
	if key := a.match(presented); key != nil {
		return key.caller, nil
	}
	if strings.HasPrefix(presented, PortalTokenPrefix) {
		return a.portalCaller(presented)
	}
	if len(a.keys) == 0 {
		return openCaller, nil
	}
	return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid API key"))
}

// portalCaller verifies a portal token.
func (a *authenticator) portalCaller(token string) (*caller, error) {
	if a.portalSecret == nil {
		return nil, connect.NewError(connect.CodeUnauthenticated,
			errors.New("portal tokens are not accepted: the server has no portal secret (transport.WithPortalSecret, SPARROW_PORTAL_SECRET)"))
	}
	t, err := ParsePortalToken(a.portalSecret, token)
	if err != nil {
		return nil, connect.NewError(connect.CodeUnauthenticated, err)
	}
	return &caller{namespaces: []string{t.Namespace}, capabilities: t.Capabilities, portal: true, expiresAt: t.ExpiresAt}, nil
}

// match returns the configured key equal to presented. It compares with
// every key, in constant time, so timing reveals neither which key matched
// nor how much of one did.
func (a *authenticator) match(presented string) *hashedKey {
	sum := sha256.Sum256([]byte(presented))
	var found *hashedKey
	for i := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], a.keys[i].sum[:]) == 1 {
			found = &a.keys[i]
		}
	}
	return found
}

// PresentedKey returns the API key a request carries in x-api-key or as an
// Authorization bearer token. The scheme's name matches in any case, as
// RFC 7235 has it ("bearer", "BEARER").
func PresentedKey(h http.Header) string {
	if key := h.Get("X-Api-Key"); key != "" {
		return key
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// namespacesOf returns the namespaces a request names: its namespace field,
// and those of the messages in its repeated fields (a batch's events). An
// empty namespace means the default one.
func namespacesOf(msg protoreflect.Message) []string {
	var out []string
	fields := msg.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.Name() == "namespace" && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			out = append(out, defaultNamespace(msg.Get(fd).String()))
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			list := msg.Get(fd).List()
			for j := range list.Len() {
				out = append(out, namespacesOf(list.Get(j).Message())...)
			}
		}
	}
	return out
}

func defaultNamespace(ns string) string {
	if ns == "" {
		return validate.DefaultNamespace
	}
	return ns
}
