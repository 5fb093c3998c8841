package apptest

import (
	"sync"
	"sync/atomic"

	"github.com/leadr-oss/identity/ports"
)

// Changes is a change feed that a test drives: live from the start, it
// delivers what Send is given.
type Changes struct {
	mu   sync.Mutex
	subs []func(ports.Change)
	down atomic.Bool
}

var _ ports.Changes = (*Changes)(nil)

func (c *Changes) Subscribe(fn func(ports.Change)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
}

func (c *Changes) Live() bool { return !c.down.Load() }

// SetLive takes the feed down or brings it back.
func (c *Changes) SetLive(live bool) { c.down.Store(!live) }

// Send delivers ch to every subscriber.
func (c *Changes) Send(ch ports.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fn := range c.subs {
		fn(ch)
	}
}
