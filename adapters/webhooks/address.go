package webhooks

import "net/netip"

// notPublic are the destinations a webhook must not reach unless private
// addresses are allowed. They are the entries of IANA's IPv4 and IPv6
// Special-Purpose Address Registries that are not globally reachable,
// plus multicast and the deprecated blocks, which no endpoint of the
// Internet has either. An address in none of them may still be routed to
// a private network by the deployment's own routes; that is beyond what an
// address can tell.
var notPublic = []netip.Prefix{
	// IPv4.
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network": 0.0.0.0 reaches the local host
	netip.MustParsePrefix("10.0.0.0/8"),      // private use (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space: carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, where cloud metadata services answer
	netip.MustParsePrefix("172.16.0.0/12"),   // private use (RFC 1918)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (DS-Lite, NAT64 discovery); its two anycast services are no endpoint
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated (RFC 7526)
	netip.MustParsePrefix("192.168.0.0/16"),  // private use (RFC 1918)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast: not one endpoint
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast 255.255.255.255

	// IPv6. The forms that embed an IPv4 address and reach it (NAT64's
	// well-known prefix, 6to4, IPv4-compatible) are judged by that
	// address instead: see embeddedIPv4.
	netip.MustParsePrefix("::/128"),         // unspecified: reaches the local host
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64: a private network's translator, and where the IPv4 address sits is the operator's choice
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("100:0:0:1::/64"), // dummy prefix (RFC 9780)
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments: Teredo (2001::/32) tunnels to an IPv4 host we cannot judge, benchmarking, ORCHID; its few global entries are anycast services, no endpoint
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("3fff::/20"),      // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),      // SRv6 segment identifiers (RFC 9602)
	netip.MustParsePrefix("fc00::/7"),       // unique-local: the IPv6 private networks
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated but still routed by some private networks
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052's well-known prefix: the IPv4 address is the last 32 bits
	sixToFour  = netip.MustParsePrefix("2002::/16")    // the IPv4 address is bits 16 to 48
	compatible = netip.MustParsePrefix("::/96")        // IPv4-compatible, deprecated: the last 32 bits
)

// Public reports whether a may be dialled when private addresses are not
// allowed: an address of the public Internet, not one of the host's own,
// a private network's, a link's, a multicast group or a reserved block.
// An IPv4-mapped IPv6 address is its IPv4 address; an IPv6 address that
// reaches an embedded IPv4 one (NAT64, 6to4) is public only when that one
// is. An address with a zone is never public: zones name a local
// interface, which only non-global addresses need.
func Public(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		return Public(v4)
	}
	return true
}

// embeddedIPv4 is the IPv4 address that an IPv6 address of a translation
// or tunnelling prefix carries packets to.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case nat64.Contains(a), compatible.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
