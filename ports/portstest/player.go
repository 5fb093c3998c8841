package portstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Players() ports.PlayerRepository { return repository[ports.PlayerRepository](e) }

func init() {
	register("Players", func(t *testing.T, s Stores) { runPlayers(t, s.Shared) })
	register("PlayerBans", func(t *testing.T, s Stores) { runPlayerBans(t, s.Shared) })
	register("PlayerRaces", func(t *testing.T, s Stores) { runPlayerRaces(t, s) })
	register("PlayerLists", func(t *testing.T, s Stores) { runPlayerLists(t, s.Shared) })
	// Purge erases across accounts: it runs on stores of its own, so that
	// it neither takes other tests' players nor finds them.
	register("PlayerPurge", func(t *testing.T, s Stores) { runPlayerPurge(t, s.Fresh(t)) })
}

// grace is the deletion grace period of the cases.
const grace = 24 * time.Hour

// playerSlice stands for the player slice's reaction (application/player,
// which ports cannot import): every new identity of the account gets its
// player, in the identity's transaction. It hears only its account's
// identities, so that other tests on a shared store go without it.
func playerSlice(t *testing.T, env Env, account id.AccountID) {
	t.Cleanup(env.Outbox().Subscribe(ports.Subscriber{Name: "portstest players", Types: []string{"identity.created"},
		Handle: func(c context.Context, e event.Event) error {
			i, ok := e.After.(*identity.Identity)
			if !ok || i.AccountID() != account || i.PlayerID().UUID() != i.ID().UUID() {
				return nil
			}
			return env.Players().Create(c, player.Of(i))
		}}))
}

// playerGame is one account's game, with the player slice joined.
type playerGame struct {
	t       *testing.T
	env     Env
	account id.AccountID
	id      id.GameID
	n       int
}

func newPlayerGame(t *testing.T, env Env) *playerGame {
	t.Helper()
	acc := NewAccount(t, env.Tenancy())
	playerSlice(t, env, acc.ID())
	return &playerGame{t: t, env: env, account: acc.ID(), id: NewGame(t, env.Games(), acc.ID()).ID()}
}

// another is another game of the same account, whose keys differ from
// g's, so that a key names one player of the account.
func (g *playerGame) another() *playerGame {
	g.t.Helper()
	return &playerGame{t: g.t, env: g.env, account: g.account, id: NewGame(g.t, g.env.Games(), g.account).ID(), n: 1000}
}

// join creates a new identity, and with it its player, at at.
func (g *playerGame) join(name string, at time.Time) *identity.Identity {
	g.t.Helper()
	g.n++
	return create(g.t, g.env.Identities(), g.account, device(g.id, g.n, name, at))
}

// recorder tells what each step of the game's account records.
func (g *playerGame) recorder() *recorder {
	return &recorder{t: g.t, env: g.env, account: g.account, n: len(recorded(g.t, g.env, g.account))}
}

func getPlayer(t *testing.T, env Env, playerID id.PlayerID, now time.Time) *player.Player {
	t.Helper()
	p, err := env.Players().Get(ctx(t), playerID, now)
	must(t, err)
	return p
}

// updatePlayers runs fn in Update and fails t on an error.
func updatePlayers(t *testing.T, env Env, ids []id.PlayerID, now time.Time, fn func(ctx context.Context, ps []*player.Player) error) []*player.Player {
	t.Helper()
	ps, err := env.Players().Update(ctx(t), ids, now, fn)
	must(t, err)
	return ps
}

// merge moves every identity of from into into, as a link with merge does.
func merge(c context.Context, env Env, into, from id.PlayerID, now time.Time) error {
	_, err := env.Players().Update(c, []id.PlayerID{into, from}, now, func(_ context.Context, ps []*player.Player) error {
		return ps[0].Absorb(ps[1], now)
	})
	return err
}

// mergeAll merges the players of the identities into the first's, and
// returns its ID.
func mergeAll(t *testing.T, env Env, now time.Time, is ...*identity.Identity) id.PlayerID {
	t.Helper()
	into := is[0].PlayerID()
	for _, i := range is[1:] {
		must(t, merge(ctx(t), env, into, i.PlayerID(), now))
	}
	return into
}

func deletePlayer(c context.Context, env Env, playerID id.PlayerID, now time.Time) error {
	_, err := env.Players().Update(c, []id.PlayerID{playerID}, now, func(_ context.Context, ps []*player.Player) error {
		return ps[0].Delete(grace, now)
	})
	return err
}

func restorePlayer(c context.Context, env Env, playerID id.PlayerID, now time.Time) error {
	_, err := env.Players().Update(c, []id.PlayerID{playerID}, now, func(_ context.Context, ps []*player.Player) error {
		return ps[0].Restore(now)
	})
	return err
}

func banPlayer(t *testing.T, env Env, playerID id.PlayerID, reason string, expiresAt, now time.Time) *player.Ban {
	t.Helper()
	r, err := player.ParseReason(reason)
	must(t, err)
	var ban *player.Ban
	updatePlayers(t, env, []id.PlayerID{playerID}, now, func(_ context.Context, ps []*player.Player) error {
		ban, err = ps[0].BanFor(r, expiresAt, event.Actor{Kind: event.ActorAPIKey, ID: "key_ban"}, now)
		return err
	})
	return ban
}

// playerView is a player's whole state, its identities' and ban's included,
// as the cases compare them.
type playerView struct {
	Snapshot   player.Snapshot
	Identities []identity.Snapshot
}

func viewOf(p *player.Player) playerView {
	s := p.Snapshot()
	v := playerView{Snapshot: s, Identities: []identity.Snapshot{}}
	for _, i := range s.Identities {
		v.Identities = append(v.Identities, i.Snapshot())
	}
	v.Snapshot.Identities = nil
	if b := p.Ban(); b != nil {
		snap := b.Snapshot()
		v.Snapshot.Ban = &snap
	} else {
		v.Snapshot.Ban = nil
	}
	return v
}

func samePlayer(t *testing.T, got, want *player.Player) {
	t.Helper()
	if g, w := viewOf(got), viewOf(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("player differs:\n got  %+v\n want %+v", g, w)
	}
}

// holds fails unless the player's identities are want's, in that order,
// and each names the player.
func holds(t *testing.T, p *player.Player, want ...*identity.Identity) {
	t.Helper()
	var got, wantIDs []id.IdentityID
	for _, i := range p.Identities() {
		got = append(got, i.ID())
		if i.PlayerID() != p.ID() {
			t.Fatalf("identity %s of player %s names player %s", i.ID(), p.ID(), i.PlayerID())
		}
	}
	for _, i := range want {
		wantIDs = append(wantIDs, i.ID())
	}
	if !slices.Equal(got, wantIDs) {
		t.Fatalf("player %s holds %v, want %v", p.ID(), got, wantIDs)
	}
}

func identityGone(t *testing.T, env Env, identityID id.IdentityID) {
	t.Helper()
	_, err := env.Identities().Get(ctx(t), identityID)
	wantErr(t, err, identity.ErrNotFound)
}

