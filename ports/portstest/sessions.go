package portstest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Sessions() ports.SessionRepository { return repository[ports.SessionRepository](e) }

func init() {
	register("Sessions", func(t *testing.T, s Stores) { runSessions(t, s.Shared) })
	register("SessionRotation", func(t *testing.T, s Stores) { runRotation(t, s.Shared) })
	register("SessionNonces", func(t *testing.T, s Stores) { runNonces(t, s.Shared) })
	register("SessionLists", func(t *testing.T, s Stores) { runSessionLists(t, s.Shared) })
	// Purge deletes across accounts: it runs on stores of its own, so that
	// it neither takes other tests' sessions nor finds them.
	register("SessionPurge", func(t *testing.T, s Stores) { runPurge(t, s.Fresh) })
	// So does the sweep of orphaned sessions, which would end those that
	// other tests' deletions leave on purpose.
	register("SessionOrphans", func(t *testing.T, s Stores) { runOrphans(t, s.Fresh) })
}

var sessionLifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}

// unbounded is a bound on revocations that no test reaches.
const unbounded = math.MaxInt

// newPlayer is a live identity in a live game of an account of its own.
func newPlayer(t *testing.T, env Env) *identity.Identity {
	t.Helper()
	acc := NewAccount(t, env.Tenancy())
	return create(t, env.Identities(), acc.ID(), device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "", t0))
}

// newHash stands for the HMAC of a refresh token or a nonce: 32 bytes of
// anything, NUL and high bytes included.
func newHash() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// newSession stores a session of the identity started at, and returns it
// with the hash of its first refresh token.
func newSession(t *testing.T, env Env, i *identity.Identity, at time.Time) (*session.Session, []byte) {
	t.Helper()
	s := session.New(i.ID(), i.AccountID(), i.GameID(), at, sessionLifetimes)
	hash := newHash()
	must(t, env.Sessions().Create(ctx(t), s, hash))
	return s, hash
}

func sameSession(t *testing.T, got, want *session.Session) {
	t.Helper()
	if got.Snapshot() != want.Snapshot() {
		t.Fatalf("session differs:\n got  %+v\n want %+v", got.Snapshot(), want.Snapshot())
	}
}

func getSession(t *testing.T, env Env, sessionID id.SessionID) *session.Session {
	t.Helper()
	s, err := env.Sessions().Get(ctx(t), sessionID)
	must(t, err)
	return s
}

// unchanged fails unless the stored session is still want.
func unchanged(t *testing.T, env Env, want *session.Session) {
	t.Helper()
	sameSession(t, getSession(t, env, want.ID()), want)
}

func refreshAt(at time.Time) func(*session.Session) error {
	return func(s *session.Session) error { return s.Refresh(at, sessionLifetimes) }
}

func revokeAt(at time.Time) func(*session.Session) error {
	return func(s *session.Session) error { s.Revoke(at); return nil }
}

// notCalled is an fn that a refused call must never reach.
func notCalled(t *testing.T) func(*session.Session) error {
	return func(*session.Session) error {
		t.Error("fn called")
		return errors.New("fn called")
	}
}

