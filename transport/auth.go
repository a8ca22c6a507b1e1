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

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sparrowhq/sparrow/internal/validate"
	"github.com/sparrowhq/sparrow/proto/webhookpb/webhookpbconnect"
)

// globalWrites are the procedures that change what every namespace shares,
// which a key limited to some namespaces may not call.
var globalWrites = map[string]bool{
	webhookpbconnect.EventServiceRegisterEventProcedure: true,
	webhookpbconnect.EventServiceUpdateEventProcedure:   true,
}

type hashedKey struct {
	sum        [sha256.Size]byte
	namespaces []string // nil: all
}

// authenticator checks API keys, and a scoped key's namespaces against every
// namespace a request names. With no keys configured it lets all through.
type authenticator struct {
	keys []hashedKey
}

func newAuthenticator(keys []APIKey) (*authenticator, error) {
	a := &authenticator{}
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("transport: key %d: %w", i, err)
		}
		hk := hashedKey{sum: sha256.Sum256([]byte(k.Key))}
		for _, ns := range k.Namespaces {
			ns, _ := validate.Namespace(ns)
			hk.namespaces = append(hk.namespaces, ns)
		}
		a.keys = append(a.keys, hk)
	}
	return a, nil
}

func (a *authenticator) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := a.authorize(req); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authenticator) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authenticator) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if len(a.keys) > 0 {
			return connect.NewError(connect.CodeUnimplemented, errors.New("streaming is not offered"))
		}
		return next(ctx, conn)
	}
}

func (a *authenticator) authorize(req connect.AnyRequest) error {
	key, err := a.identify(req.Header())
	if err != nil || key == nil || key.namespaces == nil {
		return err
	}
	if globalWrites[req.Spec().Procedure] {
		return connect.NewError(connect.CodePermissionDenied,
			errors.New("event types are shared by every namespace: changing them needs a key not limited to namespaces"))
	}
	msg, ok := req.Any().(proto.Message)
	if !ok {
		return connect.NewError(connect.CodeInternal, errors.New("unexpected request type"))
	}
	for _, ns := range namespacesOf(msg.ProtoReflect()) {
		if !slices.Contains(key.namespaces, ns) {
			return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("this API key may not use namespace %q", ns))
		}
	}
	return nil
}

// authenticate checks the API key a request's headers carry, when keys are
// configured.
func (a *authenticator) authenticate(h http.Header) error {
	_, err := a.identify(h)
	return err
}

// identify returns the configured key a request's headers carry; nil with
// no error when no keys are configured.
func (a *authenticator) identify(h http.Header) (*hashedKey, error) {
	if len(a.keys) == 0 {
		return nil, nil
	}
	presented := PresentedKey(h)
	if presented == "" {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("missing API key: send it in x-api-key or Authorization: Bearer"))
	}
	key := a.match(presented)
	if key == nil {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid API key"))
	}
	return key, nil
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
