package player_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
)

var (
	accountID = id.New[id.Account]()
	gameID    = id.New[id.Game]()
	// t0 has nanoseconds, which the aggregate drops.
	t0    = time.Date(2026, 3, 4, 12, 0, 0, 123456789, time.UTC)
	actor = event.Actor{Kind: event.ActorAPIKey, ID: "key_test"}
)

const grace = 24 * time.Hour

// keys numbers the identities' keys; tests run in parallel.
var keys atomic.Int64

// newIdentity is a new identity of accountID's gameID with a key of its
// own, which names a new player.
func newIdentity(t *testing.T, account id.AccountID, game id.GameID) *identity.Identity {
	t.Helper()
	key, err := identity.NewExternalKey(identity.KindDevice, fmt.Sprintf("device-%04d", keys.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	i, err := identity.New(account, game, key, identity.DisplayName{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// newPlayer is the player of a new identity, holding n identities in all
// (the others linked at t0).
func newPlayer(t *testing.T, n int) *player.Player {
	t.Helper()
	p := player.Of(newIdentity(t, accountID, gameID))
	for range n - 1 {
		if err := p.Link(newIdentity(t, accountID, gameID), t0); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func mustReason(t *testing.T, s string) player.Reason {
	t.Helper()
	r, err := player.ParseReason(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// banned is p banned at t0 until expiresAt (zero: until lifted).
func banned(t *testing.T, p *player.Player, expiresAt time.Time) *player.Ban {
	t.Helper()
	b, err := p.BanFor(mustReason(t, "Cheating"), expiresAt, actor, t0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// state is everything of p, its identities' and ban's states included,
// in a form that compares by value (no identities: nil).
type state struct {
	player.Snapshot
	Identities []identity.Snapshot
	Ban        player.BanSnapshot
}

func stateOf(p *player.Player) state {
	s := state{Snapshot: p.Snapshot()}
	for _, i := range s.Snapshot.Identities {
		s.Identities = append(s.Identities, i.Snapshot())
	}
	if s.Snapshot.Ban != nil {
		s.Ban = *s.Snapshot.Ban
	}
	s.Snapshot.Identities, s.Snapshot.Ban = nil, nil
	return s
}

// unchanged fails t unless p is as before, a clone taken earlier.
func unchanged(t *testing.T, what string, before, p *player.Player) {
	t.Helper()
	if got, want := stateOf(p), stateOf(before); !reflect.DeepEqual(got, want) {
		t.Errorf("%s changed the player:\n got %+v\nwant %+v", what, got, want)
	}
}

func identityIDs(p *player.Player) []id.IdentityID {
	var out []id.IdentityID
	for _, i := range p.Identities() {
		out = append(out, i.ID())
	}
	return out
}

func TestOf(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, accountID, gameID)
	p := player.Of(i)
	if p.ID() != i.PlayerID() || p.ID().UUID() != i.ID().UUID() {
		t.Errorf("player %s of identity %s naming %s", p.ID(), i.ID(), i.PlayerID())
	}
	if p.AccountID() != accountID || p.GameID() != gameID {
		t.Errorf("account %s, game %s; want %s, %s", p.AccountID(), p.GameID(), accountID, gameID)
	}
	if !slices.Equal(identityIDs(p), []id.IdentityID{i.ID()}) || !p.Holds(i.ID()) {
		t.Errorf("identities %v, want [%s]", identityIDs(p), i.ID())
	}
	if p.CreatedAt() != i.CreatedAt() || p.UpdatedAt() != i.CreatedAt() {
		t.Errorf("created_at %v, updated_at %v; want the identity's %v", p.CreatedAt(), p.UpdatedAt(), i.CreatedAt())
	}
	if p.IsDeleted() || p.IsPurged() || p.IsClosed() || p.Ban() != nil {
		t.Errorf("a new player is deleted %v, purged %v, closed %v, banned %v", p.IsDeleted(), p.IsPurged(), p.IsClosed(), p.Ban())
	}
}

func TestSnapshotRehydrateRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 2)
	banned(t, p, t0.Add(time.Hour))
	back := player.Rehydrate(p.Snapshot())
	if got, want := stateOf(back), stateOf(p); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the snapshot:\n got %+v\nwant %+v", got, want)
	}
	if back.Ban() == nil || back.Ban().ID() != p.Ban().ID() {
		t.Errorf("rehydrated ban %v, want %s", back.Ban(), p.Ban().ID())
	}
}

// The lifecycle: live → deleted → restored, or → purged; a merge closes a
// player. A deleted player refuses every change but a restore or a purge
// (ErrDeleted); a purged or closed one is gone (ErrNotFound).
func TestLifecycleRefusals(t *testing.T) {
	t.Parallel()
	states := []struct {
		name string
		make func(t *testing.T, p *player.Player)
		// gone: every change is ErrNotFound; else ErrDeleted.
		gone bool
	}{
		{"deleted", func(t *testing.T, p *player.Player) {
			if err := p.Delete(grace, t0); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"purged", func(t *testing.T, p *player.Player) {
			if err := p.Purge(t0); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"closed", func(t *testing.T, p *player.Player) {
			if err := newPlayer(t, 1).Absorb(p, t0); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	now := t0.Add(time.Minute)
	ops := []struct {
		name string
		do   func(t *testing.T, p *player.Player, held id.IdentityID) error
		// deleted is the answer of a deleted player, when not ErrDeleted.
		deleted error
	}{
		{"link", func(t *testing.T, p *player.Player, _ id.IdentityID) error {
			return p.Link(newIdentity(t, accountID, gameID), now)
		}, player.ErrDeleted},
		{"absorb another", func(t *testing.T, p *player.Player, _ id.IdentityID) error {
			return p.Absorb(newPlayer(t, 1), now)
		}, player.ErrDeleted},
		{"be absorbed", func(t *testing.T, p *player.Player, _ id.IdentityID) error {
			return newPlayer(t, 1).Absorb(p, now)
		}, player.ErrDeleted},
		{"unlink", func(_ *testing.T, p *player.Player, held id.IdentityID) error {
			_, err := p.Unlink(held, now)
			return err
		}, player.ErrDeleted},
		{"ban", func(t *testing.T, p *player.Player, _ id.IdentityID) error {
			_, err := p.BanFor(mustReason(t, "Cheating"), time.Time{}, actor, now)
			return err
		}, player.ErrDeleted},
		// Deleting again, and purging, are what a deleted player allows.
		{"delete", func(_ *testing.T, p *player.Player, _ id.IdentityID) error { return p.Delete(grace, now) }, nil},
		{"purge", func(_ *testing.T, p *player.Player, _ id.IdentityID) error { return p.Purge(now) }, nil},
		{"restore", func(_ *testing.T, p *player.Player, _ id.IdentityID) error { return p.Restore(now) }, nil},
	}
	for _, s := range states {
		for _, op := range ops {
			t.Run(s.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				p := newPlayer(t, 2)
				held := p.Identities()[0].ID()
				s.make(t, p)
				before := p.Clone()
				err := op.do(t, p, held)
				want := op.deleted
				if s.gone {
					want = player.ErrNotFound
				}
				if want == nil {
					if err != nil {
						t.Fatalf("%s of a %s player: %v", op.name, s.name, err)
					}
					return
				}
				if !errors.Is(err, want) {
					t.Fatalf("%s of a %s player: %v, want %v", op.name, s.name, err, want)
				}
				unchanged(t, "a refused "+op.name, before, p)
			})
		}
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 2)
	at := time.Date(2026, 3, 5, 7, 8, 9, 987654321, time.FixedZone("X", -5*3600))
	if err := p.Delete(grace, at); err != nil {
		t.Fatal(err)
	}
	want := domain.Timestamp(at)
	if !p.IsDeleted() || p.DeletedAt() != want || p.PurgeAfter() != want.Add(grace) || p.UpdatedAt() != want {
		t.Errorf("deleted_at %v, purge_after %v, updated_at %v; want %v, %v, %v",
			p.DeletedAt(), p.PurgeAfter(), p.UpdatedAt(), want, want.Add(grace), want)
	}
	if len(p.Identities()) != 2 {
		t.Fatalf("a deleted player holds %d identities, want those deleted with it (2)", len(p.Identities()))
	}
	for _, i := range p.Identities() {
		if i.DeletedAt() != want {
			t.Errorf("identity %s deleted at %v, want %v", i.ID(), i.DeletedAt(), want)
		}
	}

	// Deleting it again changes nothing: not the dates, not the grace.
	before := p.Clone()
	if err := p.Delete(2*grace, at.Add(time.Hour)); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	unchanged(t, "a second Delete", before, p)
}

func TestRestore(t *testing.T) {
	t.Parallel()
	deletedAt := t0.Add(time.Hour)
	purgeAfter := domain.Timestamp(deletedAt).Add(grace)
	tests := []struct {
		name string
		at   time.Time
		err  error
	}{
		{"right after the deletion", deletedAt, nil},
		{"just before purge_after", purgeAfter.Add(-time.Microsecond), nil},
		{"at purge_after", purgeAfter, player.ErrNotFound},
		{"after purge_after", purgeAfter.Add(time.Hour), player.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 2)
			live := p.Clone()
			if err := p.Delete(grace, deletedAt); err != nil {
				t.Fatal(err)
			}
			before := p.Clone()
			err := p.Restore(tt.at)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Restore at %v: %v, want %v", tt.at, err, tt.err)
			}
			if tt.err != nil {
				unchanged(t, "a refused Restore", before, p)
				return
			}
			if p.IsDeleted() || !p.DeletedAt().IsZero() || !p.PurgeAfter().IsZero() || p.UpdatedAt() != domain.Timestamp(tt.at) {
				t.Errorf("restored: deleted_at %v, purge_after %v, updated_at %v", p.DeletedAt(), p.PurgeAfter(), p.UpdatedAt())
			}
			if !slices.Equal(identityIDs(p), identityIDs(live)) {
				t.Errorf("restored identities %v, want %v", identityIDs(p), identityIDs(live))
			}
			for _, i := range p.Identities() {
				if i.IsDeleted() || i.PlayerID() != p.ID() {
					t.Errorf("identity %s: deleted at %v, player %s", i.ID(), i.DeletedAt(), i.PlayerID())
				}
			}
		})
	}
}

func TestRestoreLiveChangesNothing(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 1)
	before := p.Clone()
	if err := p.Restore(t0.Add(time.Hour)); err != nil {
		t.Fatalf("Restore of a live player: %v", err)
	}
	unchanged(t, "Restore of a live player", before, p)
}

func TestPurge(t *testing.T) {
	t.Parallel()
	deletedAt, purgedAt := t0.Add(time.Hour), t0.Add(2*time.Hour)
	for _, tt := range []struct {
		name          string
		deleted       bool
		wantDeletedAt time.Time
	}{
		{"live", false, domain.Timestamp(purgedAt)},
		{"deleted", true, domain.Timestamp(deletedAt)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 2)
			banned(t, p, time.Time{})
			if tt.deleted {
				if err := p.Delete(grace, deletedAt); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Purge(purgedAt); err != nil {
				t.Fatal(err)
			}
			at := domain.Timestamp(purgedAt)
			if !p.IsPurged() || p.PurgedAt() != at || p.DeletedAt() != tt.wantDeletedAt || p.UpdatedAt() != at {
				t.Errorf("purged_at %v, deleted_at %v, updated_at %v; want %v, %v, %v",
					p.PurgedAt(), p.DeletedAt(), p.UpdatedAt(), at, tt.wantDeletedAt, at)
			}
			if len(p.Identities()) != 0 || p.Ban() != nil {
				t.Errorf("a purged player holds %d identities and ban %v, want none", len(p.Identities()), p.Ban())
			}
			// Nothing brings it back.
			if err := p.Restore(purgedAt.Add(-time.Minute)); !errors.Is(err, player.ErrNotFound) {
				t.Errorf("Restore of a purged player: %v, want %v", err, player.ErrNotFound)
			}
		})
	}
}

func TestAbsorb(t *testing.T) {
	t.Parallel()
	into, from := newPlayer(t, 1), newPlayer(t, 2)
	want := append(identityIDs(into), identityIDs(from)...)
	now := t0.Add(time.Hour)
	if err := into.Absorb(from, now); err != nil {
		t.Fatal(err)
	}
	if got := identityIDs(into); !slices.Equal(got, want) {
		t.Errorf("identities %v, want %v", got, want)
	}
	for _, i := range into.Identities() {
		if i.PlayerID() != into.ID() {
			t.Errorf("identity %s names player %s, want %s", i.ID(), i.PlayerID(), into.ID())
		}
	}
	if into.UpdatedAt() != domain.Timestamp(now) {
		t.Errorf("updated_at %v, want %v", into.UpdatedAt(), domain.Timestamp(now))
	}
	if !from.IsClosed() || from.MergedInto() != into.ID() || len(from.Identities()) != 0 || from.UpdatedAt() != domain.Timestamp(now) {
		t.Errorf("the other: closed %v into %s, %d identities, updated_at %v; want closed into %s, none, %v",
			from.IsClosed(), from.MergedInto(), len(from.Identities()), from.UpdatedAt(), into.ID(), domain.Timestamp(now))
	}
	if into.IsClosed() {
		t.Error("the player that absorbed is closed")
	}
}

func TestAbsorbItselfChangesNothing(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 2)
	before := p.Clone()
	if err := p.Absorb(p, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unchanged(t, "absorbing itself", before, p)
}

// Neither side of a merge may be banned; the refusal says when the ban
// ends.
func TestAbsorbRefuses(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2026, 4, 1, 0, 0, 0, 999, time.UTC)
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		prepare func(t *testing.T, into, from *player.Player) *player.Player // the other, if not from
		err     error
		expires any // the Facts' expires_at of ErrBanned
	}{
		{"into banned until lifted", func(t *testing.T, into, _ *player.Player) *player.Player {
			banned(t, into, time.Time{})
			return nil
		}, player.ErrBanned, nil},
		{"from banned until a date", func(t *testing.T, _, from *player.Player) *player.Player {
			banned(t, from, expiry)
			return nil
		}, player.ErrBanned, domain.Timestamp(expiry)},
		{"another game's player", func(t *testing.T, _, _ *player.Player) *player.Player {
			return player.Of(newIdentity(t, accountID, id.New[id.Game]()))
		}, player.ErrNotFound, nil},
		{"another account's player", func(t *testing.T, _, _ *player.Player) *player.Player {
			return player.Of(newIdentity(t, id.New[id.Account](), gameID))
		}, player.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			into, from := newPlayer(t, 1), newPlayer(t, 1)
			if other := tt.prepare(t, into, from); other != nil {
				from = other
			}
			intoBefore, fromBefore := into.Clone(), from.Clone()
			err := into.Absorb(from, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Absorb: %v, want %v", err, tt.err)
			}
			if tt.err == player.ErrBanned {
				var de *domain.Error
				if !errors.As(err, &de) {
					t.Fatalf("%v is not a *domain.Error", err)
				}
				if got, ok := de.Facts["expires_at"]; !ok || got != tt.expires {
					t.Errorf("facts %v, want expires_at %v", de.Facts, tt.expires)
				}
			}
			unchanged(t, "a refused merge", intoBefore, into)
			unchanged(t, "a refused merge", fromBefore, from)
		})
	}
}

func TestLink(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		prepare func(t *testing.T, p *player.Player) *identity.Identity
		err     error
		joins   bool
	}{
		{"a new identity", func(t *testing.T, _ *player.Player) *identity.Identity {
			return newIdentity(t, accountID, gameID)
		}, nil, true},
		{"one it holds", func(_ *testing.T, p *player.Player) *identity.Identity {
			return p.Identities()[0]
		}, nil, false},
		{"another game's", func(t *testing.T, _ *player.Player) *identity.Identity {
			return newIdentity(t, accountID, id.New[id.Game]())
		}, player.ErrIdentityNotFound, false},
		{"another account's", func(t *testing.T, _ *player.Player) *identity.Identity {
			return newIdentity(t, id.New[id.Account](), gameID)
		}, player.ErrIdentityNotFound, false},
		{"a deleted identity", func(t *testing.T, _ *player.Player) *identity.Identity {
			i := newIdentity(t, accountID, gameID)
			if err := i.Delete(t0); err != nil {
				t.Fatal(err)
			}
			return i
		}, identity.ErrDeleted, false},
		{"into a banned player", func(t *testing.T, p *player.Player) *identity.Identity {
			banned(t, p, time.Time{})
			return newIdentity(t, accountID, gameID)
		}, player.ErrBanned, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			i := tt.prepare(t, p)
			before := p.Clone()
			err := p.Link(i, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Link: %v, want %v", err, tt.err)
			}
			if !tt.joins {
				unchanged(t, "Link of "+tt.name, before, p)
				return
			}
			if !p.Holds(i.ID()) || i.PlayerID() != p.ID() || len(p.Identities()) != 2 {
				t.Errorf("after Link: holds %v, identity names %s, %d identities", p.Holds(i.ID()), i.PlayerID(), len(p.Identities()))
			}
			if p.UpdatedAt() != domain.Timestamp(now) || i.UpdatedAt() != domain.Timestamp(now) {
				t.Errorf("updated_at %v and identity's %v, want %v", p.UpdatedAt(), i.UpdatedAt(), domain.Timestamp(now))
			}
		})
	}
}

func TestUnlink(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	tests := []struct {
		name       string
		identities int
		prepare    func(t *testing.T, p *player.Player) id.IdentityID
		err        error
	}{
		{"one of two", 2, func(_ *testing.T, p *player.Player) id.IdentityID { return p.Identities()[1].ID() }, nil},
		{"the player's own first", 2, func(_ *testing.T, p *player.Player) id.IdentityID { return p.Identities()[0].ID() }, nil},
		{"the last", 1, func(_ *testing.T, p *player.Player) id.IdentityID { return p.Identities()[0].ID() }, player.ErrLastIdentity},
		{"not the player's", 2, func(t *testing.T, _ *player.Player) id.IdentityID {
			return newIdentity(t, accountID, gameID).ID()
		}, player.ErrIdentityNotFound},
		{"unknown", 2, func(*testing.T, *player.Player) id.IdentityID { return id.New[id.Identity]() }, player.ErrIdentityNotFound},
		{"of a banned player", 2, func(t *testing.T, p *player.Player) id.IdentityID {
			banned(t, p, t0.Add(2*time.Hour))
			return p.Identities()[1].ID()
		}, player.ErrBanned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, tt.identities)
			gone := tt.prepare(t, p)
			before := p.Clone()
			alone, err := p.Unlink(gone, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Unlink: %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				if alone != nil {
					t.Errorf("a refused unlink made player %s", alone.ID())
				}
				unchanged(t, "a refused unlink", before, p)
				return
			}
			if p.Holds(gone) || len(p.Identities()) != tt.identities-1 {
				t.Errorf("the player still holds %s (%d identities)", gone, len(p.Identities()))
			}
			if !slices.Equal(identityIDs(alone), []id.IdentityID{gone}) {
				t.Fatalf("the new player holds %v, want [%s]", identityIDs(alone), gone)
			}
			if alone.ID().IsZero() || alone.ID() == p.ID() || alone.Identities()[0].PlayerID() != alone.ID() {
				t.Errorf("new player %s (old %s), its identity names %s", alone.ID(), p.ID(), alone.Identities()[0].PlayerID())
			}
			at := domain.Timestamp(now)
			if alone.AccountID() != accountID || alone.GameID() != gameID || alone.CreatedAt() != at || alone.UpdatedAt() != at {
				t.Errorf("new player of %s/%s created %v updated %v", alone.AccountID(), alone.GameID(), alone.CreatedAt(), alone.UpdatedAt())
			}
			if alone.IsDeleted() || alone.Ban() != nil || p.UpdatedAt() != at {
				t.Errorf("new player deleted %v, banned %v; old player's updated_at %v", alone.IsDeleted(), alone.Ban(), p.UpdatedAt())
			}
		})
	}
}