func restoreIdentity(c context.Context, env Env, identityID id.IdentityID, now time.Time) error {
	_, err := env.Identities().Restore(c, identityID, func(i *identity.Identity) error { return i.Restore(grace, now) })
	return err
}

func softDelete(t *testing.T, env Env, identityID id.IdentityID, now time.Time) {
	t.Helper()
	_, err := env.Identities().Update(ctx(t), identityID, func(i *identity.Identity) error { return i.Delete(now) })
	must(t, err)
}

func notCalledPlayers(t *testing.T) func(context.Context, []*player.Player) error {
	return func(context.Context, []*player.Player) error {
		t.Error("fn called")
		return errors.New("fn called")
	}
}

func runPlayers(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("a new identity gets a player, which Get shows with its identities", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		r := g.recorder()
		i := g.join("Ada", t0)
		r.step("create identity", func() {}, seen{"identity.created", i.ID().String()}, seen{"player.created", i.PlayerID().String()})
		if want := id.FromUUID[id.Player](i.ID().UUID()); i.PlayerID() != want {
			t.Fatalf("identity names player %s, want %s", i.PlayerID(), want)
		}
		p := getPlayer(t, g.env, i.PlayerID(), t0)
		holds(t, p, i)
		sameIdentity(t, p.Identities()[0], i)
		if p.AccountID() != g.account || p.GameID() != g.id || !p.CreatedAt().Equal(i.CreatedAt()) || !p.UpdatedAt().Equal(i.CreatedAt()) ||
			p.IsDeleted() || p.IsPurged() || p.IsClosed() || p.Ban() != nil || !p.PurgeAfter().IsZero() {
			t.Fatalf("new player: %+v", viewOf(p))
		}
	})

	t.Run("an unknown player is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		unknown := id.New[id.Player]()
		_, err := env.Players().Get(ctx(t), unknown, t0)
		wantErr(t, err, player.ErrNotFound)
		_, err = env.Players().Update(ctx(t), []id.PlayerID{unknown}, t0, notCalledPlayers(t))
		wantErr(t, err, player.ErrNotFound)
		_, err = env.Players().Erase(ctx(t), unknown, t0)
		wantErr(t, err, player.ErrNotFound)
		_, err = env.Players().Export(ctx(t), unknown, t0)
		wantErr(t, err, player.ErrNotFound)
	})

	t.Run("a merge moves every identity and closes the other player", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1 := g.join("A1", t0)
		b1, b2 := g.join("B1", t0.Add(time.Second)), g.join("B2", t0.Add(2*time.Second))
		r := g.recorder()
		at := t0.Add(time.Minute)
		r.step("merge B2 into B", func() { must(t, merge(ctx(t), g.env, b1.PlayerID(), b2.PlayerID(), at)) },
			seen{"identity.linked", b2.ID().String()}, seen{"player.merged", b2.PlayerID().String()})
		at = t0.Add(time.Hour)
		var merged []*player.Player
		r.step("merge B into A", func() {
			merged = updatePlayers(t, g.env, []id.PlayerID{a1.PlayerID(), b1.PlayerID()}, at, func(_ context.Context, ps []*player.Player) error {
				return ps[0].Absorb(ps[1], at)
			})
		}, seen{"identity.linked", b1.ID().String()}, seen{"identity.linked", b2.ID().String()}, seen{"player.merged", b1.PlayerID().String()})
		p := getPlayer(t, g.env, a1.PlayerID(), at)
		holds(t, p, a1, b1, b2)
		samePlayer(t, p, merged[0])
		if !merged[1].IsClosed() || merged[1].MergedInto() != p.ID() || len(merged[1].Identities()) != 0 {
			t.Fatalf("Update did not answer the closed player: %+v", viewOf(merged[1]))
		}
		for _, i := range []*identity.Identity{b1, b2} {
			got, err := g.env.Identities().Get(ctx(t), i.ID())
			must(t, err)
			if got.PlayerID() != p.ID() || !got.UpdatedAt().Equal(at) {
				t.Fatalf("moved identity: %+v", got.Snapshot())
			}
		}
		for _, closed := range []id.PlayerID{b1.PlayerID(), b2.PlayerID()} {
			_, err := g.env.Players().Get(ctx(t), closed, at)
			wantErr(t, err, player.ErrNotFound)
			r.step("change a closed player", func() {
				_, err = g.env.Players().Update(ctx(t), []id.PlayerID{closed}, at, notCalledPlayers(t))
				wantErr(t, err, player.ErrNotFound)
				_, err = g.env.Players().Erase(ctx(t), closed, at)
				wantErr(t, err, player.ErrNotFound)
			})
		}
	})

	t.Run("an unlink makes a new player of the identity", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2 := g.join("A1", t0), g.join("A2", t0.Add(time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
		r := g.recorder()
		at := t0.Add(time.Hour)
		var alone *player.Player
		updatePlayers(t, g.env, []id.PlayerID{pid}, at, func(c context.Context, ps []*player.Player) error {
			var err error
			if alone, err = ps[0].Unlink(a2.ID(), at); err != nil {
				return err
			}
			return g.env.Players().Create(c, alone)
		})
		r.step("unlink", func() {}, seen{"player.created", alone.ID().String()}, seen{"identity.unlinked", a2.ID().String()})
		holds(t, getPlayer(t, g.env, pid, at), a1)
		got := getPlayer(t, g.env, alone.ID(), at)
		holds(t, got, a2)
		if !got.CreatedAt().Equal(at) || got.GameID() != g.id || got.AccountID() != g.account {
			t.Fatalf("unlinked player: %+v", viewOf(got))
		}
		r.step("unlink the last identity", func() {
			_, err := g.env.Players().Update(ctx(t), []id.PlayerID{pid}, at, func(c context.Context, ps []*player.Player) error {
				_, err := ps[0].Unlink(a1.ID(), at)
				return err
			})
			wantErr(t, err, player.ErrLastIdentity)
		})
	})

	t.Run("delete and restore take the player's identities along", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2, a3 := g.join("A1", t0), g.join("A2", t0.Add(time.Second)), g.join("A3", t0.Add(2*time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2, a3)
		// Deleted on its own before the player: it stays deleted.
		softDelete(t, g.env, a3.ID(), t0.Add(2*time.Minute))
		r := g.recorder()
		deletedAt := t0.Add(time.Hour)
		r.step("delete", func() { must(t, deletePlayer(ctx(t), g.env, pid, deletedAt)) },
			seen{"player.deleted", pid.String()}, seen{"identity.deleted", a1.ID().String()}, seen{"identity.deleted", a2.ID().String()})
		p := getPlayer(t, g.env, pid, deletedAt)
		holds(t, p, a1, a2)
		if !p.IsDeleted() || !p.DeletedAt().Equal(deletedAt) || !p.PurgeAfter().Equal(deletedAt.Add(grace)) {
			t.Fatalf("deleted player: %+v", viewOf(p))
		}
		for _, i := range p.Identities() {
			if !i.DeletedAt().Equal(deletedAt) {
				t.Fatalf("identity of the deleted player: %+v", i.Snapshot())
			}
			identityGone(t, g.env, i.ID())
		}
		r.step("restore an identity of the deleted player", func() {
			wantErr(t, restoreIdentity(ctx(t), g.env, a1.ID(), deletedAt.Add(time.Minute)), identity.ErrNotFound)
		})
		r.step("delete again", func() { must(t, deletePlayer(ctx(t), g.env, pid, deletedAt.Add(time.Minute))) })

		restoredAt := deletedAt.Add(time.Hour)
		r.step("restore", func() { must(t, restorePlayer(ctx(t), g.env, pid, restoredAt)) },
			seen{"player.restored", pid.String()}, seen{"identity.restored", a1.ID().String()}, seen{"identity.restored", a2.ID().String()})
		p = getPlayer(t, g.env, pid, restoredAt)
		holds(t, p, a1, a2)
		if p.IsDeleted() || !p.PurgeAfter().IsZero() || !p.UpdatedAt().Equal(restoredAt) {
			t.Fatalf("restored player: %+v", viewOf(p))
		}
		for _, i := range []*identity.Identity{a1, a2} {
			got, err := g.env.Identities().Get(ctx(t), i.ID())
			must(t, err)
			sameIdentity(t, got, p.Identities()[slices.IndexFunc(p.Identities(), func(x *identity.Identity) bool { return x.ID() == i.ID() })])
		}
		identityGone(t, g.env, a3.ID())

		r.step("restore after the grace period", func() {
			must(t, deletePlayer(ctx(t), g.env, pid, restoredAt))
			wantErr(t, restorePlayer(ctx(t), g.env, pid, restoredAt.Add(grace)), player.ErrNotFound)
		}, seen{"player.deleted", pid.String()}, seen{"identity.deleted", a1.ID().String()}, seen{"identity.deleted", a2.ID().String()})
	})

	t.Run("a restore whose key a live identity took meanwhile restores nothing", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2 := g.join("A1", t0), g.join("A2", t0.Add(time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
		must(t, deletePlayer(ctx(t), g.env, pid, t0.Add(time.Hour)))
		deleted := getPlayer(t, g.env, pid, t0.Add(time.Hour))
		taken := create(t, g.env.Identities(), g.account, device(g.id, 2, "Taker", t0.Add(2*time.Hour))) // a2's key
		r := g.recorder()
		r.step("restore", func() {
			wantErr(t, restorePlayer(ctx(t), g.env, pid, t0.Add(3*time.Hour)), identity.ErrKeyInUse)
		})
		samePlayer(t, getPlayer(t, g.env, pid, t0.Add(3*time.Hour)), deleted)
		identityGone(t, g.env, a1.ID())
		got, err := g.env.Identities().Get(ctx(t), taken.ID())
		must(t, err)
		sameIdentity(t, got, taken)

		// An identity deleted on its own, the same way.
		b1, b2 := g.join("B1", t0), g.join("B2", t0.Add(time.Second))
		bid := mergeAll(t, g.env, t0.Add(time.Minute), b1, b2)
		softDelete(t, g.env, b2.ID(), t0.Add(time.Hour))
		create(t, g.env.Identities(), g.account, device(g.id, g.n, "Taker", t0.Add(2*time.Hour))) // b2's key
		r = g.recorder()
		r.step("restore the identity", func() {
			wantErr(t, restoreIdentity(ctx(t), g.env, b2.ID(), t0.Add(3*time.Hour)), identity.ErrKeyInUse)
		})
		holds(t, getPlayer(t, g.env, bid, t0.Add(3*time.Hour)), b1)
		identityGone(t, g.env, b2.ID())
	})

	t.Run("an identity deleted on its own is restored while its player is live", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2 := g.join("A1", t0), g.join("A2", t0.Add(time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
		deletedAt := t0.Add(time.Hour)
		softDelete(t, g.env, a2.ID(), deletedAt)
		holds(t, getPlayer(t, g.env, pid, deletedAt), a1)
		r := g.recorder()
		r.step("restore after the grace period", func() {
			wantErr(t, restoreIdentity(ctx(t), g.env, a2.ID(), deletedAt.Add(grace)), identity.ErrNotFound)
		})
		restoredAt := deletedAt.Add(grace - time.Second)
		var restored *identity.Identity
		r.step("restore", func() {
			var err error
			restored, err = g.env.Identities().Restore(ctx(t), a2.ID(), func(i *identity.Identity) error { return i.Restore(grace, restoredAt) })
			must(t, err)
		}, seen{"identity.restored", a2.ID().String()})
		if restored.IsDeleted() || !restored.UpdatedAt().Equal(restoredAt) || restored.PlayerID() != pid {
			t.Fatalf("restored identity: %+v", restored.Snapshot())
		}
		got, err := g.env.Identities().Get(ctx(t), a2.ID())
		must(t, err)
		sameIdentity(t, got, restored)
		holds(t, getPlayer(t, g.env, pid, restoredAt), a1, a2)
		r.step("restore a live or unknown identity", func() {
			wantErr(t, restoreIdentity(ctx(t), g.env, a2.ID(), restoredAt), identity.ErrNotFound)
			wantErr(t, restoreIdentity(ctx(t), g.env, id.New[id.Identity](), restoredAt), identity.ErrNotFound)
		})
	})

	t.Run("a merge carries the closed player's soft-deleted identities along", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1 := g.join("A1", t0)
		b1, b2 := g.join("B1", t0.Add(time.Second)), g.join("B2", t0.Add(2*time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), b1, b2)
		deletedAt := t0.Add(time.Hour)
		softDelete(t, g.env, b2.ID(), deletedAt)
		r := g.recorder()
		at := deletedAt.Add(time.Minute)
		// Absorb moves the live one; the store carries the deleted one, so
		// that it is restorable into the player, and erased with it.
		r.step("merge B into A", func() { must(t, merge(ctx(t), g.env, a1.PlayerID(), pid, at)) },
			seen{"identity.linked", b1.ID().String()}, seen{"identity.linked", b2.ID().String()}, seen{"player.merged", pid.String()})
		restoredAt := at.Add(time.Minute)
		restored, err := g.env.Identities().Restore(ctx(t), b2.ID(), func(i *identity.Identity) error { return i.Restore(grace, restoredAt) })
		must(t, err)
		if restored.PlayerID() != a1.PlayerID() {
			t.Fatalf("the deleted identity came back into %s, not the player its own went into, %s", restored.PlayerID(), a1.PlayerID())
		}
		holds(t, getPlayer(t, g.env, a1.PlayerID(), restoredAt), a1, b1, b2)
	})

	t.Run("a failing fn leaves every player as it was and records nothing", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2 := g.join("A1", t0), g.join("A2", t0.Add(time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
		b1 := g.join("B1", t0.Add(2*time.Second))
		before := []*player.Player{getPlayer(t, g.env, pid, t0.Add(time.Hour)), getPlayer(t, g.env, b1.PlayerID(), t0.Add(time.Hour))}
		boom := errors.New("boom")
		var alone *player.Player
		r := g.recorder()
		r.step("fail", func() {
			at := t0.Add(time.Hour)
			_, err := g.env.Players().Update(ctx(t), []id.PlayerID{pid, b1.PlayerID()}, at, func(c context.Context, ps []*player.Player) error {
				must(t, ps[0].Absorb(ps[1], at))
				var err error
				alone, err = ps[0].Unlink(a2.ID(), at)
				must(t, err)
				must(t, g.env.Players().Create(c, alone))
				reason, _ := player.ParseReason("lost")
				_, err = ps[0].BanFor(reason, time.Time{}, event.System, at)
				must(t, err)
				return boom
			})
			wantErr(t, err, boom)
		})
		for _, p := range before {
			samePlayer(t, getPlayer(t, g.env, p.ID(), t0.Add(time.Hour)), p)
			bans, err := g.env.Players().Bans(ctx(t), p.ID())
			must(t, err)
			if len(bans) != 0 {
				t.Fatalf("a failed change saved a ban: %+v", bans[0].Snapshot())
			}
		}
		_, err := g.env.Players().Get(ctx(t), alone.ID(), t0.Add(time.Hour))
		wantErr(t, err, player.ErrNotFound)
		for _, i := range []*identity.Identity{a1, a2, b1} {
			got, err := g.env.Identities().Get(ctx(t), i.ID())
			must(t, err)
			if want := slices.IndexFunc(before, func(p *player.Player) bool { return p.Holds(i.ID()) }); got.PlayerID() != before[want].ID() {
				t.Fatalf("identity %s moved to %s", i.ID(), got.PlayerID())
			}
		}
	})

	t.Run("erase leaves a tombstone", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2 := g.join("A1", t0), g.join("A2", t0.Add(time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
		s, hash := newSession(t, g.env, a1, t0.Add(2*time.Minute))
		ban := banPlayer(t, g.env, pid, "cheating", time.Time{}, t0.Add(3*time.Minute))
		erasedAt := t0.Add(time.Hour)
		r := g.recorder()
		var tomb *player.Player
		r.step("erase", func() {
			var err error
			tomb, err = g.env.Players().Erase(ctx(t), pid, erasedAt)
			must(t, err)
		}, seen{"player.purged", pid.String()}, seen{"identity.purged", a1.ID().String()}, seen{"identity.purged", a2.ID().String()})
		got := getPlayer(t, g.env, pid, erasedAt)
		samePlayer(t, got, tomb)
		if !got.IsPurged() || !got.PurgedAt().Equal(erasedAt) || len(got.Identities()) != 0 || got.Ban() != nil ||
			got.ID() != pid || got.AccountID() != g.account || got.GameID() != g.id || got.IsClosed() {
			t.Fatalf("tombstone: %+v", viewOf(got))
		}
		identityGone(t, g.env, a1.ID())
		identityGone(t, g.env, a2.ID())
		wantErr(t, restoreIdentity(ctx(t), g.env, a1.ID(), erasedAt), identity.ErrNotFound)
		_, err := g.env.Sessions().Get(ctx(t), s.ID())
		wantErr(t, err, session.ErrNotFound)
		must(t, g.env.Players().RefreshBan(ctx(t), hash, erasedAt)) // the token went with its session
		bans, err := g.env.Players().Bans(ctx(t), pid)
		must(t, err)
		if len(bans) != 0 {
			t.Fatalf("ban %s outlived the erasure", ban.ID())
		}
		export, err := g.env.Players().Export(ctx(t), pid, erasedAt)
		must(t, err)
		samePlayer(t, export.Player, tomb)
		if len(export.Identities)+len(export.Bans)+len(export.Sessions) != 0 {
			t.Fatalf("export of a tombstone: %d identities, %d bans, %d sessions", len(export.Identities), len(export.Bans), len(export.Sessions))
		}
		r.step("change the tombstone", func() {
			_, err = g.env.Players().Update(ctx(t), []id.PlayerID{pid}, erasedAt, notCalledPlayers(t))
			wantErr(t, err, player.ErrNotFound)
			_, err = g.env.Players().Erase(ctx(t), pid, erasedAt)
			wantErr(t, err, player.ErrNotFound)
		})

		// A deleted player is erased the same way.
		b1 := g.join("B1", t0)
		must(t, deletePlayer(ctx(t), g.env, b1.PlayerID(), t0.Add(time.Minute)))
		r = g.recorder()
		r.step("erase the deleted player", func() {
			_, err := g.env.Players().Erase(ctx(t), b1.PlayerID(), erasedAt)
			must(t, err)
		}, seen{"player.purged", b1.PlayerID().String()}, seen{"identity.purged", b1.ID().String()})
		if got := getPlayer(t, g.env, b1.PlayerID(), erasedAt); !got.IsPurged() || len(got.Identities()) != 0 {
			t.Fatalf("tombstone of the deleted player: %+v", viewOf(got))
		}
	})

	t.Run("export holds everything about the player", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1, a2, a3 := g.join("A1", t0), g.join("A2", t0.Add(time.Second)), g.join("A3", t0.Add(2*time.Second))
		pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2, a3)
		s1, _ := newSession(t, g.env, a1, t0.Add(2*time.Minute))
		s3, _ := newSession(t, g.env, a3, t0.Add(2*time.Minute))
		softDelete(t, g.env, a3.ID(), t0.Add(3*time.Minute))
		banPlayer(t, g.env, pid, "cheating", t0.Add(time.Hour), t0.Add(4*time.Minute))
		other := g.join("Other", t0)
		newSession(t, g.env, other, t0)
		now := t0.Add(5 * time.Minute)

		export, err := g.env.Players().Export(ctx(t), pid, now)
		must(t, err)
		samePlayer(t, export.Player, getPlayer(t, g.env, pid, now))
		var identities []id.IdentityID
		for _, i := range export.Identities {
			identities = append(identities, i.ID())
			if i.IsDeleted() != (i.ID() == a3.ID()) || i.PlayerID() != pid {
				t.Fatalf("exported identity: %+v", i.Snapshot())
			}
		}
		if !sameSet(identities, []id.IdentityID{a1.ID(), a2.ID(), a3.ID()}) {
			t.Fatalf("exported identities %v", identities)
		}
		bans, err := g.env.Players().Bans(ctx(t), pid)
		must(t, err)
		if len(export.Bans) != 1 || len(bans) != 1 || export.Bans[0].Snapshot() != bans[0].Snapshot() {
			t.Fatalf("exported bans: %d", len(export.Bans))
		}
		var sessions []id.SessionID
		for _, s := range export.Sessions {
			sessions = append(sessions, s.ID())
			sameSession(t, s, getSession(t, g.env, s.ID()))
		}
		if !sameSet(sessions, []id.SessionID{s1.ID(), s3.ID()}) {
			t.Fatalf("exported sessions %v, want %v and %v", sessions, s1.ID(), s3.ID())
		}
		subjects := map[string]bool{pid.String(): true, a1.ID().String(): true, a2.ID().String(): true, a3.ID().String(): true}
		var events, want []id.EventID
		for _, e := range export.Events {
			events = append(events, e.ID)
		}
		for _, e := range recorded(t, g.env, g.account) {
			if subjects[e.Subject.ID] {
				want = append(want, e.ID)
			}
		}
		if !sameSet(events, want) {
			t.Fatalf("exported events %v, want %v", events, want)
		}
	})
}

// sameSet reports whether a and b hold the same elements, each once.
func sameSet[T comparable](a, b []T) bool {
	seen := map[T]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// bannedUntil fails unless err is player.ErrBanned telling expiresAt.
func bannedUntil(t *testing.T, err error, expiresAt time.Time) {
	t.Helper()
	wantErr(t, err, player.ErrBanned)
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("%v is no domain error", err)
	}
	got, ok := de.Facts["expires_at"]
	switch {
	case !ok:
		t.Fatalf("%v tells no expires_at", err)
	case expiresAt.IsZero() && got != nil:
		t.Fatalf("expires_at %v, want none", got)
	case !expiresAt.IsZero():
		if at, ok := got.(time.Time); !ok || !at.Equal(expiresAt) {
			t.Fatalf("expires_at %v, want %v", got, expiresAt)
		}
	}
}

func runPlayerBans(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("a ban is in force until it expires or is lifted, and stays in the history", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, shared(t))
		a1 := g.join("A1", t0)
		pid := a1.PlayerID()
		s, hash := newSession(t, g.env, a1, t0)
		must(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), t0))
		must(t, g.env.Players().RefreshBan(ctx(t), hash, t0))
		r := g.recorder()

		expires := t0.Add(time.Hour)
		var first *player.Ban
		r.step("ban", func() { first = banPlayer(t, g.env, pid, "  cheating  ", expires, t0.Add(time.Minute)) },
			seen{"player.banned", pid.String()})
		if first.PlayerID() != pid || first.Reason().String() != "cheating" || !first.ExpiresAt().Equal(expires) ||
			first.Actor() != (event.Actor{Kind: event.ActorAPIKey, ID: "key_ban"}) || !first.CreatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("ban: %+v", first.Snapshot())
		}
		p := getPlayer(t, g.env, pid, t0.Add(2*time.Minute))
		if p.Ban() == nil || p.Ban().Snapshot() != first.Snapshot() || !p.UpdatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("banned player: %+v", viewOf(p))
		}
		bannedUntil(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), t0.Add(2*time.Minute)), expires)
		bannedUntil(t, g.env.Players().RefreshBan(ctx(t), hash, t0.Add(2*time.Minute)), expires)
		must(t, g.env.Players().RefreshBan(ctx(t), newHash(), t0.Add(2*time.Minute)))
		r.step("ban again", func() {
			reason, _ := player.ParseReason("again")
			_, err := g.env.Players().Update(ctx(t), []id.PlayerID{pid}, t0.Add(2*time.Minute), func(_ context.Context, ps []*player.Player) error {
				_, err := ps[0].BanFor(reason, time.Time{}, event.System, t0.Add(2*time.Minute))
				return err
			})
			wantErr(t, err, player.ErrAlreadyBanned)
		})

		// It expires by itself: nothing is written.
		if p := getPlayer(t, g.env, pid, expires); p.Ban() != nil {
			t.Fatalf("an expired ban is in force: %+v", p.Ban().Snapshot())
		}
		must(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), expires))
		must(t, g.env.Players().RefreshBan(ctx(t), hash, expires))

		var second *player.Ban
		r.step("ban for good", func() { second = banPlayer(t, g.env, pid, "worse", time.Time{}, t0.Add(2*time.Hour)) },
			seen{"player.banned", pid.String()})
		bannedUntil(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), t0.Add(100*time.Hour)), time.Time{})
		later := t0.Add(4 * time.Hour)
		r.step("give it an expiry", func() {
			updatePlayers(t, g.env, []id.PlayerID{pid}, t0.Add(3*time.Hour), func(_ context.Context, ps []*player.Player) error {
				return ps[0].ChangeBan(second.ID(), &later, false, t0.Add(3*time.Hour))
			})
		}, seen{"player.banned", pid.String()})
		bannedUntil(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), t0.Add(3*time.Hour)), later)
		var lifted *player.Ban
		r.step("lift", func() {
			ps := updatePlayers(t, g.env, []id.PlayerID{pid}, t0.Add(3*time.Hour+time.Minute), func(_ context.Context, ps []*player.Player) error {
				return ps[0].ChangeBan(second.ID(), nil, true, t0.Add(3*time.Hour+time.Minute))
			})
			lifted = ps[0].ChangedBan()
		}, seen{"player.unbanned", pid.String()})
		if p := getPlayer(t, g.env, pid, t0.Add(3*time.Hour+time.Minute)); p.Ban() != nil {
			t.Fatalf("a lifted ban is in force: %+v", p.Ban().Snapshot())
		}
		must(t, g.env.Players().CheckSessionStart(ctx(t), a1.ID(), t0.Add(3*time.Hour+time.Minute)))
		r.step("lift again", func() {
			updatePlayers(t, g.env, []id.PlayerID{pid}, t0.Add(5*time.Hour), func(_ context.Context, ps []*player.Player) error {
				return ps[0].ChangeBan(second.ID(), nil, true, t0.Add(5*time.Hour))
			})
		})

		bans, err := g.env.Players().Bans(ctx(t), pid)
		must(t, err)
		if len(bans) != 2 || bans[0].Snapshot() != lifted.Snapshot() || bans[1].Snapshot() != first.Snapshot() {
			t.Fatalf("history: %d bans", len(bans))
		}
		if !lifted.LiftedAt().Equal(t0.Add(3*time.Hour+time.Minute)) || !lifted.ExpiresAt().Equal(later) {
			t.Fatalf("lifted ban: %+v", lifted.Snapshot())
		}
		unchanged(t, g.env, s) // bans revoke sessions through the session slice, not here
	})
}