// atOnce runs fn for 0…n-1, each in a goroutine, all let go together, and
// returns their errors in that order.
func atOnce(n int, fn func(g int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			errs[g] = fn(g)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func revoke(t *testing.T, env Env, s *session.Session, at time.Time) *session.Session {
	t.Helper()
	revoked, err := env.Sessions().Update(ctx(t), s.ID(), revokeAt(at))
	must(t, err)
	return revoked
}

func runSessions(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("created session reads back exactly", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		i := newPlayer(t, env)
		// New keeps microseconds, as stores do.
		for _, at := range []time.Time{t0, t0.Add(1500 * time.Nanosecond), t0.Add(time.Hour)} {
			s, _ := newSession(t, env, i, at)
			unchanged(t, env, s)
			got, err := env.Sessions().Access(ctx(t), s.ID(), at)
			must(t, err)
			sameSession(t, got, s)
		}
		s, _ := newSession(t, env, i, t0)
		revoked := revoke(t, env, s, t0.Add(time.Minute+999*time.Nanosecond))
		unchanged(t, env, revoked)
		if !revoked.RevokedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("revoked at %v, want %v", revoked.RevokedAt(), t0.Add(time.Minute))
		}
	})

	t.Run("unknown session is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, err := env.Sessions().Get(ctx(t), id.New[id.Session]())
		wantErr(t, err, session.ErrNotFound)
		_, err = env.Sessions().Update(ctx(t), id.New[id.Session](), notCalled(t))
		wantErr(t, err, session.ErrNotFound)
	})

	t.Run("a session needs its live identity in its live game", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g, other := NewGame(t, env.Games(), acc.ID()), NewGame(t, env.Games(), acc.ID())
		deleted := create(t, env.Identities(), acc.ID(), device(g.ID(), 1, "", t0))
		_, err := env.Identities().Update(ctx(t), deleted.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
		must(t, err)
		gone := NewGame(t, env.Games(), acc.ID())
		inGone := create(t, env.Identities(), acc.ID(), device(gone.ID(), 2, "", t0))
		_, err = env.Games().Update(ctx(t), gone.ID(), func(g *game.Game) error { return g.Delete(t0) })
		must(t, err)
		live := create(t, env.Identities(), acc.ID(), device(g.ID(), 3, "", t0))
		for _, c := range []struct {
			name    string
			session *session.Session
			want    error
		}{
			{"unknown identity", session.New(id.New[id.Identity](), acc.ID(), g.ID(), t0, sessionLifetimes), identity.ErrNotFound},
			{"deleted identity", session.New(deleted.ID(), acc.ID(), g.ID(), t0, sessionLifetimes), identity.ErrNotFound},
			{"deleted game", session.New(inGone.ID(), acc.ID(), gone.ID(), t0, sessionLifetimes), game.ErrNotFound},
			{"another game than the identity's", session.New(live.ID(), acc.ID(), other.ID(), t0, sessionLifetimes), identity.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				hash := newHash()
				wantErr(t, env.Sessions().Create(ctx(t), c.session, hash), c.want)
				_, err := env.Sessions().Get(ctx(t), c.session.ID())
				wantErr(t, err, session.ErrNotFound)
				_, err = env.Sessions().Rotate(ctx(t), hash, newHash(), t0.Add(3*time.Hour), notCalled(t))
				wantErr(t, err, session.ErrRefreshInvalid)
			})
		}
	})

	t.Run("access needs an active session of a live identity and game", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		access := func(s id.SessionID, at time.Time) error {
			_, err := env.Sessions().Access(ctx(t), s, at)
			return err
		}
		i := newPlayer(t, env)
		s, _ := newSession(t, env, i, t0)
		expiry := s.RefreshExpiresAt()
		for _, at := range []time.Time{t0, expiry.Add(-time.Microsecond), expiry.Add(-time.Nanosecond)} {
			got, err := env.Sessions().Access(ctx(t), s.ID(), at)
			must(t, err)
			sameSession(t, got, s)
		}
		for _, at := range []time.Time{expiry, expiry.Add(time.Nanosecond), expiry.Add(time.Hour)} {
			wantErr(t, access(s.ID(), at), session.ErrAccessInvalid)
		}
		wantErr(t, access(id.New[id.Session](), t0), session.ErrAccessInvalid)

		revoked, _ := newSession(t, env, i, t0)
		revoke(t, env, revoked, t0.Add(time.Second))
		wantErr(t, access(revoked.ID(), t0.Add(2*time.Second)), session.ErrAccessInvalid)

		// Deleting an identity or a game revokes its sessions, but access
		// must not depend on that having happened.
		gone := newPlayer(t, env)
		ofDeletedIdentity, _ := newSession(t, env, gone, t0)
		must(t, access(ofDeletedIdentity.ID(), t0))
		_, err := env.Identities().Update(ctx(t), gone.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
		must(t, err)
		wantErr(t, access(ofDeletedIdentity.ID(), t0), session.ErrAccessInvalid)
		unchanged(t, env, ofDeletedIdentity)

		inDeletedGame := newPlayer(t, env)
		ofDeletedGame, _ := newSession(t, env, inDeletedGame, t0)
		must(t, access(ofDeletedGame.ID(), t0))
		_, err = env.Games().Update(ctx(t), inDeletedGame.GameID(), func(g *game.Game) error { return g.Delete(t0) })
		must(t, err)
		wantErr(t, access(ofDeletedGame.ID(), t0), session.ErrAccessInvalid)
		unchanged(t, env, ofDeletedGame)
	})

	t.Run("update saves what fn changed, and a failing fn changes nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		boom := errors.New("boom")
		_, err := env.Sessions().Update(ctx(t), s.ID(), func(s *session.Session) error {
			_ = s.Refresh(t0.Add(time.Hour), sessionLifetimes)
			s.Revoke(t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		unchanged(t, env, s)

		refreshed, err := env.Sessions().Update(ctx(t), s.ID(), refreshAt(t0.Add(time.Hour)))
		must(t, err)
		unchanged(t, env, refreshed)
		if !refreshed.UpdatedAt().Equal(t0.Add(time.Hour)) || !refreshed.ExpiresAt().Equal(t0.Add(time.Hour+15*time.Minute)) ||
			!refreshed.RefreshExpiresAt().Equal(t0.Add(721*time.Hour)) || !refreshed.CreatedAt().Equal(t0) {
			t.Fatalf("refresh not saved as made: %+v", refreshed.Snapshot())
		}

		revoked := revoke(t, env, s, t0.Add(2*time.Hour))
		unchanged(t, env, revoked)
		if !revoked.IsRevoked() || !revoked.RevokedAt().Equal(t0.Add(2*time.Hour)) || !revoked.UpdatedAt().Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("revocation not saved: %+v", revoked.Snapshot())
		}
		again := revoke(t, env, s, t0.Add(3*time.Hour))
		sameSession(t, again, revoked)
		unchanged(t, env, revoked)
		_, err = env.Sessions().Update(ctx(t), s.ID(), refreshAt(t0.Add(4*time.Hour)))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, revoked)
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for g := range n {
			wg.Go(func() {
				_, errs[g] = env.Sessions().Update(context.Background(), s.ID(), func(s *session.Session) error {
					at := s.UpdatedAt().Add(time.Second)
					time.Sleep(time.Millisecond) // widen the read-modify-write window
					return s.Refresh(at, sessionLifetimes)
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		if got := getSession(t, env, s.ID()); !got.UpdatedAt().Equal(t0.Add(n * time.Second)) {
			t.Fatalf("after %d refreshes a second apart the session was updated at %v: updates were lost", n, got.UpdatedAt())
		}
	})

	t.Run("revoking an identity's sessions revokes exactly those", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID()).ID()
		a := create(t, env.Identities(), acc.ID(), device(g, 1, "", t0))
		b := create(t, env.Identities(), acc.ID(), device(g, 2, "", t0))
		live1, _ := newSession(t, env, a, t0)
		live2, _ := newSession(t, env, a, t0.Add(time.Second))
		earlier, _ := newSession(t, env, a, t0)
		earlier = revoke(t, env, earlier, t0.Add(time.Minute))
		others, _ := newSession(t, env, b, t0)

		at := t0.Add(time.Hour + 999*time.Nanosecond)
		must(t, env.Sessions().RevokeIdentity(ctx(t), a.ID(), at, unbounded))
		for _, s := range []*session.Session{live1, live2} {
			got := getSession(t, env, s.ID())
			want := s.Snapshot()
			want.RevokedAt, want.UpdatedAt = domain.Timestamp(at), domain.Timestamp(at)
			if got.Snapshot() != want {
				t.Fatalf("not revoked as asked:\n got  %+v\n want %+v", got.Snapshot(), want)
			}
			_, err := env.Sessions().Access(ctx(t), s.ID(), t0.Add(time.Hour))
			wantErr(t, err, session.ErrAccessInvalid)
		}
		unchanged(t, env, earlier)
		unchanged(t, env, others)

		revoked := getSession(t, env, live1.ID())
		must(t, env.Sessions().RevokeIdentity(ctx(t), a.ID(), at.Add(time.Hour), unbounded))
		unchanged(t, env, revoked)
		must(t, env.Sessions().RevokeIdentity(ctx(t), id.New[id.Identity](), at, unbounded))
	})

	t.Run("revoking a game's sessions revokes exactly those", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g, other := NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), acc.ID()).ID()
		a := create(t, env.Identities(), acc.ID(), device(g, 1, "", t0))
		b := create(t, env.Identities(), acc.ID(), device(g, 2, "", t0))
		c := create(t, env.Identities(), acc.ID(), device(other, 1, "", t0))
		ofA, _ := newSession(t, env, a, t0)
		ofB, _ := newSession(t, env, b, t0.Add(time.Second))
		earlier, _ := newSession(t, env, b, t0)
		earlier = revoke(t, env, earlier, t0.Add(time.Minute))
		otherGame, _ := newSession(t, env, c, t0)

		at := t0.Add(time.Hour)
		must(t, env.Sessions().RevokeGame(ctx(t), g, at, unbounded))
		for _, s := range []*session.Session{ofA, ofB} {
			want := s.Snapshot()
			want.RevokedAt, want.UpdatedAt = at, at
			if got := getSession(t, env, s.ID()); got.Snapshot() != want {
				t.Fatalf("not revoked as asked:\n got  %+v\n want %+v", got.Snapshot(), want)
			}
		}
		unchanged(t, env, earlier)
		unchanged(t, env, otherGame)
		must(t, env.Sessions().RevokeGame(ctx(t), id.New[id.Game](), at, unbounded))
	})
}

