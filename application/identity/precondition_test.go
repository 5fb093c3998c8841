package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
)

// asked records what a precondition was asked about, and answers holds.
type asked struct {
	holds  bool
	seen   []identity.Snapshot
	locked []bool
}

func (a *asked) precondition(r *countingRepo) func(*identity.Identity) bool {
	return func(i *identity.Identity) bool {
		a.seen = append(a.seen, i.Snapshot())
		a.locked = append(a.locked, r.locked.Load())
		return a.holds
	}
}

func TestUpdatePreconditionFailedWritesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change ports.UpdateIdentity
		writes bool // the update would write, so the condition is asked under the lock
	}{
		{"rename", ports.UpdateIdentity{DisplayName: ptr("Bob")}, true},
		{"delete", ports.UpdateIdentity{Delete: true}, true},
		{"rename and delete", ports.UpdateIdentity{DisplayName: ptr("Bob"), Delete: true}, true},
		{"nothing", ports.UpdateIdentity{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			before := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
			e.clock.Advance(time.Hour)
			var a asked
			cmd := c.change
			cmd.ID, cmd.Precondition = before.ID(), a.precondition(e.repo)

			var got *identity.Identity
			var err error
			events := apptest.RecordedDuring(t, e.events, func() { got, err = e.svc.Update(e.ctx, e.regular, cmd) })
			var de *domain.Error
			if got != nil || !errors.Is(err, identity.ErrPreconditionFailed) || !errors.As(err, &de) ||
				de.Category != domain.CategoryPreconditionFailed || de.Message != "Precondition failed" {
				t.Fatalf("Update = %v, %v; want ErrPreconditionFailed", got, err)
			}
			if len(a.seen) != 1 || a.seen[0] != before.Snapshot() {
				t.Errorf("the precondition was asked about %+v, want once about %+v", a.seen, before.Snapshot())
			}
			if c.writes && !a.locked[0] {
				t.Error("the precondition was asked outside the repository's Update")
			}
			if after := e.stored(before.ID()); after.Snapshot() != before.Snapshot() {
				t.Errorf("a failed precondition changed the identity:\n got %+v\nwant %+v", after.Snapshot(), before.Snapshot())
			}
			if len(events) != 0 {
				t.Errorf("a failed precondition recorded %v", apptest.EventTypes(events))
			}
		})
	}
}

func TestUpdatePreconditionHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
	e.clock.Advance(time.Hour)
	a := asked{holds: true}
	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: before.ID(), DisplayName: ptr("Bob"), Precondition: a.precondition(e.repo)})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName().String() != "Bob" || e.stored(before.ID()).DisplayName().String() != "Bob" {
		t.Errorf("renamed to %q, stored %q; want Bob", got.DisplayName(), e.stored(before.ID()).DisplayName())
	}
	// It is a condition on the identity as it was, not as it would be.
	if len(a.seen) != 1 || a.seen[0] != before.Snapshot() || !a.locked[0] {
		t.Errorf("the precondition was asked about %+v (under the lock: %v), want once about %+v under it", a.seen, a.locked, before.Snapshot())
	}
}

// The contract's checks (422, 403, 404) come before the precondition (412).
func TestUpdatePreconditionComesLast(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
	theirs := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-0002"})
	for _, c := range []struct {
		name    string
		super   bool
		cmd     ports.UpdateIdentity
		wantErr error
	}{
		{"invalid name", false, ports.UpdateIdentity{ID: mine.ID(), DisplayName: ptr(strings.Repeat("x", 65))}, nil},
		{"another account named", false, ports.UpdateIdentity{ID: mine.ID(), AccountID: e.other, DisplayName: ptr("Bob")}, nil},
		{"another tenant's", false, ports.UpdateIdentity{ID: theirs.ID(), DisplayName: ptr("Bob")}, identity.ErrForbidden},
		{"another tenant's, nothing to change", false, ports.UpdateIdentity{ID: theirs.ID()}, identity.ErrForbidden},
		{"superadmin names the wrong account", true, ports.UpdateIdentity{ID: theirs.ID(), AccountID: e.acme, Delete: true}, identity.ErrNotFound},
		{"unknown", false, ports.UpdateIdentity{ID: id.New[id.Identity](), DisplayName: ptr("Bob")}, identity.ErrNotFound},
		{"unknown, nothing to change", false, ports.UpdateIdentity{ID: id.New[id.Identity]()}, identity.ErrNotFound},
	} {
		var a asked
		c.cmd.Precondition = a.precondition(e.repo)
		p := e.regular
		if c.super {
			p = e.super
		}
		_, err := e.svc.Update(e.ctx, p, c.cmd)
		switch cat := domain.CategoryOf(err); {
		case cat == domain.CategoryPreconditionFailed || err == nil:
			t.Errorf("%s: %v, want the contract's error", c.name, err)
		case c.wantErr != nil && !errors.Is(err, c.wantErr):
			t.Errorf("%s: %v, want %v", c.name, err, c.wantErr)
		}
		if len(a.seen) != 0 {
			t.Errorf("%s: the precondition was asked", c.name)
		}
	}
}

func TestConcurrentUpdatesUnderOnePrecondition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")}).Snapshot()
	unchanged := func(i *identity.Identity) bool { return i.Snapshot() == seen }
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			_, errs[k] = e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: seen.ID, DisplayName: ptr(fmt.Sprint("name ", k)), Precondition: unchanged})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, identity.ErrPreconditionFailed):
			t.Errorf("Update: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d updates passed the precondition, want exactly 1", won)
	}
}
