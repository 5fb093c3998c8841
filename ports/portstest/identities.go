package portstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Identities() ports.IdentityRepository { return repository[ports.IdentityRepository](e) }

func init() {
	register("Identities", func(t *testing.T, s Stores) { runIdentities(t, s.Shared) })
	register("Lists", func(t *testing.T, s Stores) { runLists(t, s.Shared) })
}

// spec describes an identity to create.
type spec struct {
	game id.GameID
	kind identity.Kind
	key  string
	name string
	at   time.Time
}

func newIdentity(t *testing.T, s spec, account id.AccountID) *identity.Identity {
	t.Helper()
	key, err := identity.NewExternalKey(s.kind, s.key)
	must(t, err)
	var name identity.DisplayName
	if s.name != "" {
		name, err = identity.ParseDisplayName(s.name)
		must(t, err)
	}
	i, err := identity.New(account, s.game, key, name, s.at)
	must(t, err)
	return i
}

func create(t *testing.T, repo ports.IdentityRepository, account id.AccountID, s spec) *identity.Identity {
	t.Helper()
	got, created, err := repo.GetOrCreate(ctx(t), newIdentity(t, s, account), func(*identity.Identity) error {
		return errors.New("onExisting called for a new key")
	})
	must(t, err)
	if !created {
		t.Fatalf("identity %q was not created", s.key)
	}
	return got
}

func device(game id.GameID, n int, name string, at time.Time) spec {
	return spec{game: game, kind: identity.KindDevice, key: fmt.Sprintf("device-%08d", n), name: name, at: at}
}

func sameIdentity(t *testing.T, got, want *identity.Identity) {
	t.Helper()
	if got.Snapshot() != want.Snapshot() {
		t.Fatalf("identity differs:\n got  %+v\n want %+v", got.Snapshot(), want.Snapshot())
	}
}

