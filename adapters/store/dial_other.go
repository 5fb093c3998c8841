//go:build !linux

package store

import "syscall"

// setUserTimeout sets nothing where TCP_USER_TIMEOUT is not Linux's: the
// keepalives alone find a silent peer there.
var setUserTimeout func(network, address string, c syscall.RawConn) error
