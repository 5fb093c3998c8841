package credcache_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/credcache"
	"github.com/leadr-oss/identity/ports"
)

var (
	t0      = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	session = ports.Change{ID: "ses_1"}
	game    = ports.Change{ID: "gam_1"}
)

func newCache(f *apptest.Changes, max int) *credcache.Cache[string] {
	return credcache.New[string](credcache.Options{Changes: f, TTL: 10 * time.Second, Max: max})
}

func put(c *credcache.Cache[string], key, value string, until time.Time, deps ...ports.Change) {
	_, _, ticket := c.Get(key, t0)
	c.Put(ticket, key, value, t0, until, deps...)
}

func want(t *testing.T, c *credcache.Cache[string], key string, at time.Time, value string) {
	t.Helper()
	got, ok, _ := c.Get(key, at)
	switch {
	case value == "" && ok:
		t.Errorf("%s at %v: served %q, want a miss", key, at.Sub(t0), got)
	case value != "" && (!ok || got != value):
		t.Errorf("%s at %v: %q, %v; want %q", key, at.Sub(t0), got, ok, value)
	}
}

func TestServesUntilTheEarlierOfItsExpiryAndTheTTL(t *testing.T) {
	c := newCache(new(apptest.Changes), 10)
	put(c, "a", "A", time.Time{})
	put(c, "b", "B", t0.Add(3*time.Second))
	want(t, c, "a", t0.Add(9*time.Second), "A")
	want(t, c, "a", t0.Add(10*time.Second), "")
	want(t, c, "b", t0.Add(2*time.Second), "B")
	want(t, c, "b", t0.Add(3*time.Second), "")
	want(t, c, "c", t0, "")
}

func TestForgetsWhatAChangeInvalidates(t *testing.T) {
	f := new(apptest.Changes)
	c := newCache(f, 10)
	put(c, "s1", "one", time.Time{}, session, game)
	put(c, "s2", "two", time.Time{}, game)
	put(c, "s3", "three", time.Time{})
	f.Send(ports.Change{ID: "ses_2"})
	want(t, c, "s1", t0, "one")
	f.Send(session)
	want(t, c, "s1", t0, "")
	want(t, c, "s2", t0, "two")
	f.Send(game)
	want(t, c, "s2", t0, "")
	want(t, c, "s3", t0, "three")
	f.Send(ports.Change{}) // anything may have changed
	want(t, c, "s3", t0, "")
	if n := c.Len(); n != 0 {
		t.Errorf("%d entries left", n)
	}
}

// A verdict read before a change committed must not be stored after the
// change was heard: it may be the very verdict the change revoked.
func TestDropsAPutThatAChangeOvertook(t *testing.T) {
	f := new(apptest.Changes)
	c := newCache(f, 10)
	_, _, ticket := c.Get("s1", t0)
	f.Send(session)
	c.Put(ticket, "s1", "stale", t0, time.Time{}, session)
	want(t, c, "s1", t0, "")
}

func TestTrustsNothingWhileTheFeedIsDown(t *testing.T) {
	f := new(apptest.Changes)
	c := newCache(f, 10)
	put(c, "a", "A", time.Time{})
	f.SetLive(false)
	want(t, c, "a", t0, "")
	put(c, "b", "B", time.Time{})
	f.SetLive(true)
	want(t, c, "a", t0, "A")
	want(t, c, "b", t0, "")
}

func TestKeepsAtMostMaxEntries(t *testing.T) {
	f := new(apptest.Changes)
	c := newCache(f, 3)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		put(c, k, k, time.Time{}, ports.Change{ID: k})
	}
	if n := c.Len(); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	want(t, c, "e", t0, "e")
	for _, k := range []string{"a", "b", "c", "d", "e"} { // the survivors are still found by their changes
		f.Send(ports.Change{ID: k})
	}
	if n := c.Len(); n != 0 {
		t.Errorf("%d entries left", n)
	}
}

func TestIsOffWithoutAFeedOrATTL(t *testing.T) {
	for name, o := range map[string]credcache.Options{
		"no feed": {TTL: time.Second, Max: 1},
		"no TTL":  {Changes: new(apptest.Changes), Max: 1},
	} {
		c := credcache.New[string](o)
		if c != nil {
			t.Errorf("%s: a cache", name)
		}
		put(c, "a", "A", time.Time{}) // a nil cache stores nothing and misses
		want(t, c, "a", t0, "")
	}
}
