package store

import (
	"net"
	"time"
)

// A database that stops answering without closing the connection (its host
// gone, a partition) would hold every request on it until TCP gives up,
// a quarter of an hour later. Keepalives find a silent peer of an idle
// connection gone in 30 s, and on Linux a user timeout drops a connection
// whose sent data stays unacknowledged for 30 s. A long statement is not
// cut: the server's kernel answers keepalives while its backend works.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	userTimeout       = 30 * time.Second
)

// deadPeerDialer dials PostgreSQL with those settings; connectTimeout is
// each host's connect_timeout, as pgx's own dialer takes it.
func deadPeerDialer(connectTimeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: connectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount,
		},
		Control: setUserTimeout,
	}
}