func runIdentities(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("created identity reads back exactly", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		game := NewGame(t, env.Games(), acc.ID()).ID()
		for n, s := range []spec{
			device(game, 1, "Zoë  ✓", t0),
			{game: game, kind: identity.KindSteam, key: "76561197960287930", at: t0.Add(time.Microsecond)},
			{game: game, kind: identity.KindCustom, key: "custom!~", name: "x", at: t0.Add(time.Hour)},
		} {
			created := create(t, env.Identities(), acc.ID(), s)
			got, err := env.Identities().Get(ctx(t), created.ID())
			must(t, err)
			sameIdentity(t, got, created)
			if got.DisplayName().IsZero() != (s.name == "") {
				t.Errorf("%d: display name presence lost", n)
			}
		}
	})

	t.Run("get or create finds the live identity and saves onExisting's change", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		s := device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "First", t0)
		first := create(t, env.Identities(), acc.ID(), s)
		renamed, _ := identity.ParseDisplayName("Second")
		again, created, err := env.Identities().GetOrCreate(ctx(t), newIdentity(t, s, acc.ID()), func(i *identity.Identity) error {
			_, err := i.Rename(renamed, t0.Add(time.Minute))
			return err
		})
		must(t, err)
		if created || again.ID() != first.ID() {
			t.Fatalf("created=%v id=%v, want the existing %v", created, again.ID(), first.ID())
		}
		got, err := env.Identities().Get(ctx(t), first.ID())
		must(t, err)
		sameIdentity(t, got, again)
		if got.DisplayName() != renamed || !got.UpdatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("rename not saved: %+v", got.Snapshot())
		}
	})

	t.Run("get or create leaves the identity untouched when onExisting fails", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		s := device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "Kept", t0)
		first := create(t, env.Identities(), acc.ID(), s)
		boom := errors.New("boom")
		_, _, err := env.Identities().GetOrCreate(ctx(t), newIdentity(t, s, acc.ID()), func(i *identity.Identity) error {
			other, _ := identity.ParseDisplayName("Lost")
			_, _ = i.Rename(other, t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		got, err := env.Identities().Get(ctx(t), first.ID())
		must(t, err)
		sameIdentity(t, got, first)
	})

	t.Run("same key in another game, kind or account is another identity", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc, other := NewAccount(t, env.Tenancy()), NewAccount(t, env.Tenancy())
		game, second := NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), acc.ID()).ID()
		// A game belongs to one account: the other account's key is in a
		// game of its own.
		otherGame := NewGame(t, env.Games(), other.ID()).ID()
		ids := map[id.IdentityID]bool{}
		for _, c := range []struct {
			account id.AccountID
			s       spec
		}{
			{acc.ID(), spec{game: game, kind: identity.KindCustom, key: "76561197960287930", at: t0}},
			{acc.ID(), spec{game: game, kind: identity.KindSteam, key: "76561197960287930", at: t0}},
			{acc.ID(), spec{game: second, kind: identity.KindCustom, key: "76561197960287930", at: t0}},
			{other.ID(), spec{game: otherGame, kind: identity.KindCustom, key: "76561197960287930", at: t0}},
		} {
			ids[create(t, env.Identities(), c.account, c.s).ID()] = true
		}
		if len(ids) != 4 {
			t.Fatalf("got %d distinct identities, want 4", len(ids))
		}
	})

	t.Run("get or create is race-safe", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		s := device(NewGame(t, env.Games(), acc.ID()).ID(), 7, "Racer", t0)
		const n = 16
		var wg sync.WaitGroup
		results := make([]struct {
			id      id.IdentityID
			created bool
			err     error
		}, n)
		start := make(chan struct{})
		for g := range n {
			wg.Go(func() {
				<-start
				i, created, err := env.Identities().GetOrCreate(context.Background(), newIdentity(t, s, acc.ID()),
					func(*identity.Identity) error { return nil })
				results[g].created, results[g].err = created, err
				if err == nil {
					results[g].id = i.ID()
				}
			})
		}
		close(start)
		wg.Wait()
		creations := 0
		for _, r := range results {
			must(t, r.err)
			if r.created {
				creations++
			}
			if r.id != results[0].id {
				t.Fatalf("racers got different identities: %v and %v", r.id, results[0].id)
			}
		}
		if creations != 1 {
			t.Fatalf("%d racers created, want exactly 1", creations)
		}
	})

	t.Run("get or create races with deletes of the same key", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		s := device(NewGame(t, env.Games(), acc.ID()).ID(), 9, "", t0)
		const n = 24
		var wg sync.WaitGroup
		errs := make([]error, n)
		for g := range n {
			wg.Go(func() {
				i, _, err := env.Identities().GetOrCreate(context.Background(), newIdentity(t, s, acc.ID()),
					func(*identity.Identity) error { return nil })
				if err != nil {
					errs[g] = err
					return
				}
				_, err = env.Identities().Update(context.Background(), i.ID(), func(i *identity.Identity) error { return i.Delete(time.Now()) })
				if !errors.Is(err, identity.ErrNotFound) && !errors.Is(err, identity.ErrAlreadyDeleted) {
					errs[g] = err
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		page, err := env.Identities().List(ctx(t), ports.IdentityFilter{AccountID: acc.ID()},
			paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(page.Items) > 0 {
			t.Fatalf("%d identities are live after every caller deleted its own", len(page.Items))
		}
	})

	t.Run("an existing identity of a deleted game is not got again", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID()).ID()
		s := device(g, 1, "", t0)
		create(t, env.Identities(), acc.ID(), s)
		_, err := env.Games().Update(ctx(t), g, func(g *game.Game) error { return g.Delete(t0) })
		must(t, err)
		_, _, err = env.Identities().GetOrCreate(ctx(t), newIdentity(t, s, acc.ID()), func(*identity.Identity) error {
			t.Error("onExisting called for an identity of a deleted game")
			return nil
		})
		wantErr(t, err, game.ErrNotFound)
	})

	t.Run("an identity needs a game of its own account", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc, other := NewAccount(t, env.Tenancy()), NewAccount(t, env.Tenancy())
		othersGame := NewGame(t, env.Games(), other.ID()).ID()
		// A deleted game keeps its identities but takes no new one: the
		// store checks, in the writing transaction, that the game is live.
		deletedGame := NewGame(t, env.Games(), acc.ID()).ID()
		_, err := env.Games().Update(ctx(t), deletedGame, func(g *game.Game) error { return g.Delete(t0) })
		must(t, err)
		for _, c := range []struct {
			name    string
			account id.AccountID
			game    id.GameID
			want    error
		}{
			// An unknown account has no game: the game is what is missing.
			{"unknown account", id.New[id.Account](), othersGame, game.ErrNotFound},
			{"unknown game", acc.ID(), id.New[id.Game](), game.ErrNotFound},
			{"another account's game", acc.ID(), othersGame, game.ErrNotFound},
			{"deleted game", acc.ID(), deletedGame, game.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, created, err := env.Identities().GetOrCreate(ctx(t), newIdentity(t, device(c.game, 1, "", t0), c.account),
					func(*identity.Identity) error { return errors.New("onExisting called for a new key") })
				if c.want == nil {
					must(t, err)
					if !created {
						t.Fatal("not created")
					}
					return
				}
				wantErr(t, err, c.want)
				page, err := env.Identities().List(ctx(t), ports.IdentityFilter{GameID: c.game},
					paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 10})
				must(t, err)
				if len(page.Items) != 0 {
					t.Fatalf("a refused identity was stored: %+v", page.Items[0].Snapshot())
				}
			})
		}
	})

	t.Run("a deleted game's identities stay readable and listable", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID()).ID()
		var made []*identity.Identity
		for n := range 3 {
			made = append(made, create(t, env.Identities(), acc.ID(), device(g, n, "Kept", t0.Add(time.Duration(n)*time.Second))))
		}
		_, err := env.Games().Update(ctx(t), g, func(g *game.Game) error { return g.Delete(t0.Add(time.Hour)) })
		must(t, err)
		for _, i := range made {
			got, err := env.Identities().Get(ctx(t), i.ID())
			must(t, err)
			sameIdentity(t, got, i)
		}
		for _, f := range []ports.IdentityFilter{{AccountID: acc.ID()}, {GameID: g}, {AccountID: acc.ID(), GameID: g}} {
			page, err := env.Identities().List(ctx(t), f, paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 10})
			must(t, err)
			if len(page.Items) != len(made) {
				t.Fatalf("%+v lists %d identities of the deleted game, want %d", f, len(page.Items), len(made))
			}
		}
	})

	t.Run("a list by external key matches it exactly", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc, other := NewAccount(t, env.Tenancy()), NewAccount(t, env.Tenancy())
		g, g2, otherGame := NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), other.ID()).ID()
		// Unique to this test, so that a list across accounts of a shared
		// store sees only its identities.
		key := "player-" + acc.ID().UUID().String()[24:]
		byName := map[string]*identity.Identity{}
		for _, c := range []struct {
			name    string
			account id.AccountID
			s       spec
		}{
			{"custom", acc.ID(), spec{game: g, kind: identity.KindCustom, key: key, at: t0}},
			{"device", acc.ID(), spec{game: g, kind: identity.KindDevice, key: key, at: t0.Add(time.Second)}},
			{"second game", acc.ID(), spec{game: g2, kind: identity.KindCustom, key: key, at: t0.Add(2 * time.Second)}},
			{"other account", other.ID(), spec{game: otherGame, kind: identity.KindCustom, key: key, at: t0.Add(3 * time.Second)}},
			{"longer", acc.ID(), spec{game: g, kind: identity.KindCustom, key: key + "0", at: t0}},
			{"upper case", acc.ID(), spec{game: g, kind: identity.KindCustom, key: "PLAYER-" + key[len("player-"):], at: t0}},
			{"deleted", acc.ID(), spec{game: g2, kind: identity.KindDevice, key: key, at: t0}},
		} {
			byName[c.name] = create(t, env.Identities(), c.account, c.s)
		}
		_, err := env.Identities().Update(ctx(t), byName["deleted"].ID(), func(i *identity.Identity) error { return i.Delete(t0) })
		must(t, err)

		for _, c := range []struct {
			name string
			f    ports.IdentityFilter
			want []string // in the default order, newest first
		}{
			{"key", ports.IdentityFilter{ExternalKey: key}, []string{"other account", "second game", "device", "custom"}},
			{"account and key", ports.IdentityFilter{AccountID: acc.ID(), ExternalKey: key}, []string{"second game", "device", "custom"}},
			{"account, key and kind", ports.IdentityFilter{AccountID: acc.ID(), ExternalKey: key, Kind: identity.KindCustom},
				[]string{"second game", "custom"}},
			{"key and kind", ports.IdentityFilter{ExternalKey: key, Kind: identity.KindDevice}, []string{"device"}},
			{"game and key", ports.IdentityFilter{GameID: g, ExternalKey: key}, []string{"device", "custom"}},
			{"a prefix of the key", ports.IdentityFilter{AccountID: acc.ID(), ExternalKey: key[:len(key)-1]}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				page, err := env.Identities().List(ctx(t), c.f, paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 10})
				must(t, err)
				var want []string
				for _, name := range c.want {
					want = append(want, byName[name].ID().String())
				}
				var got []string
				for _, i := range page.Items {
					got = append(got, i.ID().String())
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v (%v)", got, want, c.want)
				}
			})
		}
	})

	t.Run("unknown identity is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, err := env.Identities().Get(ctx(t), id.New[id.Identity]())
		wantErr(t, err, identity.ErrNotFound)
		_, err = env.Identities().Update(ctx(t), id.New[id.Identity](), func(*identity.Identity) error { return nil })
		wantErr(t, err, identity.ErrNotFound)
	})

	t.Run("update saves, and a failing update changes nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		i := create(t, env.Identities(), acc.ID(), device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "Before", t0))
		boom := errors.New("boom")
		_, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error {
			name, _ := identity.ParseDisplayName("Lost")
			_, _ = i.Rename(name, t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		got, err := env.Identities().Get(ctx(t), i.ID())
		must(t, err)
		sameIdentity(t, got, i)

		after := t0.Add(2 * time.Hour)
		updated, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error {
			name, _ := identity.ParseDisplayName("After")
			_, err := i.Rename(name, after)
			return err
		})
		must(t, err)
		got, err = env.Identities().Get(ctx(t), i.ID())
		must(t, err)
		sameIdentity(t, got, updated)
		if got.DisplayName().String() != "After" || !got.UpdatedAt().Equal(after) || !got.CreatedAt().Equal(t0) {
			t.Fatalf("update not saved as made: %+v", got.Snapshot())
		}
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		i := create(t, env.Identities(), acc.ID(), device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "0", t0))
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for g := range n {
			wg.Go(func() {
				_, errs[g] = env.Identities().Update(context.Background(), i.ID(), func(i *identity.Identity) error {
					count, err := strconv.Atoi(i.DisplayName().String())
					if err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // widen the read-modify-write window
					name, _ := identity.ParseDisplayName(strconv.Itoa(count + 1))
					_, err = i.Rename(name, time.Now())
					return err
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		got, err := env.Identities().Get(ctx(t), i.ID())
		must(t, err)
		if got.DisplayName().String() != strconv.Itoa(n) {
			t.Fatalf("after %d increments the name is %q: updates were lost", n, got.DisplayName())
		}
	})

	t.Run("soft-deleted identities are invisible and their key is free again", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		s := device(NewGame(t, env.Games(), acc.ID()).ID(), 1, "Gone", t0)
		i := create(t, env.Identities(), acc.ID(), s)
		deleted, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0.Add(time.Hour)) })
		must(t, err)
		if !deleted.IsDeleted() {
			t.Fatal("Update did not return the deleted identity")
		}
		_, err = env.Identities().Get(ctx(t), i.ID())
		wantErr(t, err, identity.ErrNotFound)
		_, err = env.Identities().Update(ctx(t), i.ID(), func(*identity.Identity) error { return nil })
		wantErr(t, err, identity.ErrNotFound)
		page, err := env.Identities().List(ctx(t), ports.IdentityFilter{AccountID: acc.ID()},
			paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(page.Items) != 0 {
			t.Fatalf("a deleted identity is listed: %+v", page.Items[0].Snapshot())
		}
		again := create(t, env.Identities(), acc.ID(), s)
		if again.ID() == i.ID() {
			t.Fatal("the deleted identity came back instead of a new one")
		}
	})
}

