package session_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

// react has the session slice hear the changes of e's repositories, as the
// service wires it, with repo as its sessions.
func (e *env) react(repo ports.SessionRepository) {
	e.t.Helper()
	for _, s := range appsession.Reactions(repo) {
		e.t.Cleanup(e.outbox.Subscribe(s))
	}
}

func (e *env) renameIdentity(identityID id.IdentityID) {
	e.t.Helper()
	name, err := identity.ParseDisplayName("Renamed")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.idRepo.Update(e.ctx, identityID, func(i *identity.Identity) error {
		_, err := i.Rename(name, e.clock.Now())
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) renameGame(gameID id.GameID) {
	e.t.Helper()
	name, err := game.ParseName("Renamed")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.games.Update(e.ctx, gameID, func(g *game.Game) error {
		_, err := g.Apply(game.Change{Name: &name}, e.clock.Now())
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

// players are sessions of several identities, named for the tests below:
// "ada" and "ada again" are one identity's in acme's game, "ada signed out"
// its session revoked before anything happens, "bob" another identity's in
// that game, "ada elsewhere" the same device's in acme's other game, and
// "ada at other" in another account's game.
func (e *env) players() map[string]ports.Tokens {
	e.t.Helper()
	const ada, bob = "device-ada", "device-bob"
	p := map[string]ports.Tokens{
		"ada":            e.device(ada),
		"ada again":      e.device(ada),
		"ada signed out": e.device(ada),
		"bob":            e.device(bob),
		"ada elsewhere":  e.signIn(ports.SignIn{GameID: e.plain, Kind: "DEVICE", ExternalKey: ptr(ada)}),
		"ada at other":   e.signIn(ports.SignIn{GameID: e.theirs, Kind: "DEVICE", ExternalKey: ptr(ada)}),
	}
	if p["ada"].Identity.ID() != p["ada again"].Identity.ID() || p["ada"].Identity.ID() == p["ada elsewhere"].Identity.ID() {
		e.t.Fatal("the players are not the identities the tests need")
	}
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: p["ada signed out"].Session.ID()}); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestReactionsEndTheSessionsOfWhatIsDeleted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(e *env, p map[string]ports.Tokens)
		event   event.Type // what the change records itself
		revoked []string   // the players whose sessions it ends
	}{
		{
			name:    "identity deleted",
			change:  func(e *env, p map[string]ports.Tokens) { e.deleteIdentity(p["ada"].Identity.ID()) },
			event:   "identity.deleted",
			revoked: []string{"ada", "ada again"},
		},
		{
			name:    "game deleted",
			change:  func(e *env, _ map[string]ports.Tokens) { e.deleteGame(e.game) },
			event:   "game.deleted",
			revoked: []string{"ada", "ada again", "bob"},
		},
		{
			name:   "identity renamed",
			change: func(e *env, p map[string]ports.Tokens) { e.renameIdentity(p["ada"].Identity.ID()) },
			event:  "identity.updated",
		},
		{
			name:   "game renamed",
			change: func(e *env, _ map[string]ports.Tokens) { e.renameGame(e.game) },
			event:  "game.updated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.react(e.sessions)
			p := e.players()
			signedOutAt := e.stored(p["ada signed out"].Session.ID()).RevokedAt()
			e.clock.Advance(time.Minute)
			// The reaction acts for whoever made the change.
			actor := event.Actor{Kind: event.ActorAPIKey, ID: e.regular.KeyID.String()}
			e.ctx = event.WithActor(e.ctx, actor)
			events := apptest.RecordedDuring(t, e.events, func() { tt.change(e, p) })
			for _, name := range slices.Sorted(maps.Keys(p)) {
				got := e.stored(p[name].Session.ID()).RevokedAt()
				want := time.Time{}
				switch {
				case name == "ada signed out":
					want = signedOutAt
				case slices.Contains(tt.revoked, name):
					want = e.now()
				}
				if !got.Equal(want) {
					t.Errorf("%s's session: revoked_at %v, want %v", name, got, want)
				}
			}
			// One event of the change, and one session.revoked for each
			// session it ended, in its transaction.
			var wantRevoked, gotRevoked []string
			for _, name := range tt.revoked {
				wantRevoked = append(wantRevoked, p[name].Session.ID().String())
			}
			var own []event.Type
			for _, ev := range events {
				if ev.Actor != actor {
					t.Errorf("%s of %s recorded as the doing of %+v, want %+v", ev.Type, ev.Subject.ID, ev.Actor, actor)
				}
				if ev.Type == "session.revoked" {
					gotRevoked = append(gotRevoked, ev.Subject.ID)
				} else {
					own = append(own, ev.Type)
				}
			}
			if !slices.Equal(own, []event.Type{tt.event}) {
				t.Errorf("the change recorded %v besides its revocations, want %v", own, tt.event)
			}
			slices.Sort(wantRevoked)
			slices.Sort(gotRevoked)
			if !slices.Equal(gotRevoked, wantRevoked) {
				t.Errorf("session.revoked recorded for %v, want %v", gotRevoked, wantRevoked)
			}
		})
	}
}

var errRevoke = errors.New("revocation failed")

// failingRevoker revokes, then fails: a revocation that breaks after some
// of its writes.
type failingRevoker struct{ ports.SessionRepository }

func (r failingRevoker) RevokeIdentity(ctx context.Context, identityID id.IdentityID, now time.Time, most int) error {
	if err := r.SessionRepository.RevokeIdentity(ctx, identityID, now, most); err != nil {
		return err
	}
	return errRevoke
}

func (r failingRevoker) RevokeGame(ctx context.Context, gameID id.GameID, now time.Time, most int) error {
	if err := r.SessionRepository.RevokeGame(ctx, gameID, now, most); err != nil {
		return err
	}
	return errRevoke
}

// No session may outlive its identity or its game: a deletion whose
// revocation fails does not happen.
func TestFailedRevocationRollsBackTheDeletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		delete func(e *env, p map[string]ports.Tokens) error
		live   func(e *env, p map[string]ports.Tokens) error // reads what was to be deleted
	}{
		{
			name: "identity",
			delete: func(e *env, p map[string]ports.Tokens) error {
				_, err := e.idRepo.Update(e.ctx, p["ada"].Identity.ID(), func(i *identity.Identity) error { return i.Delete(e.clock.Now()) })
				return err
			},
			live: func(e *env, p map[string]ports.Tokens) error {
				_, err := e.idRepo.Get(e.ctx, p["ada"].Identity.ID())
				return err
			},
		},
		{
			name: "game",
			delete: func(e *env, _ map[string]ports.Tokens) error {
				_, err := e.games.Update(e.ctx, e.game, func(g *game.Game) error { return g.Delete(e.clock.Now()) })
				return err
			},
			live: func(e *env, _ map[string]ports.Tokens) error {
				_, err := e.games.Get(e.ctx, e.game)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.react(failingRevoker{e.sessions})
			p := e.players()
			e.clock.Advance(time.Minute)
			var err error
			events := apptest.RecordedDuring(t, e.events, func() { err = tt.delete(e, p) })
			if !errors.Is(err, errRevoke) {
				t.Fatalf("deletion: %v, want the revocation's error", err)
			}
			if err := tt.live(e, p); err != nil {
				t.Errorf("after the failed deletion: %v, want it live", err)
			}
			for _, name := range []string{"ada", "ada again", "bob"} {
				if got := e.stored(p[name].Session.ID()); got.IsRevoked() {
					t.Errorf("%s's session revoked at %v by a deletion that failed", name, got.RevokedAt())
				}
			}
			if len(events) != 0 {
				t.Errorf("the failed deletion left %d events, the first %s", len(events), events[0].Type)
			}
			// Still signed in, as nothing happened.
			e.authenticate(p["ada"])
		})
	}
}