func runRotation(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("rotation exchanges the refresh token", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		h1, h2 := newHash(), newHash()
		got, err := env.Sessions().Rotate(ctx(t), h0, h1, t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
		must(t, err)
		want := s.Snapshot()
		want.ExpiresAt, want.RefreshExpiresAt, want.UpdatedAt = t0.Add(time.Hour+15*time.Minute), t0.Add(721*time.Hour), t0.Add(time.Hour)
		if got.Snapshot() != want {
			t.Fatalf("rotation returned\n %+v\nwant\n %+v", got.Snapshot(), want)
		}
		unchanged(t, env, got)

		// The fresh token rotates in turn.
		got, err = env.Sessions().Rotate(ctx(t), h1, h2, t0.Add(2*time.Hour), refreshAt(t0.Add(2*time.Hour)))
		must(t, err)
		unchanged(t, env, got)
		if !got.UpdatedAt().Equal(t0.Add(2*time.Hour)) || got.IsRevoked() {
			t.Fatalf("second rotation: %+v", got.Snapshot())
		}
		// And the old ones no longer do.
		for _, old := range [][]byte{h0, h1} {
			_, err = env.Sessions().Rotate(ctx(t), old, newHash(), t0.Add(3*time.Hour), notCalled(t))
			wantErr(t, err, session.ErrRefreshInvalid)
		}
	})

	t.Run("an unknown refresh token is refused", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		_, err := env.Sessions().Rotate(ctx(t), newHash(), newHash(), t0.Add(3*time.Hour), notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, s)
	})

	t.Run("a rotated refresh token presented again revokes the session", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		h1, h2 := newHash(), newHash()
		rotated, err := env.Sessions().Rotate(ctx(t), h0, h1, t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
		must(t, err)

		// A reuse is revoked at the time the caller gives.
		reusedAt := t0.Add(90 * time.Minute)
		_, err = env.Sessions().Rotate(ctx(t), h0, h2, reusedAt, notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		revoked := getSession(t, env, s.ID())
		if !revoked.IsRevoked() || !revoked.RevokedAt().Equal(reusedAt) || !revoked.UpdatedAt().Equal(reusedAt) {
			t.Fatalf("reuse did not revoke the session at %v: %+v", reusedAt, revoked.Snapshot())
		}
		want := rotated.Snapshot()
		want.RevokedAt, want.UpdatedAt = revoked.RevokedAt(), revoked.UpdatedAt()
		if revoked.Snapshot() != want {
			t.Fatalf("reuse changed more than the revocation:\n got  %+v\n want %+v", revoked.Snapshot(), want)
		}

		// The token that was current is refused too, the one fn of the
		// reuse never got is unknown, and presenting any again changes
		// nothing more.
		_, err = env.Sessions().Rotate(ctx(t), h1, newHash(), t0.Add(2*time.Hour), refreshAt(t0.Add(2*time.Hour)))
		wantErr(t, err, session.ErrRefreshInvalid)
		for _, h := range [][]byte{h2, h0} {
			_, err = env.Sessions().Rotate(ctx(t), h, newHash(), t0.Add(3*time.Hour), notCalled(t))
			wantErr(t, err, session.ErrRefreshInvalid)
		}
		unchanged(t, env, revoked)
	})

	t.Run("a session of a deleted identity or game is not refreshed, revoked or not", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		for _, del := range []func(i *identity.Identity){
			func(i *identity.Identity) {
				_, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
				must(t, err)
			},
			func(i *identity.Identity) {
				_, err := env.Games().Update(ctx(t), i.GameID(), func(g *game.Game) error { return g.Delete(t0) })
				must(t, err)
			},
		} {
			i := newPlayer(t, env)
			s, h0 := newSession(t, env, i, t0)
			del(i) // and no RevokeIdentity/RevokeGame: the store checks for itself
			_, err := env.Sessions().Rotate(ctx(t), h0, newHash(), t0.Add(time.Hour), notCalled(t))
			wantErr(t, err, session.ErrRefreshInvalid)
			unchanged(t, env, s)
		}
	})

	t.Run("a revoked session is not refreshed, and nothing changes", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		revoked := revoke(t, env, s, t0.Add(time.Minute))
		h1 := newHash()
		_, err := env.Sessions().Rotate(ctx(t), h0, h1, t0.Add(2*time.Minute), refreshAt(t0.Add(2*time.Minute)))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, revoked)
		_, err = env.Sessions().Rotate(ctx(t), h1, newHash(), t0.Add(3*time.Hour), notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, revoked)
	})

	t.Run("an expired session is not refreshed, and nothing changes", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		h1 := newHash()
		_, err := env.Sessions().Rotate(ctx(t), h0, h1, s.RefreshExpiresAt(), refreshAt(s.RefreshExpiresAt()))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, s)
		// The refused fresh token is unknown, not reused: the session is
		// not revoked.
		_, err = env.Sessions().Rotate(ctx(t), h1, newHash(), t0.Add(3*time.Hour), notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, s)
		// And the presented one was not spent: at a time the session is
		// active, it still rotates.
		got, err := env.Sessions().Rotate(ctx(t), h0, newHash(), t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
		must(t, err)
		if got.IsRevoked() || !got.UpdatedAt().Equal(t0.Add(time.Hour)) {
			t.Fatalf("the unspent token did not rotate: %+v", got.Snapshot())
		}
	})

	t.Run("an error from fn rolls the rotation back", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		h1 := newHash()
		boom := errors.New("boom")
		_, err := env.Sessions().Rotate(ctx(t), h0, h1, t0.Add(time.Hour), func(s *session.Session) error {
			_ = s.Refresh(t0.Add(time.Hour), sessionLifetimes)
			return boom
		})
		wantErr(t, err, boom)
		unchanged(t, env, s)
		_, err = env.Sessions().Rotate(ctx(t), h1, newHash(), t0.Add(3*time.Hour), notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, s)
		got, err := env.Sessions().Rotate(ctx(t), h0, newHash(), t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
		must(t, err)
		if got.IsRevoked() || !got.UpdatedAt().Equal(t0.Add(time.Hour)) {
			t.Fatalf("the rolled-back token did not rotate: %+v", got.Snapshot())
		}
	})

	// Of N clients refreshing with one token, one gets new tokens; each of
	// the others presents a token that is rotated by then, which is reuse.
	t.Run("concurrent rotations of one token: exactly one succeeds, and the others revoke the session", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, h0 := newSession(t, env, newPlayer(t, env), t0)
		const n = 8
		fresh := make([][]byte, n)
		for g := range n {
			fresh[g] = newHash()
		}
		errs := atOnce(n, func(g int) error {
			_, err := env.Sessions().Rotate(context.Background(), h0, fresh[g], t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
			return err
		})
		winner := -1
		for g, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("rotations %d and %d both succeeded", winner, g)
			case err == nil:
				winner = g
			default:
				wantErr(t, err, session.ErrRefreshInvalid)
			}
		}
		if winner < 0 {
			t.Fatal("no rotation succeeded")
		}
		got := getSession(t, env, s.ID())
		if !got.IsRevoked() || !got.ExpiresAt().Equal(t0.Add(time.Hour+15*time.Minute)) {
			t.Fatalf("after one rotation and %d reuses the session is %+v, want the rotation's, revoked", n-1, got.Snapshot())
		}
		_, err := env.Sessions().Rotate(ctx(t), fresh[winner], newHash(), t0.Add(2*time.Hour), refreshAt(t0.Add(2*time.Hour)))
		wantErr(t, err, session.ErrRefreshInvalid)
	})
}

