package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Unavailable reports whether err is the database failing to serve rather
// than a bug: unreachable, restarting, out of connections, too slow for the
// request's deadline or its own timeouts, or busy with another writer. The
// same request may succeed later, so the HTTP adapter answers 503 with
// Retry-After rather than 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	// The request's deadline, reached in the pool's queue or in a statement.
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return unavailableSQLite(liteErr.Code())
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		// A connection pgx closed after a failure: the next one may work.
		strings.Contains(err.Error(), "conn closed")
}

// unavailableState: the SQLSTATEs of a server that cannot serve now, as
// opposed to one that refuses the statement.
func unavailableState(code string) bool {
	switch code {
	case "57014", // query_canceled: statement_timeout
		"55P03", // lock_not_available: lock_timeout
		"57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: starting up, or in recovery
		"40001", // serialization_failure
		"40P01", // deadlock_detected: the other transaction went through
		"25006": // read_only_sql_transaction: a standby that was the primary
		return true
	}
	// Classes 08, connection exception, and 53, insufficient resources (too
	// many connections, disk full).
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53")
}

// unavailableSQLite: the result codes of a database that another writer,
// the request's deadline or the disk keeps from serving.
func unavailableSQLite(code int) bool {
	const (
		busy      = 5
		locked    = 6
		readOnly  = 8
		interrupt = 9 // the context was done
		ioErr     = 10
		full      = 13
		cantOpen  = 14
		protocol  = 15
	)
	switch code & 0xff { // extended codes keep the primary one in the low byte
	case busy, locked, readOnly, interrupt, ioErr, full, cantOpen, protocol:
		return true
	}
	return false
}
