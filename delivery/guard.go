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

// Error names the address and the options that would allow it, since the
// message ends up in the attempt record a person reads.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("destination %s is not a public address (allow it with sparrow.WithAllowedCIDRs or WithAllowPrivateNetworks)", e.Addr)
}

// Guard decides which addresses deliveries may connect to. It runs at dial
// time, on the address DNS resolved to, so a name that resolves to a
// private address (DNS rebinding included) is refused like the address
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

// globalUnicast6 is the only IPv6 space allocated for global unicast (RFC
// 4291 section 2.4, IANA's IPv6 address space registry). Everything outside
// it is refused, including forms that embed an IPv4 address and could reach
// IPv4 space behind the guard's back: IPv4-compatible (::a.b.c.d),
// IPv4-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
// deprecated site-local (fec0::/10) and the discard prefix (100::/64).
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// nonPublic lists special-purpose ranges (RFC 6890 and successors) that
// neither globalUnicast6 nor the netip predicates in IsPublic cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: reaches IPv4 space
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
}

// IsPublic reports whether addr is a globally routable unicast address:
// not loopback, private (RFC 1918, IPv6 ULA), link-local (cloud metadata
// included), multicast, unspecified, carrier-grade NAT or another
// special-purpose range, in IPv4 or IPv4-mapped IPv6 form; in IPv6, inside
// the global unicast space (2000::/3) as well.
func IsPublic(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.Is6() && !globalUnicast6.Contains(addr) {
		return false
	}
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