func runNonces(t *testing.T, shared func(t *testing.T) Env) {
	const valid = time.Minute
	// newNonce stores a nonce of s valid for a minute from t0.
	newNonce := func(t *testing.T, env Env, s *session.Session) []byte {
		t.Helper()
		hash := newHash()
		must(t, env.Sessions().CreateNonce(ctx(t), s.ID(), hash, t0.Add(valid)))
		return hash
	}
	consume := func(t *testing.T, env Env, s *session.Session, hash []byte, at time.Time) error {
		return env.Sessions().ConsumeNonce(ctx(t), s.ID(), hash, at)
	}

	t.Run("a nonce is consumed once", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		n := newNonce(t, env, s)
		must(t, consume(t, env, s, n, t0.Add(time.Second)))
		// Used is what a used nonce stays, expired or not.
		for _, at := range []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(valid), t0.Add(time.Hour)} {
			wantErr(t, consume(t, env, s, n, at), session.ErrNonceUsed)
		}
		unchanged(t, env, s)
	})

	t.Run("another session's nonce is invalid", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		i := newPlayer(t, env)
		s, _ := newSession(t, env, i, t0)
		other, _ := newSession(t, env, i, t0)
		n := newNonce(t, env, s)
		wantErr(t, consume(t, env, other, n, t0), session.ErrNonceInvalid)
		must(t, consume(t, env, s, n, t0))
		wantErr(t, consume(t, env, other, n, t0), session.ErrNonceInvalid)
	})

	t.Run("an unknown nonce is invalid", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		newNonce(t, env, s)
		wantErr(t, consume(t, env, s, newHash(), t0), session.ErrNonceInvalid)
		unknown := session.New(id.New[id.Identity](), id.New[id.Account](), id.New[id.Game](), t0, sessionLifetimes)
		wantErr(t, consume(t, env, unknown, newHash(), t0), session.ErrNonceInvalid)
	})

	t.Run("an expired nonce is refused", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		last := newNonce(t, env, s)
		must(t, consume(t, env, s, last, t0.Add(valid-time.Nanosecond)))
		n := newNonce(t, env, s)
		for _, at := range []time.Time{t0.Add(valid), t0.Add(valid + time.Nanosecond), t0.Add(time.Hour)} {
			wantErr(t, consume(t, env, s, n, at), session.ErrNonceExpired)
		}
	})

	t.Run("a nonce needs a session", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		wantErr(t, env.Sessions().CreateNonce(ctx(t), id.New[id.Session](), newHash(), t0.Add(valid)), session.ErrNotFound)
	})

	t.Run("a session holds at most MaxUnusedNonces unused nonces: a new one drops the one that expires first", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		other, _ := newSession(t, env, newPlayer(t, env), t0)
		theirs := newNonce(t, env, other)
		// Issued one a second, each expiring a minute later: the order in
		// which they expire is the order in which they were issued.
		var minted [][]byte
		mint := func() []byte {
			t.Helper()
			hash := newHash()
			must(t, env.Sessions().CreateNonce(ctx(t), s.ID(), hash, t0.Add(valid+time.Duration(len(minted))*time.Second)))
			minted = append(minted, hash)
			return hash
		}
		for range session.MaxUnusedNonces + 2 {
			mint()
		}
		// The two oldest went; the newest five are there.
		for _, n := range minted[:2] {
			wantErr(t, consume(t, env, s, n, t0), session.ErrNonceInvalid)
		}
		must(t, consume(t, env, s, minted[2], t0))
		// Used nonces count for nothing: with one used, one more unused
		// fits beside the other four.
		next := mint()
		for _, n := range minted[3:] {
			must(t, consume(t, env, s, n, t0))
		}
		wantErr(t, consume(t, env, s, minted[2], t0), session.ErrNonceUsed)
		// Another session's nonce was never counted.
		must(t, consume(t, env, other, theirs, t0))
		wantErr(t, consume(t, env, s, next, t0), session.ErrNonceUsed)
	})

	t.Run("the new nonce stays even if another expires at the same instant", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		for range session.MaxUnusedNonces {
			newNonce(t, env, s)
		}
		// Were the new one dropped as often as any other, one of these 60
		// would be (all but surely: 1 - (5/6)^60). Each round ends with
		// the five unused nonces it began with.
		for range 60 {
			must(t, consume(t, env, s, newNonce(t, env, s), t0))
			newNonce(t, env, s)
		}
	})

	t.Run("concurrent mints leave at most MaxUnusedNonces unused nonces", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		const racers = 16
		hashes := make([][]byte, racers)
		for g := range racers {
			hashes[g] = newHash()
		}
		errs := atOnce(racers, func(g int) error {
			return env.Sessions().CreateNonce(context.Background(), s.ID(), hashes[g], t0.Add(valid))
		})
		left := 0
		for g := range racers {
			must(t, errs[g])
			switch err := consume(t, env, s, hashes[g], t0); {
			case err == nil:
				left++
			case !errors.Is(err, session.ErrNonceInvalid):
				t.Fatalf("nonce %d: %v, want it usable or dropped", g, err)
			}
		}
		if left != session.MaxUnusedNonces {
			t.Fatalf("%d of %d nonces minted at once are left, want %d", left, racers, session.MaxUnusedNonces)
		}
	})

	t.Run("concurrent consumption of one nonce: exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		s, _ := newSession(t, env, newPlayer(t, env), t0)
		n := newNonce(t, env, s)
		errs := atOnce(16, func(int) error {
			return env.Sessions().ConsumeNonce(context.Background(), s.ID(), n, t0.Add(time.Second))
		})
		consumed := 0
		for _, err := range errs {
			if err == nil {
				consumed++
				continue
			}
			wantErr(t, err, session.ErrNonceUsed)
		}
		if consumed != 1 {
			t.Fatalf("%d racers consumed the nonce, want exactly 1", consumed)
		}
	})
}

