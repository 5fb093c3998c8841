package webhooks

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestControlRefusesNonPublic: the Control hook judges the address the
// socket is about to connect to, whatever resolved it.
func TestControlRefusesNonPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		network, address string
		refused          string // "" allowed
	}{
		{"tcp4", "127.0.0.1:443", "127.0.0.1"},
		{"tcp4", "10.0.0.1:8080", "10.0.0.1"},
		{"tcp4", "169.254.169.254:80", "169.254.169.254"},
		{"tcp6", "[::1]:443", "::1"},
		{"tcp6", "[::ffff:127.0.0.1]:443", "127.0.0.1"},
		{"tcp6", "[fe80::1%eth0]:443", "fe80::1%eth0"},
		{"tcp6", "[fd00::1]:443", "fd00::1"},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:443", "64:ff9b::a9fe:a9fe"},
		{"tcp4", "8.8.8.8:443", ""},
		{"tcp6", "[2606:4700:4700::1111]:443", ""},
	} {
		err := refuseNonPublic(tc.network, tc.address, nil)
		var refused *notAllowedError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("refuseNonPublic(%s) = %v, want nil", tc.address, err)
		case tc.refused != "" && (!errors.As(err, &refused) || refused.addr.String() != tc.refused):
			t.Errorf("refuseNonPublic(%s) = %v, want %s refused", tc.address, err, tc.refused)
		}
	}
	if err := refuseNonPublic("unix", "/run/app.sock", nil); !errors.Is(err, errUnjudged) {
		t.Errorf("refuseNonPublic of a path = %v, want errUnjudged: what cannot be judged is refused", err)
	}
}

// TestDialerRefusesLoopback: the Client's dialer, given the loopback
// directly (no lookup in between to judge it), connects to nothing.
func TestDialerRefusesLoopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan struct{}, 1)
	go func() {
		if conn, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			_ = conn.Close()
		}
	}()

	c := New(Config{})
	for _, dial := range []func() (net.Conn, error){
		func() (net.Conn, error) { return c.dialer.DialContext(t.Context(), "tcp", ln.Addr().String()) },
		func() (net.Conn, error) { return c.dial(t.Context(), "tcp", ln.Addr().String()) },
	} {
		conn, err := dial()
		var refused *notAllowedError
		if !errors.As(err, &refused) {
			if conn != nil {
				_ = conn.Close()
			}
			t.Errorf("dialling the loopback = %v, want it refused", err)
		}
	}
	select {
	case <-accepted:
		t.Error("the loopback listener accepted a connection")
	case <-time.After(100 * time.Millisecond):
	}

	// With private addresses allowed, the same dial connects: the refusal
	// above is the hook's.
	conn, err := New(Config{AllowPrivate: true}).dialer.DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dialling the loopback with AllowPrivate: %v", err)
	}
	_ = conn.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Error("the loopback listener accepted nothing with AllowPrivate")
	}
}