func TestReactionsRefuseAnEventOfNoID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device(deviceKey)
	for _, s := range appsession.Reactions(e.sessions) {
		for _, subject := range []string{"", "not an ID", tok.Session.ID().String()} {
			ev := event.Event{Type: event.Type(s.Types[0]), Subject: event.Subject{ID: subject}, OccurredAt: e.clock.Now()}
			if err := s.Handle(e.ctx, ev); err == nil {
				t.Errorf("%s handled %s of %q", s.Name, ev.Type, subject)
			}
		}
	}
	if got := e.stored(tok.Session.ID()); got.IsRevoked() {
		t.Errorf("a malformed event revoked a session at %v", got.RevokedAt())
	}
}

// A deletion ends at most RevokeWithDeletion sessions in its transaction,
// however many there are, so that it fits in a request; the others grant
// nothing all the same, and the purge's sweep ends them, as the system.
func TestADeletionRevokesABoundedNumberOfSessions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		delete func(e *env, tok ports.Tokens)
	}{
		{"identity", func(e *env, tok ports.Tokens) { e.deleteIdentity(tok.Identity.ID()) }},
		{"game", func(e *env, _ ports.Tokens) { e.deleteGame(e.game) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.react(e.sessions)
			tok := e.device(deviceKey)
			// The others straight in the repository: a thousand sign-ins
			// would only be slower.
			const beyond = 10
			ids := []id.SessionID{tok.Session.ID()}
			for k := range appsession.RevokeWithDeletion + beyond - 1 {
				i := tok.Identity
				s := session.New(i.ID(), i.AccountID(), i.GameID(), e.clock.Now(), lifetimes)
				if err := e.sessions.Create(e.ctx, s, []byte(fmt.Sprintf("refresh token hash %d", k))); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, s.ID())
			}
			revoked := func() (n int, live id.SessionID) {
				for _, s := range ids {
					if e.stored(s).IsRevoked() {
						n++
					} else {
						live = s
					}
				}
				return n, live
			}

			e.clock.Advance(time.Minute)
			actor := event.Actor{Kind: event.ActorAPIKey, ID: e.regular.KeyID.String()}
			e.ctx = event.WithActor(e.ctx, actor)
			events := apptest.RecordedDuring(t, e.events, func() { tt.delete(e, tok) })
			n, live := revoked()
			if all, by := revocations(events, actor); n != appsession.RevokeWithDeletion || all != n || by != n {
				t.Fatalf("the deletion revoked %d of %d sessions and recorded %d session.revoked, %d as its actor, want %d of each",
					n, len(ids), all, by, appsession.RevokeWithDeletion)
			}
			if _, err := e.sessions.Access(e.ctx, live, e.clock.Now()); !errors.Is(err, session.ErrAccessInvalid) {
				t.Errorf("a session the deletion left: access %v, want %v", err, session.ErrAccessInvalid)
			}

			e.clock.Advance(time.Minute)
			var swept int
			events = apptest.RecordedDuring(t, e.events, func() {
				var err error
				if swept, err = e.sessions.RevokeOrphaned(context.Background(), e.clock.Now(), math.MaxInt); err != nil {
					t.Fatal(err)
				}
			})
			all, by := revocations(events, event.System)
			if n, _ := revoked(); n != len(ids) || swept != beyond || all != beyond || by != beyond {
				t.Fatalf("after the sweep %d of %d sessions are revoked; it reported %d and recorded %d session.revoked, %d as the system, want %d",
					n, len(ids), swept, all, by, beyond)
			}
		})
	}
}

// revocations counts the session.revoked events, and those that actor
// made.
func revocations(events []*ports.Recorded, actor event.Actor) (all, by int) {
	for _, e := range events {
		if e.Type == "session.revoked" {
			all++
			if e.Actor == actor {
				by++
			}
		}
	}
	return all, by
}