// sessionFixture is one account's sessions, revoked ones included, with
// ties in creation and update times, plus another account's session no
// filter of it may return.
type sessionFixture struct {
	account    id.AccountID
	identities []*identity.Identity
	all        []*session.Session
	// otherIdentity is another account's identity, with a session.
	otherIdentity id.IdentityID
}

func newSessionFixture(t *testing.T, env Env) sessionFixture {
	t.Helper()
	acc := NewAccount(t, env.Tenancy())
	f := sessionFixture{account: acc.ID()}
	g, g2 := NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), acc.ID()).ID()
	for n, gameID := range []id.GameID{g, g, g2} {
		f.identities = append(f.identities, create(t, env.Identities(), acc.ID(), device(gameID, n, "", t0)))
	}
	revoked := 0
	for n := range 14 {
		s, _ := newSession(t, env, f.identities[n%3], t0.Add(time.Duration(n/3)*time.Second)) // three per instant
		var err error
		switch {
		case n%4 == 1: // a spread of updated_at, with ties
			s, err = env.Sessions().Update(ctx(t), s.ID(), refreshAt(t0.Add(time.Duration(100-n/4)*time.Second)))
		case n%5 == 2:
			s, err = env.Sessions().Update(ctx(t), s.ID(), revokeAt(t0.Add(time.Duration(100-n/5)*time.Second)))
			revoked++
		}
		must(t, err)
		f.all = append(f.all, s)
	}
	if revoked == 0 {
		t.Fatal("the fixture has no revoked session")
	}
	other := newPlayer(t, env)
	newSession(t, env, other, t0)
	f.otherIdentity = other.ID()
	return f
}

