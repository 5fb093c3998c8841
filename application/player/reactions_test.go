package player_test

import (
	"errors"
	"testing"
	"time"

	appplayer "github.com/leadr-oss/identity/application/player"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

// Every identity belongs to a player: creating one creates its player, in
// its transaction; finding an existing one creates nothing.
func TestANewIdentityComesWithItsPlayer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.key()
	var i *identity.Identity
	got := e.during(func() { i = e.identity(e.acme, key) })
	if i.PlayerID().UUID() != i.ID().UUID() {
		t.Errorf("player %s of identity %s, want the identity's UUID", i.PlayerID(), i.ID())
	}
	sameEvents(t, "the identity's creation", got, records(rec("identity.created", i.ID()), rec("player.created", i.PlayerID())))
	p := e.stored(i.PlayerID())
	if !p.Holds(i.ID()) || len(p.Identities()) != 1 || p.AccountID() != e.acme || p.GameID() != e.game || !p.CreatedAt().Equal(i.CreatedAt()) {
		t.Errorf("player %s of %s/%s created %v holds %v", p.ID(), p.AccountID(), p.GameID(), p.CreatedAt(), ids(p))
	}

	got = e.during(func() {
		again, created, err := e.identities.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{GameID: e.game, Kind: "DEVICE", ExternalKey: key})
		if err != nil || created || again.PlayerID() != p.ID() {
			t.Errorf("GetOrCreate again: created %v, player %v, %v; want the existing one's", created, again, err)
		}
	})
	if len(got) != 0 {
		t.Errorf("finding the identity again recorded %v", got)
	}
}

// No session starts for a banned player, whichever of its identities signs
// in; the refusal says when the ban ends, and leaves nothing behind.
func TestNoSessionStartsForABannedPlayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(e *env, p *player.Player) // at the start, an hour before the sign-in
		banned  bool
		expires func(e *env) any // the refusal's expires_at
	}{
		{name: "not banned", prepare: func(*env, *player.Player) {}},
		{name: "banned until lifted", prepare: func(e *env, p *player.Player) { e.ban(p, nil) }, banned: true,
			expires: func(*env) any { return nil }},
		{name: "banned until tomorrow", prepare: func(e *env, p *player.Player) { e.ban(p, ptr(e.clock.Now().Add(25*time.Hour))) }, banned: true,
			expires: func(e *env) any { return domain.Timestamp(e.clock.Now().Add(24 * time.Hour)) }},
		{name: "a ban that expired", prepare: func(e *env, p *player.Player) { e.ban(p, ptr(e.clock.Now().Add(time.Hour))) }},
		{name: "a ban lifted", prepare: func(e *env, p *player.Player) { liftBan(e, p, e.ban(p, nil)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.player(e.acme, 2)
			tt.prepare(e, p)
			e.clock.Advance(time.Hour)
			for _, i := range p.Identities() {
				var s *session.Session
				var err error
				got := e.during(func() { s, err = e.signIn(i) })
				if !tt.banned {
					if err != nil {
						t.Fatalf("sign-in of %s: %v", i.ID(), err)
					}
					sameEvents(t, "the sign-in", got, records(rec("session.created", s.ID())))
					continue
				}
				if !errors.Is(err, player.ErrBanned) {
					t.Fatalf("sign-in of %s: %v, want %v", i.ID(), err, player.ErrBanned)
				}
				if f, want := facts(t, err), tt.expires(e); f["expires_at"] != want || !hasKey(f, "expires_at") {
					t.Errorf("facts %v, want expires_at %v", f, want)
				}
				if _, err := e.sessions.Get(e.ctx, s.ID()); !errors.Is(err, session.ErrNotFound) {
					t.Errorf("the refused session: %v, want %v", err, session.ErrNotFound)
				}
				if len(got) != 0 {
					t.Errorf("a refused sign-in recorded %v", got)
				}
			}
		})
	}
}

// The reactions hear only what they subscribed to, and refuse an event
// that does not carry what its type promises rather than guess.
func TestReactionsRefuseAnEventOfAnotherShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	i := e.identity(e.acme, e.key())
	for _, s := range appplayer.Reactions(e.players, e.clock.Now) {
		if len(s.Types) != 1 {
			t.Errorf("%s hears %v, want one type", s.Name, s.Types)
			continue
		}
		ev := event.Event{Type: event.Type(s.Types[0]), After: i.Snapshot(), OccurredAt: e.clock.Now()}
		if err := s.Handle(e.ctx, ev); err == nil {
			t.Errorf("%s handled %s of a %T", s.Name, ev.Type, ev.After)
		}
	}
}

// hasKey: a ban until lifted says so with expires_at null, not by leaving
// it out.
func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