func runPlayerRaces(t *testing.T, s Stores) {
	t.Run("merges at once neither lose nor duplicate an identity", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, s.Shared(t))
		for round := range 4 {
			var is []*identity.Identity
			for n := range 8 {
				is = append(is, g.join(fmt.Sprintf("R%d-%d", round, n), t0.Add(time.Duration(n)*time.Second)))
			}
			p := func(n int) id.PlayerID { return is[n].PlayerID() }
			// Two pairs merged from both sides, and triples that overlap, in
			// an order of their own each.
			groups := [][]id.PlayerID{
				{p(0), p(1)}, {p(1), p(0)},
				{p(2), p(3), p(4)}, {p(4), p(3), p(2)}, {p(3), p(5), p(4)}, {p(5), p(2)},
				{p(6), p(7), p(5)}, {p(7), p(6)},
			}
			at := t0.Add(time.Hour)
			errs := atOnce(len(groups), func(n int) error {
				_, err := g.env.Players().Update(context.Background(), groups[n], at, func(_ context.Context, ps []*player.Player) error {
					for _, from := range ps[1:] {
						if err := ps[0].Absorb(from, at); err != nil {
							return err
						}
					}
					return nil
				})
				return err
			})
			for _, err := range errs {
				// A player another merge closed first is gone: that is all
				// a merge may answer.
				if err != nil && !errors.Is(err, player.ErrNotFound) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			eachHeldOnce(t, g.env, is, at)
		}
	})

	t.Run("purge racing restore of the same players ends in one outcome each", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, s.Fresh(t))
		type member struct {
			id         id.PlayerID
			identities []*identity.Identity
		}
		deletedAt := t0.Add(time.Hour)
		var members []member
		for n := range 6 {
			a, b := g.join(fmt.Sprintf("P%d-a", n), t0), g.join(fmt.Sprintf("P%d-b", n), t0.Add(time.Second))
			pid := mergeAll(t, g.env, t0.Add(time.Minute), a, b)
			must(t, deletePlayer(ctx(t), g.env, pid, deletedAt))
			members = append(members, member{pid, []*identity.Identity{a, b}})
		}
		due := deletedAt.Add(grace)
		purged := make([]int, 2)
		restored := make([]error, len(members))
		errs := atOnce(len(members)+2, func(n int) error {
			if n < len(members) {
				// A replica whose clock is a little behind still restores.
				restored[n] = restorePlayer(context.Background(), g.env, members[n].id, due.Add(-time.Second))
				return nil
			}
			var err error
			purged[n-len(members)], err = g.env.Players().Purge(context.Background(), due, grace, 100)
			return err
		})
		for _, err := range errs {
			must(t, err)
		}
		tombstones := 0
		for n, m := range members {
			p := getPlayer(t, g.env, m.id, due)
			export, err := g.env.Players().Export(ctx(t), m.id, due)
			must(t, err)
			if p.IsPurged() {
				tombstones++
				wantErr(t, restored[n], player.ErrNotFound)
				if len(p.Identities()) != 0 || len(export.Identities) != 0 {
					t.Fatalf("tombstone %s keeps %d identities, %d rows", m.id, len(p.Identities()), len(export.Identities))
				}
				for _, i := range m.identities {
					identityGone(t, g.env, i.ID())
				}
				continue
			}
			must(t, restored[n])
			if p.IsDeleted() {
				t.Fatalf("player %s is neither restored nor purged", m.id)
			}
			holds(t, p, m.identities...)
			for _, i := range m.identities {
				got, err := g.env.Identities().Get(ctx(t), i.ID())
				must(t, err)
				if got.PlayerID() != m.id {
					t.Fatalf("restored identity %s names %s", i.ID(), got.PlayerID())
				}
			}
		}
		if purged[0]+purged[1] != tombstones {
			t.Fatalf("the replicas purged %d and %d players, and %d are tombstones", purged[0], purged[1], tombstones)
		}
	})

	t.Run("a sign-in racing a ban is refused or revoked by it", func(t *testing.T) {
		t.Parallel()
		g := newPlayerGame(t, s.Shared(t))
		// As the session slice checks a sign-in in its transaction.
		t.Cleanup(g.env.Outbox().Subscribe(ports.Subscriber{Name: "portstest sign-in", Types: []string{"session.created"},
			Handle: func(c context.Context, e event.Event) error {
				s, ok := e.After.(*session.Session)
				if !ok || s.AccountID() != g.account {
					return nil
				}
				return g.env.Players().CheckSessionStart(c, s.IdentityID(), e.OccurredAt)
			}}))
		reason, _ := player.ParseReason("racing")
		for round := range 4 {
			a1, a2 := g.join(fmt.Sprintf("S%d-a", round), t0), g.join(fmt.Sprintf("S%d-b", round), t0)
			pid := mergeAll(t, g.env, t0.Add(time.Minute), a1, a2)
			const signIns = 8
			sessions := make([]*session.Session, signIns)
			bannedAt := t0.Add(time.Hour)
			errs := atOnce(signIns+1, func(n int) error {
				if n == signIns {
					_, err := g.env.Players().Update(context.Background(), []id.PlayerID{pid}, bannedAt, func(c context.Context, ps []*player.Player) error {
						if _, err := ps[0].BanFor(reason, time.Time{}, event.System, bannedAt); err != nil {
							return err
						}
						// As the session slice revokes a banned player's sessions.
						for _, i := range ps[0].Identities() {
							if err := g.env.Sessions().RevokeIdentity(c, i.ID(), bannedAt, unbounded); err != nil {
								return err
							}
						}
						return nil
					})
					return err
				}
				i := []*identity.Identity{a1, a2}[n%2]
				sessions[n] = session.New(i.ID(), i.AccountID(), i.GameID(), bannedAt.Add(time.Minute), sessionLifetimes)
				return g.env.Sessions().Create(context.Background(), sessions[n], newHash())
			})
			must(t, errs[signIns])
			for n, err := range errs[:signIns] {
				if err != nil {
					wantErr(t, err, player.ErrBanned)
					_, err := g.env.Sessions().Get(ctx(t), sessions[n].ID())
					wantErr(t, err, session.ErrNotFound)
					continue
				}
				if !getSession(t, g.env, sessions[n].ID()).IsRevoked() {
					t.Fatalf("round %d: session %s started beside the ban and outlived it", round, sessions[n].ID())
				}
			}
			late := session.New(a1.ID(), a1.AccountID(), a1.GameID(), bannedAt.Add(time.Hour), sessionLifetimes)
			wantErr(t, g.env.Sessions().Create(ctx(t), late, newHash()), player.ErrBanned)
		}
	})
}