// A ban ends at its expiry by itself: no job has to lift it.
func TestCheckNotBannedAroundTheExpiry(t *testing.T) {
	t.Parallel()
	expiry := domain.Timestamp(t0.Add(time.Hour))
	for _, tt := range []struct {
		name   string
		at     time.Time
		banned bool
	}{
		{"when banned", t0, true},
		{"just before the expiry", expiry.Add(-time.Microsecond), true},
		{"at the expiry", expiry, false},
		{"after the expiry", expiry.Add(time.Hour), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			banned(t, p, expiry)
			err := p.CheckNotBanned(tt.at)
			if !tt.banned {
				if err != nil {
					t.Errorf("CheckNotBanned: %v, want none", err)
				}
				return
			}
			if !errors.Is(err, player.ErrBanned) {
				t.Fatalf("CheckNotBanned: %v, want %v", err, player.ErrBanned)
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Facts["expires_at"] != expiry {
				t.Errorf("facts %v, want expires_at %v", de.Facts, expiry)
			}
			if de.Category != domain.CategoryForbidden || de.Message != "Player is banned" {
				t.Errorf("category %v, message %q", de.Category, de.Message)
			}
		})
	}
	// Past its expiry, the ban keeps nothing from happening.
	p := newPlayer(t, 2)
	banned(t, p, expiry)
	if _, err := p.Unlink(p.Identities()[1].ID(), expiry); err != nil {
		t.Errorf("Unlink at the ban's expiry: %v", err)
	}
}

// A player holds at most MaxIdentities: a link or a merge past it is
// refused, and the merge moves nothing.
func TestIdentitiesAreBounded(t *testing.T) {
	full := newPlayer(t, player.MaxIdentities)
	if err := full.Link(newIdentity(t, accountID, gameID), t0); !errors.Is(err, player.ErrTooManyIdentities) {
		t.Fatalf("link past the bound: %v", err)
	}
	half, other := newPlayer(t, player.MaxIdentities/2), newPlayer(t, player.MaxIdentities/2+1)
	if err := half.Absorb(other, t0); !errors.Is(err, player.ErrTooManyIdentities) {
		t.Fatalf("merge past the bound: %v", err)
	}
	if len(half.Identities()) != player.MaxIdentities/2 || len(other.Identities()) != player.MaxIdentities/2+1 || other.IsClosed() {
		t.Fatal("a refused merge moved identities")
	}
}
