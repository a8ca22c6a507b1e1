package transport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// A Capability is something a credential lets its bearer do.
type Capability string

// The capabilities. An API key not limited to namespaces (or no key, on a
// server without keys) holds all four; a key limited to namespaces all but
// CapabilityManageEventTypes; a portal token CapabilityRead, and
// CapabilityManageWebhooks when issued with it.
const (
	// CapabilityRead reads webhooks, subscriptions, events, deliveries,
	// recoveries, health and event types.
	CapabilityRead Capability = "read"
	// CapabilityManageWebhooks creates, changes and deletes webhooks and
	// subscriptions, rotates and reveals secrets, sends test events,
	// retries deliveries and recovers webhooks.
	CapabilityManageWebhooks Capability = "manage_webhooks"
	// CapabilityPushEvents pushes events and pushes them again.
	CapabilityPushEvents Capability = "push_events"
	// CapabilityManageEventTypes registers and changes event types, which
	// every namespace shares.
	CapabilityManageEventTypes Capability = "manage_event_types"
)

// allCapabilities are the capabilities, in the order access lists them.
var allCapabilities = []Capability{CapabilityRead, CapabilityManageWebhooks, CapabilityPushEvents, CapabilityManageEventTypes}

// Portal tokens' limits and defaults.
const (
	// PortalTokenPrefix starts every portal token.
	PortalTokenPrefix = "spt_"
	// MinPortalSecretLength is the shortest portal secret accepted, in
	// bytes.
	MinPortalSecretLength = 32
	// PortalTTLDefault is how long a token works when its grant says
	// nothing.
	PortalTTLDefault = time.Hour
	// PortalTTLMin and PortalTTLMax bound a grant's TTL.
	PortalTTLMin = time.Minute
	PortalTTLMax = 30 * 24 * time.Hour
)

// maxPortalTokenLen bounds what is verified: a real token is a few hundred
// bytes, and a longer one is refused before any hashing.
const maxPortalTokenLen = 2048

var (
	// ErrInvalidPortalToken is returned for a token that is malformed or
	// not signed with the secret (tampered with, or issued by another
	// server).
	ErrInvalidPortalToken = errors.New("invalid portal token")
	// ErrPortalTokenExpired is returned for a token past its expiry.
	ErrPortalTokenExpired = errors.New("portal token expired")
)

// WithPortalSecret lets the API accept portal tokens signed with secret
// (see NewPortalToken), beside API keys, and lets CreatePortalToken issue
// them. The secret must be at least MinPortalSecretLength bytes (try:
// openssl rand -base64 32); changing it revokes every token issued with
// the old one. Default: no portal tokens.
func WithPortalSecret(secret []byte) Option {
	secret = slices.Clone(secret)
	return optionFunc(func(c *config) { c.portalSecret = secret; c.portalSecretSet = true })
}

func validatePortalSecret(secret []byte) error {
	if len(secret) < MinPortalSecretLength {
		return errs.InvalidArgument("secret", "the portal secret is shorter than %d bytes (try: openssl rand -base64 32)", MinPortalSecretLength)
	}
	return nil
}

// PortalGrant is what a portal token lets its bearer do: use one namespace,
// through the API and the dashboard, with some capabilities.
type PortalGrant struct {
	// Namespace is the one namespace the token may use; "" is the default
	// namespace.
	Namespace string
	// Capabilities are CapabilityRead, and CapabilityManageWebhooks to let
	// the bearer change the namespace's webhooks too. Every token reads:
	// empty means read only.
	Capabilities []Capability
	// TTL is how long the token works, PortalTTLMin to PortalTTLMax.
	// Default: PortalTTLDefault.
	TTL time.Duration
}

// WithDefaults returns the grant with its defaults filled in, its
// namespace's name resolved and its capabilities in their usual order,
// read first.
func (g PortalGrant) WithDefaults() PortalGrant {
	if g.Namespace == "" {
		g.Namespace = validate.DefaultNamespace
	}
	if g.TTL == 0 {
		g.TTL = PortalTTLDefault
	}
	caps := []Capability{CapabilityRead}
	for _, c := range allCapabilities[1:] {
		if slices.Contains(g.Capabilities, c) {
			caps = append(caps, c)
		}
	}
	g.Capabilities = caps
	return g
}

// validate checks a grant, naming the field at fault.
func (g PortalGrant) validate() error {
	if _, err := validate.Namespace(g.Namespace); err != nil {
		return err
	}
	for i, c := range g.Capabilities {
		if !portalCapability(c) {
			return errs.InvalidArgument(fmt.Sprintf("capabilities[%d]", i), "%s: a portal token may read, and manage webhooks (%q, %q)",
				describeCapability(c), CapabilityRead, CapabilityManageWebhooks)
		}
	}
	if g.TTL != 0 && (g.TTL < PortalTTLMin || g.TTL > PortalTTLMax) {
		return errs.InvalidArgument("ttl", "must be %v to %v", PortalTTLMin, PortalTTLMax)
	}
	return nil
}

