package delivery

import (
	"fmt"
	"net/netip"
	"syscall"
)

// BlockedError is the dial error for a destination the Guard refuses.
type BlockedError struct {
	Addr netip.Addr
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("destination %s is not a public address (allow it with sparrow.WithAllowedCIDRs or WithAllowPrivateNetworks)", e.Addr)
}

// Guard decides which addresses deliveries may connect to. It runs at dial
// time, on the address DNS resolved to, so a name that resolves to an
// internal address (DNS rebinding included) is refused like the address
// itself.
type Guard struct {
	// AllowPrivate allows every address.
	AllowPrivate bool
	// Allowed lists networks allowed even though not public.
	Allowed []netip.Prefix
}

// Control is a net.Dialer Control function enforcing the guard.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("guard: unexpected dial address %q: %w", address, err)
	}
	if !g.Permits(addrPort.Addr()) {
		return &BlockedError{Addr: addrPort.Addr().Unmap()}
	}
	return nil
}

// Permits reports whether deliveries may connect to addr.
func (g *Guard) Permits(addr netip.Addr) bool {
	addr = addr.Unmap()
	if g.AllowPrivate {
		return true
	}
	for _, p := range g.Allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return IsPublic(addr)
}

// nonPublic lists special-purpose ranges (RFC 6890 and successors) that the
// netip predicates below don't cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: reaches IPv4 space
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: reaches IPv4 space
}

// IsPublic reports whether addr is a globally routable unicast address:
// not loopback, private (RFC 1918, IPv6 ULA), link-local (cloud metadata
// included), multicast, unspecified, carrier-grade NAT or another
// special-purpose range, in IPv4 or IPv4-mapped IPv6 form.
func IsPublic(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}
