package identity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

// A new identity names its new player before the player's row exists: the
// player's ID is the identity's UUID under the player's prefix.
func TestNewNamesItsPlayer(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, "")
	p := i.PlayerID()
	if p.IsZero() || p.UUID() != i.ID().UUID() {
		t.Errorf("player %s of identity %s, want the identity's UUID", p, i.ID())
	}
	if !strings.HasPrefix(p.String(), "ply_") {
		t.Errorf("player ID %q, want the ply prefix", p)
	}
	if back := identity.Rehydrate(i.Snapshot()); back.PlayerID() != p {
		t.Errorf("rehydrated player %s, want %s", back.PlayerID(), p)
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	const grace = 24 * time.Hour
	deletedAt := t0.Add(time.Hour)
	tests := []struct {
		name    string
		deleted bool
		at      time.Time
		err     error
	}{
		{"within grace", true, deletedAt.Add(grace - time.Microsecond), nil},
		{"right after the deletion", true, deletedAt, nil},
		{"at purge_after", true, deletedAt.Add(grace), identity.ErrNotFound},
		{"after purge_after", true, deletedAt.Add(grace + time.Hour), identity.ErrNotFound},
		{"live", false, deletedAt, identity.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := newIdentity(t, "Alice")
			if tt.deleted {
				if err := i.Delete(deletedAt); err != nil {
					t.Fatal(err)
				}
			}
			before := i.Snapshot()
			err := i.Restore(grace, tt.at)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Restore: %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				if i.Snapshot() != before {
					t.Errorf("a refused restore changed the identity:\n got %+v\nwant %+v", i.Snapshot(), before)
				}
				return
			}
			if i.IsDeleted() || !i.DeletedAt().IsZero() {
				t.Errorf("restored identity still deleted at %v", i.DeletedAt())
			}
			if i.UpdatedAt() != domain.Timestamp(tt.at) {
				t.Errorf("updated_at %v, want %v", i.UpdatedAt(), domain.Timestamp(tt.at))
			}
			if i.DisplayName().String() != "Alice" || i.PlayerID() != before.PlayerID {
				t.Errorf("restore changed name %q or player %s", i.DisplayName(), i.PlayerID())
			}
		})
	}
}

func TestPurgeAfter(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, "")
	if err := i.Delete(t0); err != nil {
		t.Fatal(err)
	}
	grace := 30 * 24 * time.Hour
	if got, want := i.PurgeAfter(grace), domain.Timestamp(t0).Add(grace); got != want {
		t.Errorf("purge_after %v, want %v", got, want)
	}
	if identity.DefaultDeletionGrace != grace {
		t.Errorf("default grace %v, want 30 days", identity.DefaultDeletionGrace)
	}
}

func TestMoveTo(t *testing.T) {
	t.Parallel()
	later := t0.Add(time.Hour)
	tests := []struct {
		name    string
		deleted bool
		to      func(i *identity.Identity) id.PlayerID
		changed bool
		err     error
		field   string // of a Required error
	}{
		{"another player", false, func(*identity.Identity) id.PlayerID { return id.New[id.Player]() }, true, nil, ""},
		{"its own player", false, func(i *identity.Identity) id.PlayerID { return i.PlayerID() }, false, nil, ""},
		{"no player", false, func(*identity.Identity) id.PlayerID { return id.PlayerID{} }, false, nil, "player_id"},
		{"deleted", true, func(*identity.Identity) id.PlayerID { return id.New[id.Player]() }, false, identity.ErrDeleted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := newIdentity(t, "")
			if tt.deleted {
				if err := i.Delete(t0); err != nil {
					t.Fatal(err)
				}
			}
			before := i.Snapshot()
			to := tt.to(i)
			changed, err := i.MoveTo(to, later)
			switch {
			case tt.field != "":
				if de := invalidErr(t, err); de.Field != tt.field || de.Rule != domain.Required {
					t.Errorf("field, rule = %q, %v; want %q, Required", de.Field, de.Rule, tt.field)
				}
			case !errors.Is(err, tt.err):
				t.Fatalf("MoveTo: %v, want %v", err, tt.err)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			if !tt.changed {
				if i.Snapshot() != before {
					t.Errorf("MoveTo changed nothing but the identity:\n got %+v\nwant %+v", i.Snapshot(), before)
				}
				return
			}
			if i.PlayerID() != to || i.UpdatedAt() != domain.Timestamp(later) {
				t.Errorf("player %s, updated_at %v; want %s, %v", i.PlayerID(), i.UpdatedAt(), to, domain.Timestamp(later))
			}
		})
	}
}

// The player slice's events about identities: a link, an unlink, a
// restore and a purge. Only the purge changes what a credential check
// decides; the purge's data holds nothing personal.
func TestLifecycleEvents(t *testing.T) {
	t.Parallel()
	at := t0.Add(time.Hour)
	before := newIdentity(t, "Alice")
	moved := identity.Rehydrate(before.Snapshot())
	if _, err := moved.MoveTo(id.New[id.Player](), at); err != nil {
		t.Fatal(err)
	}
	deleted := identity.Rehydrate(before.Snapshot())
	if err := deleted.Delete(at); err != nil {
		t.Fatal(err)
	}
	restored := identity.Rehydrate(deleted.Snapshot())
	if err := restored.Restore(time.Hour, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	purgedAt := time.Date(2025, 4, 1, 2, 3, 4, 5678, time.FixedZone("X", 3600))
	tests := []struct {
		name   string
		e      event.Event
		typ    event.Type
		access bool
		at     time.Time
		before any
		after  any
	}{
		{"linked", identity.Linked(before, moved), "identity.linked", false, moved.UpdatedAt(), before, moved},
		{"unlinked", identity.Unlinked(before, moved), "identity.unlinked", false, moved.UpdatedAt(), before, moved},
		{"restored", identity.Changed(deleted, restored), "identity.restored", false, restored.UpdatedAt(), deleted, restored},
		{"purged", identity.Purged(deleted, purgedAt), "identity.purged", true, domain.Timestamp(purgedAt), nil, identity.Tombstone{
			ID: deleted.ID(), AccountID: deleted.AccountID(), GameID: deleted.GameID(), PlayerID: deleted.PlayerID(),
			PurgedAt: domain.Timestamp(purgedAt),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tt.e
			if e.Type != tt.typ || e.ChangesAccess != tt.access {
				t.Errorf("%s, changes access %v; want %s, %v", e.Type, e.ChangesAccess, tt.typ, tt.access)
			}
			if e.Subject != (event.Subject{Resource: "identity", ID: before.ID().String()}) || e.AccountID != accountID {
				t.Errorf("subject %+v of account %s, want identity %s of %s", e.Subject, e.AccountID, before.ID(), accountID)
			}
			if !e.OccurredAt.Equal(tt.at) {
				t.Errorf("occurred at %v, want %v", e.OccurredAt, tt.at)
			}
			if e.Before != tt.before || e.After != tt.after {
				t.Errorf("before %v, after %v; want %v, %v", e.Before, e.After, tt.before, tt.after)
			}
		})
	}
}