func runSessionLists(t *testing.T, shared func(t *testing.T) Env) {
	env := shared(t)
	f := newSessionFixture(t, env)
	one := f.identities[1].ID()

	sorts := []string{
		"created_at:desc,id:asc", "created_at:asc", "created_at:desc", "id:asc", "id:desc", "updated_at:asc",
		"updated_at:desc", "updated_at:desc,created_at:asc", "created_at:asc,updated_at:desc,id:desc",
	}
	filters := []struct {
		name  string
		f     ports.SessionFilter
		match func(*session.Session) bool
	}{
		{"account", ports.SessionFilter{AccountID: f.account}, func(*session.Session) bool { return true }},
		{"identity", ports.SessionFilter{IdentityID: one}, func(s *session.Session) bool { return s.IdentityID() == one }},
		{"account and identity", ports.SessionFilter{AccountID: f.account, IdentityID: one},
			func(s *session.Session) bool { return s.IdentityID() == one }},
		{"account and another account's identity", ports.SessionFilter{AccountID: f.account, IdentityID: f.otherIdentity},
			func(*session.Session) bool { return false }},
	}
	for _, fl := range filters {
		for _, raw := range sorts {
			sort, err := ports.SessionSchema.ParseSort(raw)
			must(t, err)
			want := slices.DeleteFunc(slices.Clone(f.all), func(s *session.Session) bool { return !fl.match(s) })
			slices.SortFunc(want, func(a, b *session.Session) int {
				return sort.Compare(ports.SessionSchema.Position(a, sort), ports.SessionSchema.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					list := func(r paging.Request) (paging.Result[*session.Session], error) {
						return env.Sessions().List(ctx(t), fl.f, r)
					}
					Walk(t, list, sort, limit, want, ports.SessionSchema, func(s *session.Session) string { return s.ID().String() })
				})
			}
		}
	}

	t.Run("listed sessions read back exactly", func(t *testing.T) {
		res, err := env.Sessions().List(ctx(t), ports.SessionFilter{AccountID: f.account},
			paging.Request{Sort: ports.SessionSchema.DefaultSort(), Limit: 100})
		must(t, err)
		for _, s := range res.Items {
			sameSession(t, s, getSession(t, env, s.ID()))
		}
	})
}

func runPurge(t *testing.T, fresh func(t *testing.T) Env) {
	const keep = 24 * time.Hour
	now := t0.Add(1000 * time.Hour)
	cutoff := now.Add(-keep)
	refresh := sessionLifetimes.Refresh

	t.Run("purge deletes expired nonces, long-rotated refresh tokens and long-dead sessions, and nothing else", func(t *testing.T) {
		t.Parallel()
		env := fresh(t)
		i := newPlayer(t, env)
		expiredLong, expiredLongHash := newSession(t, env, i, cutoff.Add(-refresh-time.Microsecond))
		expiredLongNonce := newHash()
		must(t, env.Sessions().CreateNonce(ctx(t), expiredLong.ID(), expiredLongNonce, now.Add(time.Hour)))
		expiredAtCutoff, _ := newSession(t, env, i, cutoff.Add(-refresh))
		expiredRecently, _ := newSession(t, env, i, cutoff.Add(-refresh+time.Hour))
		revokedLong, revokedLongHash := newSession(t, env, i, now.Add(-48*time.Hour))
		revoke(t, env, revokedLong, cutoff.Add(-time.Microsecond))
		revokedAtCutoff, _ := newSession(t, env, i, now.Add(-48*time.Hour))
		revokedAtCutoff = revoke(t, env, revokedAtCutoff, cutoff)
		live, liveHash := newSession(t, env, i, now.Add(-time.Hour))
		nonces := map[string][]byte{"expired long ago": newHash(), "expired recently": newHash(), "expiring now": newHash(),
			"later": newHash(), "used": newHash()}
		for name, expires := range map[string]time.Time{
			"expired long ago": cutoff.Add(-time.Microsecond), "expired recently": now.Add(-time.Microsecond),
			"expiring now": now, "later": now.Add(time.Minute), "used": now.Add(time.Minute),
		} {
			must(t, env.Sessions().CreateNonce(ctx(t), live.ID(), nonces[name], expires))
		}
		must(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), nonces["used"], now.Add(-time.Second)))
		usedExpired := newHash()
		must(t, env.Sessions().CreateNonce(ctx(t), live.ID(), usedExpired, now.Add(-time.Second)))
		must(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), usedExpired, now.Add(-2*time.Second)))
		// Refresh tokens rotated long ago go; recent ones stay, for reuse
		// detection.
		rotatedLong, rotatedRecently := liveHash, newHash()
		_, err := env.Sessions().Rotate(ctx(t), rotatedLong, rotatedRecently, cutoff.Add(-2*time.Microsecond), refreshAt(now.Add(-time.Hour)))
		must(t, err)
		_, err = env.Sessions().Rotate(ctx(t), rotatedRecently, newHash(), now.Add(-time.Minute), refreshAt(now.Add(-time.Hour)))
		must(t, err)
		live = getSession(t, env, live.ID())

		n, err := env.Sessions().Purge(ctx(t), now, keep)
		must(t, err)
		if n != 2 {
			t.Fatalf("purge reports %d sessions, want 2", n)
		}
		for _, s := range []*session.Session{expiredLong, revokedLong} {
			_, err := env.Sessions().Get(ctx(t), s.ID())
			wantErr(t, err, session.ErrNotFound)
		}
		for _, s := range []*session.Session{expiredAtCutoff, expiredRecently, revokedAtCutoff, live} {
			unchanged(t, env, s)
		}
		// A purged session's tokens and nonces went with it.
		for _, h := range [][]byte{expiredLongHash, revokedLongHash} {
			_, err := env.Sessions().Rotate(ctx(t), h, newHash(), t0.Add(3*time.Hour), notCalled(t))
			wantErr(t, err, session.ErrRefreshInvalid)
		}
		wantErr(t, env.Sessions().ConsumeNonce(ctx(t), expiredLong.ID(), expiredLongNonce, now), session.ErrNonceInvalid)
		// A nonce that expired is gone (unknown), however recently, used or
		// not; one still valid at now stays, used or not.
		for _, n := range [][]byte{nonces["expired long ago"], nonces["expired recently"], usedExpired} {
			wantErr(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), n, now), session.ErrNonceInvalid)
		}
		wantErr(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), nonces["expiring now"], now), session.ErrNonceExpired)
		wantErr(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), nonces["used"], now), session.ErrNonceUsed)
		must(t, env.Sessions().ConsumeNonce(ctx(t), live.ID(), nonces["later"], now))
		// A token rotated long ago is unknown now: refused, and the session
		// stays; one rotated recently is still reuse, which revokes.
		_, err = env.Sessions().Rotate(ctx(t), rotatedLong, newHash(), now, notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, live)
		_, err = env.Sessions().Rotate(ctx(t), rotatedRecently, newHash(), now, notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		if !getSession(t, env, live.ID()).IsRevoked() {
			t.Fatal("a recently rotated token presented again did not revoke the session")
		}

		n, err = env.Sessions().Purge(ctx(t), now, keep)
		must(t, err)
		if n != 0 {
			t.Fatalf("a second purge reports %d sessions, want 0", n)
		}
	})

	t.Run("a rotated refresh token is reuse for a week, and unknown once purged after that", func(t *testing.T) {
		t.Parallel()
		env := fresh(t)
		// What the service purges with: a week.
		const week = 7 * 24 * time.Hour
		rotated := now.Add(-10 * 24 * time.Hour)
		type player struct {
			s          *session.Session
			old, fresh []byte
		}
		players := make([]player, 2)
		for n := range players {
			_, old := newSession(t, env, newPlayer(t, env), rotated.Add(-time.Hour))
			fresh := newHash()
			s, err := env.Sessions().Rotate(ctx(t), old, fresh, rotated, refreshAt(rotated))
			must(t, err)
			players[n] = player{s, old, fresh}
		}

		// Six days on, a purge leaves the rotated tokens, and presenting
		// one is reuse, which revokes its session.
		sixDays := rotated.Add(6 * 24 * time.Hour)
		_, err := env.Sessions().Purge(ctx(t), sixDays, week)
		must(t, err)
		_, err = env.Sessions().Rotate(ctx(t), players[0].old, newHash(), sixDays, notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		if !getSession(t, env, players[0].s.ID()).IsRevoked() {
			t.Fatal("a token rotated six days ago presented again did not revoke the session")
		}

		// Past the week, the purge deletes it: presenting it is refused as
		// unknown, and its session lives on, its current token with it.
		later := rotated.Add(week + time.Minute)
		n, err := env.Sessions().Purge(ctx(t), later, week)
		must(t, err)
		if n != 0 {
			t.Fatalf("purge reports %d sessions, want 0", n)
		}
		p := players[1]
		_, err = env.Sessions().Rotate(ctx(t), p.old, newHash(), later, notCalled(t))
		wantErr(t, err, session.ErrRefreshInvalid)
		unchanged(t, env, p.s)
		_, err = env.Sessions().Rotate(ctx(t), p.fresh, newHash(), later, refreshAt(later))
		must(t, err)
	})

	t.Run("concurrent purges delete each session once", func(t *testing.T) {
		t.Parallel()
		env := fresh(t)
		const dead, purgers = 30, 6
		var kept []*session.Session
		for n := range dead {
			i := newPlayer(t, env)
			s, _ := newSession(t, env, i, cutoff.Add(-refresh-time.Duration(n+1)*time.Minute))
			for range 3 {
				must(t, env.Sessions().CreateNonce(ctx(t), s.ID(), newHash(), now.Add(-time.Duration(n)*time.Second)))
			}
			live, _ := newSession(t, env, i, now.Add(-time.Hour))
			must(t, env.Sessions().CreateNonce(ctx(t), live.ID(), newHash(), now.Add(-time.Second)))
			kept = append(kept, live)
		}
		counts := make([]int, purgers)
		errs := atOnce(purgers, func(g int) (err error) {
			counts[g], err = env.Sessions().Purge(context.Background(), now, keep)
			return err
		})
		total := 0
		for g := range purgers {
			must(t, errs[g])
			total += counts[g]
		}
		if total != dead {
			t.Fatalf("purgers report %v: %d sessions in all, want %d", counts, total, dead)
		}
		for _, s := range kept {
			unchanged(t, env, s)
		}
	})
}

