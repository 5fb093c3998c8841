package store

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestConnectionsToPostgresNoticeASilentPeer: the pool's connections carry
// keepalives and the user timeout, so a database gone silent fails its
// requests within half a minute rather than a quarter of an hour.
func TestConnectionsToPostgresNoticeASilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := pgxConfig("postgres://leadr@" + ln.Addr().String() + "/leadr?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := cfg.DialFunc(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var keepAlive, idle, user int
	var getErr error
	if err := raw.Control(func(fd uintptr) {
		var e1, e2, e3 error
		keepAlive, e1 = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		idle, e2 = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		user, e3 = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
		getErr = errors.Join(e1, e2, e3)
	}); err != nil || getErr != nil {
		t.Fatal(err, getErr)
	}
	if keepAlive != 1 || time.Duration(idle)*time.Second != keepAliveIdle || time.Duration(user)*time.Millisecond != userTimeout {
		t.Errorf("keepalive %d, idle %ds, user timeout %dms", keepAlive, idle, user)
	}
}