// eachHeldOnce checks that every identity belongs to exactly one player
// that is not closed, which holds it, and that those players hold no
// other identity.
func eachHeldOnce(t *testing.T, env Env, is []*identity.Identity, now time.Time) {
	t.Helper()
	holders := map[id.PlayerID]*player.Player{}
	for _, i := range is {
		got, err := env.Identities().Get(ctx(t), i.ID())
		must(t, err)
		if _, ok := holders[got.PlayerID()]; !ok {
			holders[got.PlayerID()] = getPlayer(t, env, got.PlayerID(), now)
		}
	}
	var held []id.IdentityID
	for _, p := range holders {
		if p.IsClosed() || p.IsDeleted() {
			t.Fatalf("identities name player %s, which is closed or deleted", p.ID())
		}
		for _, i := range p.Identities() {
			held = append(held, i.ID())
			if i.PlayerID() != p.ID() {
				t.Fatalf("player %s holds identity %s of %s", p.ID(), i.ID(), i.PlayerID())
			}
		}
	}
	var want []id.IdentityID
	for _, i := range is {
		want = append(want, i.ID())
	}
	if !sameSet(held, want) {
		t.Fatalf("the players hold %v, want each of %v once", held, want)
	}
	for _, i := range is {
		// Every player an identity started in is closed, or holds it.
		if _, ok := holders[i.PlayerID()]; ok {
			continue
		}
		_, err := env.Players().Get(ctx(t), i.PlayerID(), now)
		wantErr(t, err, player.ErrNotFound)
	}
}