// revocations are the session.revoked events of the account, by session.
func revocations(t *testing.T, env Env, account id.AccountID) map[string][]*ports.Recorded {
	t.Helper()
	sort, err := ports.EventSchema.Spec.ParseSort("id:asc")
	must(t, err)
	out := map[string][]*ports.Recorded{}
	req := paging.Request{Sort: sort, Limit: 500}
	for {
		res, err := env.Events().List(ctx(t), ports.EventFilter{AccountID: account, Type: "session.revoked"}, req)
		must(t, err)
		for _, e := range res.Items {
			out[e.Subject.ID] = append(out[e.Subject.ID], e)
		}
		if !res.More {
			return out
		}
		req.After = ports.EventSchema.Position(res.Items[len(res.Items)-1], sort)
	}
}

// sessionsOf stores n sessions of the identity.
func sessionsOf(t *testing.T, env Env, i *identity.Identity, n int) []*session.Session {
	t.Helper()
	out := make([]*session.Session, n)
	for k := range out {
		out[k], _ = newSession(t, env, i, t0)
	}
	return out
}

// revokedAmong splits the sessions as stored into the revoked ones and the
// others.
func revokedAmong(t *testing.T, env Env, ss []*session.Session) (revoked, live []*session.Session) {
	t.Helper()
	for _, s := range ss {
		got := getSession(t, env, s.ID())
		if got.IsRevoked() {
			revoked = append(revoked, got)
		} else {
			live = append(live, got)
		}
	}
	return revoked, live
}

func deleteIdentity(t *testing.T, env Env, i *identity.Identity) {
	t.Helper()
	_, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
	must(t, err)
}

func deleteGame(t *testing.T, env Env, gameID id.GameID) {
	t.Helper()
	_, err := env.Games().Update(ctx(t), gameID, func(g *game.Game) error { return g.Delete(t0) })
	must(t, err)
}