// portalCapability reports whether a portal token may hold c.
func portalCapability(c Capability) bool {
	return c == CapabilityRead || c == CapabilityManageWebhooks
}

// describeCapability names a capability refused, quoting it only when it
// is short: the refusal must not echo a megabyte back.
func describeCapability(c Capability) string {
	switch {
	case slices.Contains(allCapabilities, c):
		return fmt.Sprintf("%q is not granted to portal tokens", c)
	case len(c) <= 64:
		return fmt.Sprintf("unknown capability %q", c)
	}
	return "unknown capability"
}

// portalClaims is a token's signed content.
type portalClaims struct {
	Namespace    string       `json:"ns"`
	Capabilities []Capability `json:"caps"`
	ExpiresAt    int64        `json:"exp"` // Unix seconds
	IssuedAt     int64        `json:"iat"`
}

// NewPortalToken issues a token for g, signed with secret (the one given
// to WithPortalSecret), and returns it with its expiry. Its bearer sends
// it as "Authorization: Bearer <token>" (or x-api-key), or opens the
// dashboard at <dashboard>/#token=<token>. Bad input is an
// *InvalidArgumentError (sparrow.ErrInvalidArgument) naming the field.
//
// The token is PortalTokenPrefix, the base64url (unpadded) JSON of its
// claims ({"ns", "caps", "exp", "iat"}, times in Unix seconds), a dot, and
// the base64url HMAC-SHA256, under secret, of everything before the dot.
func NewPortalToken(secret []byte, g PortalGrant) (token string, expiresAt time.Time, err error) {
	if err := validatePortalSecret(secret); err != nil {
		return "", time.Time{}, err
	}
	if err := g.validate(); err != nil {
		return "", time.Time{}, err
	}
	g = g.WithDefaults()
	now := time.Now().Truncate(time.Second)
	expiresAt = now.Add(g.TTL)
	claims, err := json.Marshal(portalClaims{Namespace: g.Namespace, Capabilities: g.Capabilities, ExpiresAt: expiresAt.Unix(), IssuedAt: now.Unix()})
	if err != nil {
		return "", time.Time{}, err
	}
	signed := PortalTokenPrefix + base64.RawURLEncoding.EncodeToString(claims)
	return signed + "." + base64.RawURLEncoding.EncodeToString(portalMAC(secret, signed)), expiresAt, nil
}

func portalMAC(secret []byte, signed string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return mac.Sum(nil)
}

// PortalToken is what a verified portal token grants.
type PortalToken struct {
	Namespace    string
	Capabilities []Capability // CapabilityRead first
	IssuedAt     time.Time
	ExpiresAt    time.Time
}

// ParsePortalToken verifies a token against secret and returns what it
// grants: ErrInvalidPortalToken when it is malformed or signed with
// another secret, ErrPortalTokenExpired once it has expired.
func ParsePortalToken(secret []byte, token string) (*PortalToken, error) {
	return parsePortalToken(secret, token, time.Now())
}

func parsePortalToken(secret []byte, token string, now time.Time) (*PortalToken, error) {
	if len(token) > maxPortalTokenLen || len(secret) == 0 || !strings.HasPrefix(token, PortalTokenPrefix) {
		return nil, ErrInvalidPortalToken
	}
	signed, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrInvalidPortalToken
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	// hmac.Equal compares in constant time: timing tells nothing of the
	// right signature.
	if err != nil || !hmac.Equal(mac, portalMAC(secret, signed)) {
		return nil, ErrInvalidPortalToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(signed, PortalTokenPrefix))
	if err != nil {
		return nil, ErrInvalidPortalToken
	}
	var claims portalClaims
	if err := json.Unmarshal(raw, &claims); err != nil || claims.ExpiresAt == 0 || claims.Namespace == "" {
		return nil, ErrInvalidPortalToken
	}
	// Signed by this secret, so issued by NewPortalToken: still, what the
	// authenticator relies on is checked, not assumed.
	if _, err := validate.Namespace(claims.Namespace); err != nil {
		return nil, ErrInvalidPortalToken
	}
	if slices.ContainsFunc(claims.Capabilities, func(c Capability) bool { return !portalCapability(c) }) {
		return nil, ErrInvalidPortalToken
	}
	expiresAt := time.Unix(claims.ExpiresAt, 0)
	if !now.Before(expiresAt) {
		return nil, ErrPortalTokenExpired
	}
	// A token made elsewhere may list its capabilities in any order, or
	// leave out read, which every token holds.
	caps := PortalGrant{Capabilities: claims.Capabilities}.WithDefaults().Capabilities
	return &PortalToken{Namespace: claims.Namespace, Capabilities: caps, IssuedAt: time.Unix(claims.IssuedAt, 0), ExpiresAt: expiresAt}, nil
}
