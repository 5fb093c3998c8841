package store

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/ports"
)

// TestAFeedThatHearsNothingIsNotLive: a listening connection that dies
// without a word (a partition, a failover) stops the feed being live once
// it has neither answered a ping nor delivered a change for listenStale,
// so that no replica trusts its cache past the second a revocation has.
func TestAFeedThatHearsNothingIsNotLive(t *testing.T) {
	c := new(Changes)
	var resets int
	c.Subscribe(func(ch ports.Change) {
		if ch == (ports.Change{}) {
			resets++
		}
	})
	if c.Live() {
		t.Fatal("live before it ever connected")
	}
	c.up()
	if !c.Live() || resets != 1 {
		t.Fatalf("after connecting: live %v, %d resets", c.Live(), resets)
	}
	c.heard.Store(time.Now().Add(-listenStale).UnixNano())
	if c.Live() {
		t.Error("live after listenStale without a sign of life")
	}
	c.alive()
	if !c.Live() {
		t.Error("not live after a sign of life")
	}
	if listenHeartbeat+listenPingLimit >= listenStale || listenStale >= time.Second {
		t.Errorf("a quiet, healthy connection must prove itself within listenStale, and listenStale be under a second")
	}
}