// listFixture is one account's players in two games, with ties in creation
// and update times, banned, deleted and merged ones, plus players no
// filter of it may return.
type listFixture struct {
	account id.AccountID
	games   [2]id.GameID
	now     time.Time
	// all are the live and deleted players as Get reads them at now.
	all []*player.Player
	// mergedKey is the key of an identity merged into another player.
	mergedKey, deletedKey string
}

func newListFixture(t *testing.T, env Env) listFixture {
	t.Helper()
	g := newPlayerGame(t, env)
	g2 := g.another()
	f := listFixture{account: g.account, games: [2]id.GameID{g.id, g2.id}, now: t0.Add(time.Hour)}
	var is []*identity.Identity
	for n := range 16 {
		at := t0.Add(time.Duration(n/3) * time.Second) // three players per instant
		in := g
		if n%2 == 1 {
			in = g2
		}
		is = append(is, in.join("", at))
	}
	later := func(n int) time.Time { return t0.Add(time.Duration(100-n/4) * time.Second) }
	for n, i := range is {
		pid := i.PlayerID()
		switch n % 6 {
		case 1:
			banPlayer(t, env, pid, "banned", time.Time{}, later(n))
		case 2:
			banPlayer(t, env, pid, "expired", t0.Add(200*time.Second), later(n))
		case 3:
			must(t, deletePlayer(ctx(t), env, pid, later(n)))
		}
	}
	// Merged: is[6] takes is[4] (same game, neither banned); the key of
	// is[4] is is[6]'s player's now.
	must(t, merge(ctx(t), env, is[6].PlayerID(), is[4].PlayerID(), later(6)))
	f.mergedKey, f.deletedKey = is[4].ExternalKey().String(), is[3].ExternalKey().String()
	// Erased: a tombstone.
	_, err := env.Players().Erase(ctx(t), is[10].PlayerID(), later(10))
	must(t, err)
	for n, i := range is {
		if n == 4 || n == 10 {
			continue
		}
		f.all = append(f.all, getPlayer(t, env, i.PlayerID(), f.now))
	}
	// Another account's player.
	newPlayerGame(t, env).join("", t0)
	return f
}