// fixture is a set of live identities in one account, with ties and NULLs
// in every sort field and external keys shared across kinds and games, plus
// noise that no filter of it may return.
type fixture struct {
	account id.AccountID
	games   [2]id.GameID
	all     []*identity.Identity
}

func newFixture(t *testing.T, env Env) fixture {
	t.Helper()
	acc := NewAccount(t, env.Tenancy())
	f := fixture{account: acc.ID(), games: [2]id.GameID{NewGame(t, env.Games(), acc.ID()).ID(), NewGame(t, env.Games(), acc.ID()).ID()}}
	names := []string{"", "alice", "Bob", "alice", "", "Émile", "zed", "Bob", "", "ärger", "alice", "Zed"}
	kinds := []identity.Kind{identity.KindDevice, identity.KindCustom, identity.KindSteam}
	for n := range 25 {
		kind := kinds[n%3]
		// n%7 repeats keys in other kinds and games (never the same natural
		// key before n=42); the account's random digits keep them to it.
		key := fixtureKey(acc.ID(), n%7)
		if kind == identity.KindSteam {
			key = fmt.Sprintf("7656119%010d", n%7)
		}
		at := t0.Add(time.Duration(n/3) * time.Second) // three identities per instant
		i := create(t, env.Identities(), f.account, spec{game: f.games[n%2], kind: kind, key: key, name: names[n%len(names)], at: at})
		if n%5 == 1 { // and a spread of updated_at
			var err error
			i, err = env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error {
				name, _ := identity.ParseDisplayName(fmt.Sprintf("renamed %d", n%8))
				_, err := i.Rename(name, t0.Add(time.Duration(100-n/8)*time.Second))
				return err
			})
			must(t, err)
		}
		f.all = append(f.all, i)
	}
	// A deleted identity and another account's identity must never show.
	gone := create(t, env.Identities(), f.account, device(f.games[0], 999, "gone", t0))
	_, err := env.Identities().Update(ctx(t), gone.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
	must(t, err)
	other := NewAccount(t, env.Tenancy())
	otherGame := NewGame(t, env.Games(), other.ID()).ID()
	create(t, env.Identities(), other.ID(), device(otherGame, 998, "other", t0))
	create(t, env.Identities(), other.ID(), spec{game: otherGame, kind: identity.KindCustom, key: fixtureKey(acc.ID(), 0), at: t0})
	return f
}

