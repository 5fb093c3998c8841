package identity_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

// Only a deletion changes what a credential check decides: a rename must
// not make every replica forget its cached sessions.
func TestEventsSayWhetherAccessChanges(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key, err := identity.NewExternalKey(identity.KindDevice, "device-0001")
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() *identity.Identity {
		i, err := identity.New(id.New[id.Account](), id.New[id.Game](), key, identity.DisplayName{}, at)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	name, _ := identity.ParseDisplayName("Ada")
	before := fresh()
	renamed := identity.Rehydrate(before.Snapshot())
	if _, err := renamed.Rename(name, at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	deleted := identity.Rehydrate(before.Snapshot())
	if err := deleted.Delete(at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		typ    string
		access bool
		got    func() (string, bool)
	}{
		{"created", "identity.created", false, func() (string, bool) { e := identity.Created(before); return string(e.Type), e.ChangesAccess }},
		{"renamed", "identity.updated", false, func() (string, bool) { e := identity.Changed(before, renamed); return string(e.Type), e.ChangesAccess }},
		{"deleted", "identity.deleted", true, func() (string, bool) { e := identity.Changed(before, deleted); return string(e.Type), e.ChangesAccess }},
	} {
		if typ, access := c.got(); typ != c.typ || access != c.access {
			t.Errorf("%s: %s, changes access %v; want %s, %v", c.name, typ, access, c.typ, c.access)
		}
	}
}