func runPlayerLists(t *testing.T, shared func(t *testing.T) Env) {
	env := shared(t)
	f := newListFixture(t, env)
	sorts := []string{
		"created_at:desc,id:asc", "created_at:asc", "id:asc", "id:desc", "updated_at:asc", "updated_at:desc",
		"updated_at:desc,created_at:asc,id:desc",
	}
	live := func(p *player.Player) bool { return !p.IsDeleted() }
	// A deleted player is found by a key of the identities deleted with it.
	gone := f.all[slices.IndexFunc(f.all, func(p *player.Player) bool { return p.IsDeleted() && len(p.Identities()) > 0 })]
	goneKey := gone.Identities()[0].ExternalKey()
	filters := []struct {
		name  string
		f     ports.PlayerFilter
		match func(*player.Player) bool
	}{
		{"account", ports.PlayerFilter{AccountID: f.account}, live},
		{"game", ports.PlayerFilter{GameID: f.games[1]}, func(p *player.Player) bool { return live(p) && p.GameID() == f.games[1] }},
		{"account and game", ports.PlayerFilter{AccountID: f.account, GameID: f.games[0]},
			func(p *player.Player) bool { return live(p) && p.GameID() == f.games[0] }},
		{"kind and key of a merged identity", ports.PlayerFilter{AccountID: f.account, Kind: identity.KindDevice, ExternalKey: f.mergedKey},
			func(p *player.Player) bool {
				return live(p) && slices.ContainsFunc(p.Identities(), func(i *identity.Identity) bool { return i.ExternalKey().String() == f.mergedKey })
			}},
		{"kind and key of a deleted identity", ports.PlayerFilter{AccountID: f.account, Kind: identity.KindDevice, ExternalKey: f.deletedKey},
			func(*player.Player) bool { return false }},
		{"another kind", ports.PlayerFilter{AccountID: f.account, Kind: identity.KindCustom, ExternalKey: f.mergedKey},
			func(*player.Player) bool { return false }},
		{"banned", ports.PlayerFilter{AccountID: f.account, Banned: "true"}, func(p *player.Player) bool { return live(p) && p.Ban() != nil }},
		{"not banned", ports.PlayerFilter{AccountID: f.account, Banned: "false"}, func(p *player.Player) bool { return live(p) && p.Ban() == nil }},
		{"deleted", ports.PlayerFilter{AccountID: f.account, Deleted: true}, func(p *player.Player) bool { return p.IsDeleted() }},
		{"deleted, by the key of an identity deleted with it",
			ports.PlayerFilter{AccountID: f.account, Kind: goneKey.Kind(), ExternalKey: goneKey.String(), Deleted: true},
			func(p *player.Player) bool { return p.ID() == gone.ID() }},
		{"deleted in a game", ports.PlayerFilter{GameID: f.games[1], Deleted: true},
			func(p *player.Player) bool { return p.IsDeleted() && p.GameID() == f.games[1] }},
	}
	t.Run("listed players read as Get reads them", func(t *testing.T) {
		for _, fl := range []ports.PlayerFilter{{AccountID: f.account}, {AccountID: f.account, Deleted: true}} {
			res, err := env.Players().List(ctx(t), fl, paging.Request{Sort: ports.PlayerSchema.DefaultSort(), Limit: 100}, f.now)
			must(t, err)
			if len(res.Items) == 0 {
				t.Fatalf("%+v lists none", fl)
			}
			for _, p := range res.Items {
				k := slices.IndexFunc(f.all, func(x *player.Player) bool { return x.ID() == p.ID() })
				if k < 0 {
					t.Fatalf("%+v lists player %s, which no list may: %+v", fl, p.ID(), viewOf(p))
				}
				samePlayer(t, p, f.all[k])
			}
		}
	})
	for _, fl := range filters {
		for _, raw := range sorts {
			sort, err := ports.PlayerSchema.ParseSort(raw)
			must(t, err)
			want := slices.DeleteFunc(slices.Clone(f.all), func(p *player.Player) bool { return !fl.match(p) })
			slices.SortFunc(want, func(a, b *player.Player) int {
				return sort.Compare(ports.PlayerSchema.Position(a, sort), ports.PlayerSchema.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					if len(want) == 0 {
						res, err := env.Players().List(ctx(t), fl.f, paging.Request{Sort: sort, Limit: limit}, f.now)
						must(t, err)
						if len(res.Items) != 0 || res.More {
							t.Fatalf("lists %d players, want none", len(res.Items))
						}
						return
					}
					list := func(r paging.Request) (paging.Result[*player.Player], error) {
						return env.Players().List(ctx(t), fl.f, r, f.now)
					}
					Walk(t, list, sort, limit, want, ports.PlayerSchema, func(p *player.Player) string { return p.ID().String() })
				})
			}
		}
	}
}

