// Package credcache keeps verified credentials (API keys, client sessions)
// in process, so that a request need not read its credential from the
// database, and forgets them as soon as a change to them is committed on any
// replica.
//
// It trusts nothing while the change feed is down: every lookup misses, so
// a revocation is never missed for longer than the feed takes to notice it
// lost its connection. The TTL bounds the damage of a change lost in
// transit all the same.
package credcache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadr-oss/identity/ports"
)

// Cache maps a credential's key to what verifying it found. A nil *Cache is
// off: every lookup misses and nothing is stored.
type Cache[V any] struct {
	changes ports.Changes
	ttl     time.Duration
	max     int

	mu      sync.RWMutex
	gen     Ticket
	entries map[string]*entry[V]
	// byDep finds the entries that a change invalidates.
	byDep map[ports.Change]map[string]struct{}

	hits, misses atomic.Uint64
}

type entry[V any] struct {
	value V
	until time.Time
	deps  []ports.Change
}

// Ticket is the cache's generation when a lookup missed. A Put whose ticket
// predates a change is dropped: a verdict read before a revocation
// committed is never stored after it.
type Ticket uint64

// Options configure a cache; the zero value is off.
type Options struct {
	// Changes invalidate entries; without a feed there is no cache.
	Changes ports.Changes
	// TTL is the longest an entry is kept; 0 is off.
	TTL time.Duration
	// Max is the most entries kept.
	Max int
}

// New returns a cache, or nil (off) when o has no change feed, TTL or room.
func New[V any](o Options) *Cache[V] {
	if o.Changes == nil || o.TTL <= 0 || o.Max <= 0 {
		return nil
	}
	c := &Cache[V]{
		changes: o.Changes, ttl: o.TTL, max: o.Max,
		entries: make(map[string]*entry[V]),
		byDep:   make(map[ports.Change]map[string]struct{}),
	}
	o.Changes.Subscribe(c.invalidate)
	return c
}

// Get returns the value under key if it is still good at now, or a ticket
// for storing one.
func (c *Cache[V]) Get(key string, now time.Time) (V, bool, Ticket) {
	var zero V
	if c == nil {
		return zero, false, 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, ok := c.entries[key]; ok && now.Before(e.until) && c.changes.Live() {
		c.hits.Add(1)
		return e.value, true, c.gen
	}
	c.misses.Add(1)
	return zero, false, c.gen
}

// Counts are the lookups served from the cache and the others, for metrics.
func (c *Cache[V]) Counts() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Put stores value under key until the earlier of until (zero: none) and
// the TTL, to be forgotten when any of deps changes.
func (c *Cache[V]) Put(t Ticket, key string, value V, now, until time.Time, deps ...ports.Change) {
	if c == nil || !c.changes.Live() {
		return
	}
	if limit := now.Add(c.ttl); until.IsZero() || until.After(limit) {
		until = limit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t != c.gen {
		return
	}
	c.remove(key)
	for len(c.entries) >= c.max {
		for k := range c.entries { // an arbitrary entry: Go's map order
			c.remove(k)
			break
		}
	}
	c.entries[key] = &entry[V]{value: value, until: until, deps: deps}
	for _, d := range deps {
		keys := c.byDep[d]
		if keys == nil {
			keys = make(map[string]struct{}, 1)
			c.byDep[d] = keys
		}
		keys[key] = struct{}{}
	}
}

// Len is the number of entries, for tests and metrics.
func (c *Cache[V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func (c *Cache[V]) invalidate(ch ports.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if ch == (ports.Change{}) {
		clear(c.entries)
		clear(c.byDep)
		return
	}
	for key := range c.byDep[ch] {
		c.remove(key)
	}
}

// remove deletes key's entry and its index rows; mu is held.
func (c *Cache[V]) remove(key string) {
	e, ok := c.entries[key]
	if !ok {
		return
	}
	delete(c.entries, key)
	for _, d := range e.deps {
		if keys := c.byDep[d]; keys != nil {
			delete(keys, key)
			if len(keys) == 0 {
				delete(c.byDep, d)
			}
		}
	}
}
