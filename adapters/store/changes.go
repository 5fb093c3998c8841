package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/ports"
)

// changesChannel is the channel the events table's trigger notifies on,
// with the changed subject's ID as payload, or "*" (see the events
// migration).
const changesChannel = "leadr_changes"

// listenerName is the application_name of each replica's listening
// connection.
const listenerName = "leadr-changes"

// Changes is the feed of committed changes that invalidate cached
// credentials: this replica's own events as soon as they commit (so that a
// key revoked here fails on its very next use), and every replica's through
// PostgreSQL's LISTEN/NOTIFY, which the events' trigger sends when the
// writing transaction commits. On SQLite it is never live: nothing tells one process of
// another's writes to the file.
type Changes struct {
	mu   sync.RWMutex
	subs []func(ports.Change)
	live atomic.Bool
	// heard is when the connection last proved alive (UnixNano): a
	// notification or an answered ping. A connection that dies without a
	// word keeps the feed live no longer than listenStale.
	heard atomic.Int64
}

var _ ports.Changes = (*Changes)(nil)

func (c *Changes) Subscribe(fn func(ports.Change)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
}

func (c *Changes) Live() bool {
	return c.live.Load() && time.Since(time.Unix(0, c.heard.Load())) < listenStale
}

func (c *Changes) alive() { c.heard.Store(time.Now().UnixNano()) }

// committed publishes the subjects of this replica's events that just
// committed and can change a cached verdict, as the trigger does for the
// other replicas.
func (c *Changes) committed(events []event.Event) {
	for _, e := range events {
		if e.ChangesAccess {
			c.publish(ports.Change{ID: e.Subject.ID})
		}
	}
}

func (c *Changes) publish(ch ports.Change) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, fn := range c.subs {
		fn(ch)
	}
}

// up forgets everything first, then trusts: a change missed while the feed
// was down must not survive in a cache.
func (c *Changes) up() {
	c.publish(ports.Change{})
	c.alive()
	c.live.Store(true)
}

func (c *Changes) down() {
	c.live.Store(false)
	c.publish(ports.Change{})
}

// Listener timings: how long a quiet connection may go unchecked, how long
// the check may take, how long without a sign of life the feed stays live
// (a revocation must reach every replica within a second), and the longest
// wait between reconnections. A quiet replica pings four times a second.
const (
	listenHeartbeat = 250 * time.Millisecond
	listenPingLimit = 400 * time.Millisecond
	listenStale     = 900 * time.Millisecond
	listenMaxDelay  = 5 * time.Second
)

// Listen feeds the changes of every replica into db's Changes until ctx
// ends, on a connection of its own, and reconnects when it is lost. report
// hears each time the feed goes down (with why) and comes back (nil). On
// SQLite it returns at once; behind a transaction pooler with no direct
// address, once report has heard why there is no feed.
func (d *DB) Listen(ctx context.Context, report func(error)) {
	if d.listen == nil {
		if d.pooled {
			report(errNoDirect)
		}
		return
	}
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listenOnce(ctx, func() {
			delay = 100 * time.Millisecond
			report(nil)
		})
		d.changes.down()
		if ctx.Err() != nil {
			return
		}
		report(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, listenMaxDelay)
	}
}

// errNoDirect says why a replica behind a transaction pooler has no feed:
// LISTEN needs a session, which a transaction pooler does not keep.
var errNoDirect = errors.New("LISTEN cannot go through a transaction pooler: add direct=host:port of " +
	"PostgreSQL itself to the database URL, for the change feed; until then nothing is cached")

func (d *DB) listenOnce(ctx context.Context, connected func()) error {
	cfg := d.listen.Copy()
	cfg.RuntimeParams["application_name"] = listenerName // for pg_stat_activity
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	d.changes.up()
	connected()
	for {
		wait, cancel := context.WithTimeout(ctx, listenHeartbeat)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			d.changes.alive()
			d.changes.publish(parseChange(n.Payload))
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for a while: a connection that died without a word would
		// otherwise keep the feed "live" while it hears nothing.
		ping, cancel := context.WithTimeout(ctx, listenPingLimit)
		err = conn.Ping(ping)
		cancel()
		if err != nil {
			return err
		}
		d.changes.alive()
	}
}

// parseChange reads a notification's payload, the ID of the subject of an
// event; "*", or anything that is no ID, means that anything may have
// changed.
func parseChange(payload string) ports.Change {
	prefix, rest, ok := strings.Cut(payload, "_")
	if !ok || prefix == "" {
		return ports.Change{}
	}
	if _, err := uuid.Parse(rest); err != nil {
		return ports.Change{}
	}
	return ports.Change{ID: payload}
}