// outboxEncoding is how a store's outbox is told the shape of events'
// data (the service sets the API's).
type outboxEncoding interface{ EncodeWith(ports.EventEncoder) }

// encodeAsAPI writes identities and players with their personal fields as
// the API shows them, and "changes" as the service's encoder does: what a
// purge has to find and remove. Other resources are their ID.
func encodeAsAPI(e event.Event) ([]byte, error) {
	after := wireOf(e.After, e.Subject.ID)
	if e.Before != nil {
		before := wireOf(e.Before, e.Subject.ID)
		changes := map[string]any{}
		for f, v := range after {
			if f != "updated_at" && !reflect.DeepEqual(v, before[f]) {
				changes[f] = []any{before[f], v}
			}
		}
		after["changes"] = changes
	}
	return json.Marshal(after)
}

func wireOf(v any, subject string) map[string]any {
	at := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.Format(time.RFC3339Nano)
	}
	switch x := v.(type) {
	case *identity.Identity:
		var name any
		if !x.DisplayName().IsZero() {
			name = x.DisplayName().String()
		}
		return map[string]any{
			"id": x.ID().String(), "account_id": x.AccountID().String(), "game_id": x.GameID().String(),
			"player_id": x.PlayerID().String(), "kind": x.Kind().String(), "external_key": x.ExternalKey().String(),
			"display_name": name, "updated_at": at(x.UpdatedAt()), "deleted_at": at(x.DeletedAt()),
		}
	case *player.Player:
		identities := []any{}
		for _, i := range x.Identities() {
			identities = append(identities, wireOf(i, ""))
		}
		return map[string]any{
			"id": x.ID().String(), "account_id": x.AccountID().String(), "game_id": x.GameID().String(),
			"identities": identities, "updated_at": at(x.UpdatedAt()), "deleted_at": at(x.DeletedAt()),
		}
	}
	return map[string]any{"id": subject}
}

