package webhooks_test

import (
	"net/netip"
	"testing"

	"github.com/leadr-oss/identity/adapters/webhooks"
)

func TestPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		// IPv4 special-purpose blocks, at their edges.
		{"0.0.0.0", false},
		{"0.255.255.255", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// Their neighbours are public.
		{"9.255.255.255", true},
		{"11.0.0.0", true},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		{"192.0.1.1", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		{"223.255.255.255", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},

		// IPv6.
		{"::", false},
		{"::1", false},
		{"fe80::1", false},
		{"febf:ffff::1", false},
		{"fec0::1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		{"100::1", false},
		{"100:0:0:1::1", false},
		{"2001:db8::1", false},
		{"2001:2::1", false},
		{"3fff::1", false},
		{"5f00::1", false},
		{"64:ff9b:1::808:808", false},                   // local-use NAT64, whatever it embeds
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"2a00:1450:4001:80b::200e", true},

		// IPv4-mapped: judged as the IPv4 address.
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:0.0.0.0", false},
		{"::ffff:8.8.8.8", true},
		// NAT64's well-known prefix, 6to4 and IPv4-compatible: judged by
		// the IPv4 address they carry packets to.
		{"64:ff9b::127.0.0.1", false},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::8.8.8.8", true},
		{"2002:7f00:1::1", false},   // 127.0.0.1
		{"2002:c0a8:101::1", false}, // 192.168.1.1
		{"2002:808:808::1", true},   // 8.8.8.8
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		{"::8.8.8.8", true},

		// A zone names a local interface: never public.
		{"fe80::1%eth0", false},
		{"2606:4700:4700::1111%eth0", false},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := webhooks.Public(a); got != tc.public {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
	if webhooks.Public(netip.Addr{}) {
		t.Error("Public(the zero Addr) = true, want false")
	}
}