func fixtureKey(account id.AccountID, n int) string {
	return fmt.Sprintf("key-%06d-%s", n, account.UUID().String()[24:])
}

func runLists(t *testing.T, shared func(t *testing.T) Env) {
	env := shared(t)
	f := newFixture(t, env)

	sorts := []string{
		"created_at:desc,id:asc", "created_at:asc", "id:asc", "id:desc",
		"display_name:asc", "display_name:desc", "kind:asc", "kind:desc",
		"updated_at:asc", "updated_at:desc",
		"display_name:desc,created_at:asc", "kind:asc,display_name:asc,id:desc", "updated_at:desc,display_name:asc",
	}
	filters := []struct {
		name  string
		f     ports.IdentityFilter
		match func(*identity.Identity) bool
	}{
		{"account", ports.IdentityFilter{AccountID: f.account}, func(*identity.Identity) bool { return true }},
		{"game", ports.IdentityFilter{GameID: f.games[1]}, func(i *identity.Identity) bool { return i.GameID() == f.games[1] }},
		{"account and kind", ports.IdentityFilter{AccountID: f.account, Kind: identity.KindSteam},
			func(i *identity.Identity) bool { return i.Kind() == identity.KindSteam }},
		{"account, game and kind", ports.IdentityFilter{AccountID: f.account, GameID: f.games[0], Kind: identity.KindDevice},
			func(i *identity.Identity) bool { return i.GameID() == f.games[0] && i.Kind() == identity.KindDevice }},
		{"account and external key", ports.IdentityFilter{AccountID: f.account, ExternalKey: fixtureKey(f.account, 0)},
			func(i *identity.Identity) bool { return i.ExternalKey().String() == fixtureKey(f.account, 0) }},
		{"account, kind and external key", ports.IdentityFilter{AccountID: f.account, Kind: identity.KindDevice, ExternalKey: fixtureKey(f.account, 0)},
			func(i *identity.Identity) bool {
				return i.Kind() == identity.KindDevice && i.ExternalKey().String() == fixtureKey(f.account, 0)
			}},
	}
	for _, fl := range filters {
		for _, raw := range sorts {
			sort, err := ports.IdentitySchema.ParseSort(raw)
			must(t, err)
			want := slices.DeleteFunc(slices.Clone(f.all), func(i *identity.Identity) bool { return !fl.match(i) })
			slices.SortFunc(want, func(a, b *identity.Identity) int {
				return sort.Compare(ports.IdentitySchema.Position(a, sort), ports.IdentitySchema.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 7, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					list := func(r paging.Request) (paging.Result[*identity.Identity], error) {
						return env.Identities().List(ctx(t), fl.f, r)
					}
					Walk(t, list, sort, limit, want, ports.IdentitySchema, func(i *identity.Identity) string { return i.ID().String() })
				})
			}
		}
	}
}