func runPlayerPurge(t *testing.T, env Env) {
	enc, ok := env.Outbox().(outboxEncoding)
	if !ok {
		t.Fatalf("the outbox %T takes no encoder (EncodeWith)", env.Outbox())
	}
	enc.EncodeWith(encodeAsAPI)
	g := newPlayerGame(t, env)
	deletedAt := t0.Add(time.Hour)
	now := deletedAt.Add(grace)

	// A: deleted when due; one of its identities came from player B.
	a1, a2 := g.join("Purged-Ada", t0), g.join("Purged-Alan", t0.Add(time.Second))
	_, err := env.Identities().Update(ctx(t), a1.ID(), renameTo(t, "Purged-Ada-L", t0.Add(time.Minute)))
	must(t, err)
	aid := mergeAll(t, env, t0.Add(2*time.Minute), a1, a2)
	sa, hashA := newSession(t, env, a1, t0.Add(3*time.Minute))
	banPlayer(t, env, aid, "cheating", time.Time{}, t0.Add(4*time.Minute))
	must(t, deletePlayer(ctx(t), env, aid, deletedAt))
	// C: live; one identity deleted on its own when due.
	c1, c2 := g.join("Purged-Cee", t0), g.join("Kept-Cid", t0.Add(time.Second))
	cid := mergeAll(t, env, t0.Add(2*time.Minute), c1, c2)
	softDelete(t, env, c1.ID(), deletedAt)
	// D: deleted, not due yet.
	d1 := g.join("Kept-Dee", t0)
	must(t, deletePlayer(ctx(t), env, d1.PlayerID(), deletedAt.Add(time.Hour)))
	// E: an identity deleted, not due yet.
	e1, e2 := g.join("Kept-Eve", t0), g.join("Kept-Ed", t0.Add(time.Second))
	eid := mergeAll(t, env, t0.Add(2*time.Minute), e1, e2)
	softDelete(t, env, e2.ID(), deletedAt.Add(time.Hour))

	r := g.recorder()
	r.step("purge what is due", func() {
		total := 0
		for range 10 {
			n, err := env.Players().Purge(ctx(t), now, grace, 1)
			must(t, err)
			if n > 1 {
				t.Fatalf("purged %d, at most 1 asked", n)
			}
			if n == 0 {
				break
			}
			total += n
		}
		if total != 2 {
			t.Fatalf("purged %d, want a player and an identity", total)
		}
	}, seen{"player.purged", aid.String()}, seen{"identity.purged", a1.ID().String()}, seen{"identity.purged", a2.ID().String()},
		seen{"identity.purged", c1.ID().String()})

	if p := getPlayer(t, env, aid, now); !p.IsPurged() || len(p.Identities()) != 0 {
		t.Fatalf("purged player: %+v", viewOf(p))
	}
	for _, i := range []*identity.Identity{a1, a2, c1} {
		wantErr(t, restoreIdentity(ctx(t), env, i.ID(), now), identity.ErrNotFound)
	}
	_, err = env.Sessions().Get(ctx(t), sa.ID())
	wantErr(t, err, session.ErrNotFound)
	must(t, env.Players().RefreshBan(ctx(t), hashA, now))
	if bans, err := env.Players().Bans(ctx(t), aid); err != nil || len(bans) != 0 {
		t.Fatalf("bans of the purged player: %d, %v", len(bans), err)
	}
	exported := func(playerID id.PlayerID) []id.IdentityID {
		export, err := env.Players().Export(ctx(t), playerID, now)
		must(t, err)
		var out []id.IdentityID
		for _, i := range export.Identities {
			out = append(out, i.ID())
		}
		return out
	}
	if got := exported(cid); !sameSet(got, []id.IdentityID{c2.ID()}) {
		t.Fatalf("C keeps %v, want only %v", got, c2.ID())
	}
	holds(t, getPlayer(t, env, cid, now), c2)
	if p := getPlayer(t, env, d1.PlayerID(), now); !p.IsDeleted() || p.IsPurged() {
		t.Fatalf("a player not due was purged: %+v", viewOf(p))
	} else {
		holds(t, p, d1)
	}
	if got := exported(eid); !sameSet(got, []id.IdentityID{e1.ID(), e2.ID()}) {
		t.Fatalf("E keeps %v, want %v and %v", got, e1.ID(), e2.ID())
	}

	purged := []string{"Purged-Ada", "Purged-Alan", "Purged-Cee", a1.ExternalKey().String(), a2.ExternalKey().String(), c1.ExternalKey().String()}
	kept := map[string]bool{"Kept-Cid": false, "Kept-Dee": false, "Kept-Ed": false, d1.ExternalKey().String(): false, e2.ExternalKey().String(): false}
	for _, e := range recorded(t, env, g.account) {
		if !json.Valid(e.Data) {
			t.Fatalf("%s %s: data is no JSON: %q", e.Type, e.Subject.ID, e.Data)
		}
		for _, s := range purged {
			if bytes.Contains(e.Data, []byte(s)) {
				t.Errorf("%s of %s still holds %q: %s", e.Type, e.Subject.ID, s, e.Data)
			}
		}
		for s := range kept {
			if bytes.Contains(e.Data, []byte(s)) {
				kept[s] = true
			}
		}
	}
	for s, found := range kept {
		if !found {
			t.Errorf("no event holds %q, which no purge took", s)
		}
	}
}