func runOrphans(t *testing.T, fresh func(t *testing.T) Env) {
	t.Run("a revocation revokes at most its bound, and the sweep the rest, once each, as the system", func(t *testing.T) {
		t.Parallel()
		env := fresh(t)
		acc := NewAccount(t, env.Tenancy()).ID()
		g, kept := NewGame(t, env.Games(), acc).ID(), NewGame(t, env.Games(), acc).ID()
		ada := create(t, env.Identities(), acc, device(kept, 1, "", t0))
		bob := create(t, env.Identities(), acc, device(g, 2, "", t0))
		cy := create(t, env.Identities(), acc, device(g, 3, "", t0))
		dee := create(t, env.Identities(), acc, device(kept, 4, "", t0))
		ofAda := sessionsOf(t, env, ada, 5)
		inGame := append(sessionsOf(t, env, bob, 2), sessionsOf(t, env, cy, 2)...)
		earlier := revoke(t, env, sessionsOf(t, env, bob, 1)[0], t0.Add(time.Minute))
		live := sessionsOf(t, env, dee, 2)

		// As a deletion's reaction does, for someone.
		someone := event.WithActor(ctx(t), event.Actor{Kind: event.ActorAPIKey, ID: "key_" + id.New[id.Account]().UUID().String()})
		at := t0.Add(time.Hour)
		deleteIdentity(t, env, ada)
		must(t, env.Sessions().RevokeIdentity(someone, ada.ID(), at, 2))
		deleteGame(t, env, g)
		must(t, env.Sessions().RevokeGame(someone, g, at, 3))
		for _, c := range []struct {
			name     string
			sessions []*session.Session
			bound    int
		}{{"identity", ofAda, 2}, {"game", inGame, 3}} {
			revoked, _ := revokedAmong(t, env, c.sessions)
			if len(revoked) != c.bound {
				t.Fatalf("revoking the %s's sessions at most %d at a time revoked %d of %d", c.name, c.bound, len(revoked), len(c.sessions))
			}
			for _, s := range revoked {
				if !s.RevokedAt().Equal(at) {
					t.Fatalf("%s's session revoked at %v, want %v", c.name, s.RevokedAt(), at)
				}
			}
		}
		_, leftOfAda := revokedAmong(t, env, ofAda)
		_, leftInGame := revokedAmong(t, env, inGame)
		left := append(leftOfAda, leftInGame...)

		sweptAt := at.Add(time.Minute)
		n, err := env.Sessions().RevokeOrphaned(ctx(t), sweptAt, 1)
		must(t, err)
		if n != 1 {
			t.Fatalf("a sweep of at most 1 revoked %d", n)
		}
		n, err = env.Sessions().RevokeOrphaned(ctx(t), sweptAt, unbounded)
		must(t, err)
		if n != len(left)-1 {
			t.Fatalf("the sweep revoked %d, want the %d left", n, len(left)-1)
		}
		for _, s := range left {
			want := s.Snapshot()
			want.RevokedAt, want.UpdatedAt = sweptAt, sweptAt
			if got := getSession(t, env, s.ID()); got.Snapshot() != want {
				t.Fatalf("not revoked by the sweep:\n got  %+v\n want %+v", got.Snapshot(), want)
			}
		}
		unchanged(t, env, earlier)
		for _, s := range live {
			unchanged(t, env, s)
		}
		if n, err := env.Sessions().RevokeOrphaned(ctx(t), sweptAt.Add(time.Minute), unbounded); err != nil || n != 0 {
			t.Fatalf("a second sweep revoked %d (%v), want none", n, err)
		}

		events := revocations(t, env, acc)
		if len(events) != len(ofAda)+len(inGame)+1 { // and earlier's
			t.Fatalf("session.revoked recorded for %d sessions, want %d", len(events), len(ofAda)+len(inGame)+1)
		}
		for _, s := range append(ofAda, inGame...) {
			es := events[s.ID().String()]
			if len(es) != 1 {
				t.Fatalf("session %s: %d session.revoked events, want 1", s.ID(), len(es))
			}
			want := event.ActorOf(someone)
			if slices.ContainsFunc(left, func(l *session.Session) bool { return l.ID() == s.ID() }) {
				want = event.System
			}
			if es[0].Actor != want || !es[0].OccurredAt.Equal(getSession(t, env, s.ID()).RevokedAt()) {
				t.Fatalf("session %s revoked by %+v at %v, want %+v at its revocation", s.ID(), es[0].Actor, es[0].OccurredAt, want)
			}
		}
	})

	t.Run("concurrent sweeps revoke each orphaned session once", func(t *testing.T) {
		t.Parallel()
		env := fresh(t)
		acc := NewAccount(t, env.Tenancy()).ID()
		g, kept := NewGame(t, env.Games(), acc).ID(), NewGame(t, env.Games(), acc).ID()
		// More than a batch of the game's, fewer than one of the identity's.
		var orphans []*session.Session
		for n := range 2 {
			orphans = append(orphans, sessionsOf(t, env, create(t, env.Identities(), acc, device(g, n, "", t0)), 300)...)
		}
		gone := create(t, env.Identities(), acc, device(kept, 2, "", t0))
		orphans = append(orphans, sessionsOf(t, env, gone, 150)...)
		live := sessionsOf(t, env, create(t, env.Identities(), acc, device(kept, 3, "", t0)), 10)
		deleteGame(t, env, g)
		deleteIdentity(t, env, gone)

		const sweepers = 6
		counts := make([]int, sweepers)
		errs := atOnce(sweepers, func(k int) (err error) {
			counts[k], err = env.Sessions().RevokeOrphaned(context.Background(), t0.Add(time.Hour), unbounded)
			return err
		})
		total := 0
		for k := range sweepers {
			must(t, errs[k])
			total += counts[k]
		}
		if total != len(orphans) {
			t.Fatalf("sweepers report %v: %d sessions in all, want %d", counts, total, len(orphans))
		}
		if _, left := revokedAmong(t, env, orphans); len(left) != 0 {
			t.Fatalf("%d orphaned sessions left unrevoked", len(left))
		}
		for _, s := range live {
			unchanged(t, env, s)
		}
		events := revocations(t, env, acc)
		for _, s := range orphans {
			if n := len(events[s.ID().String()]); n != 1 {
				t.Fatalf("session %s: %d session.revoked events, want 1", s.ID(), n)
			}
		}
		if len(events) != len(orphans) {
			t.Fatalf("session.revoked recorded for %d sessions, want %d", len(events), len(orphans))
		}
	})
}
