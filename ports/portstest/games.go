package portstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Games() ports.GameRepository { return repository[ports.GameRepository](e) }

func init() {
	register("Games", func(t *testing.T, s Stores) { runGames(t, s.Shared) })
	register("GameLists", func(t *testing.T, s Stores) { runGameLists(t, s.Shared) })
}

// NewGame creates a live game with a unique slug in the account. Every
// identity needs one: stores refuse identities of games that do not exist.
func NewGame(tb testing.TB, games ports.GameRepository, account id.AccountID) *game.Game {
	tb.Helper()
	g := newGame(tb, account, "Game", uniqueSlug("game"), t0)
	if err := games.Create(tb.Context(), g); err != nil {
		tb.Fatalf("create game: %v", err)
	}
	return g
}

// uniqueSlug is unique in any store the suite shares with other tests, so
// that a list by slug alone finds one game: a shared store outlives a test.
func uniqueSlug(prefix string) string {
	return prefix + "-" + id.New[id.Game]().UUID().String()[24:]
}

func newGame(tb testing.TB, account id.AccountID, name, slug string, at time.Time) *game.Game {
	tb.Helper()
	n, err := game.ParseName(name)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := game.ParseSlug(slug)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := game.New(account, n, s, at)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// sameGame compares whole snapshots: the sealed Steam key is bytes that a
// store must give back as they were.
func sameGame(t *testing.T, got, want *game.Game) {
	t.Helper()
	if g, w := got.Snapshot(), want.Snapshot(); !reflect.DeepEqual(g, w) {
		t.Fatalf("game differs:\n got  %+v\n want %+v", g, w)
	}
}

func rename(g *game.Game, name string, at time.Time) error {
	n, err := game.ParseName(name)
	if err != nil {
		return err
	}
	_, err = g.Apply(game.Change{Name: &n}, at)
	return err
}

func listGames(t *testing.T, env Env, f ports.GameFilter) []*game.Game {
	t.Helper()
	res, err := env.Games().List(ctx(t), f, paging.Request{Sort: ports.GameSchema.DefaultSort(), Limit: 100})
	must(t, err)
	return res.Items
}

func runGames(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("created game reads back exactly", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		appID, err := game.ParseSteamAppID("4800000001")
		must(t, err)
		off := false
		for _, c := range []struct {
			name   string
			change *game.Change
		}{
			{"Zoë  ✓ Game", nil},
			{"x", &game.Change{SteamAppID: &appID}},
			// Sealed bytes are binary: NUL and high bytes must survive.
			{"Steam game", &game.Change{SteamAppID: &appID, SteamKey: []byte{0, 1, 0xfe, 0xff, 0, 'k'}}},
			{"Steam only", &game.Change{SteamAppID: &appID, SteamKey: []byte("sealed"), DeviceSignIn: &off}},
		} {
			g := newGame(t, acc.ID(), c.name, uniqueSlug("read"), t0)
			if c.change != nil {
				_, err := g.Apply(*c.change, t0.Add(time.Microsecond))
				must(t, err)
			}
			must(t, env.Games().Create(ctx(t), g))
			got, err := env.Games().Get(ctx(t), g.ID())
			must(t, err)
			sameGame(t, got, g)
			listed := listGames(t, env, ports.GameFilter{Slug: g.Slug().String()})
			if len(listed) != 1 {
				t.Fatalf("a list by slug gives %d games, want 1", len(listed))
			}
			sameGame(t, listed[0], g)
		}
	})

	t.Run("a slug is taken for good within its account, and only there", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc, other := NewAccount(t, env.Tenancy()), NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID())
		slug := g.Slug().String()
		wantErr(t, env.Games().Create(ctx(t), newGame(t, acc.ID(), "Again", slug, t0)), game.ErrSlugTaken)
		// Another tenant's slug neither shows nor stands in the way.
		elsewhere := newGame(t, other.ID(), "Elsewhere", slug, t0)
		must(t, env.Games().Create(ctx(t), elsewhere))
		wantErr(t, env.Games().Create(ctx(t), newGame(t, other.ID(), "Again elsewhere", slug, t0)), game.ErrSlugTaken)
		_, err := env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error { return g.Delete(t0.Add(time.Hour)) })
		must(t, err)
		wantErr(t, env.Games().Create(ctx(t), newGame(t, acc.ID(), "After", slug, t0)), game.ErrSlugTaken)
		if listed := listGames(t, env, ports.GameFilter{Slug: slug}); len(listed) != 1 || listed[0].ID() != elsewhere.ID() {
			t.Fatalf("%d live games have the slug, want only the other account's", len(listed))
		}
		for account, want := range map[id.AccountID]int{acc.ID(): 0, other.ID(): 1} {
			if n := len(listGames(t, env, ports.GameFilter{AccountID: account, Slug: slug})); n != want {
				t.Fatalf("account %s lists %d games with the slug, want %d", account, n, want)
			}
		}
	})

	t.Run("unknown account is refused", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		g := newGame(t, id.New[id.Account](), "Orphan", uniqueSlug("orphan"), t0)
		wantErr(t, env.Games().Create(ctx(t), g), tenancy.ErrAccountNotFound)
		_, err := env.Games().Get(ctx(t), g.ID())
		wantErr(t, err, game.ErrNotFound)
	})

	t.Run("unknown game is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, err := env.Games().Get(ctx(t), id.New[id.Game]())
		wantErr(t, err, game.ErrNotFound)
		_, err = env.Games().Update(ctx(t), id.New[id.Game](), func(*game.Game) error {
			return errors.New("fn called for an unknown game")
		})
		wantErr(t, err, game.ErrNotFound)
	})

	t.Run("update saves what fn changed, and a failing fn changes nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID())
		appID, err := game.ParseSteamAppID("480")
		must(t, err)
		key := []byte("sealed steam key \x00\xff")

		boom := errors.New("boom")
		_, err = env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
			_, _ = g.Apply(game.Change{SteamAppID: &appID, SteamKey: key}, t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		got, err := env.Games().Get(ctx(t), g.ID())
		must(t, err)
		sameGame(t, got, g)

		// A change to nothing is no change: updated_at stays.
		same, err := env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
			return rename(g, g.Name().String(), t0.Add(time.Hour))
		})
		must(t, err)
		sameGame(t, same, g)
		got, err = env.Games().Get(ctx(t), g.ID())
		must(t, err)
		sameGame(t, got, g)

		set := t0.Add(2 * time.Hour)
		updated, err := env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
			_, err := g.Apply(game.Change{SteamAppID: &appID, SteamKey: key}, set)
			return err
		})
		must(t, err)
		got, err = env.Games().Get(ctx(t), g.ID())
		must(t, err)
		sameGame(t, got, updated)
		if got.SteamAppID() != appID || string(got.SealedSteamKey()) != string(key) || !got.SteamConfigured() ||
			got.Name() != g.Name() || !got.UpdatedAt().Equal(set) || !got.CreatedAt().Equal(g.CreatedAt()) {
			t.Fatalf("Steam settings not saved as made: %+v", got.Snapshot())
		}

		cleared := t0.Add(3 * time.Hour)
		updated, err = env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
			_, err := g.Apply(game.Change{ClearSteamAppID: true, ClearSteamKey: true}, cleared)
			return err
		})
		must(t, err)
		got, err = env.Games().Get(ctx(t), g.ID())
		must(t, err)
		sameGame(t, got, updated)
		if !got.SteamAppID().IsZero() || got.SealedSteamKey() != nil || !got.UpdatedAt().Equal(cleared) {
			t.Fatalf("Steam settings not cleared: %+v", got.Snapshot())
		}

		off := false
		updated, err = env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
			_, err := g.Apply(game.Change{DeviceSignIn: &off}, cleared.Add(time.Hour))
			return err
		})
		must(t, err)
		got, err = env.Games().Get(ctx(t), g.ID())
		must(t, err)
		sameGame(t, got, updated)
		if got.DeviceSignIn() || !got.UpdatedAt().Equal(cleared.Add(time.Hour)) {
			t.Fatalf("device sign-in not turned off: %+v", got.Snapshot())
		}
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := newGame(t, acc.ID(), "0", uniqueSlug("race"), t0)
		must(t, env.Games().Create(ctx(t), g))
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for r := range n {
			wg.Go(func() {
				_, errs[r] = env.Games().Update(context.Background(), g.ID(), func(g *game.Game) error {
					count, err := strconv.Atoi(g.Name().String())
					if err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // widen the read-modify-write window
					// updated_at counts too, so that a name and a time saved
					// by different writers show.
					return rename(g, strconv.Itoa(count+1), t0.Add(time.Duration(count+1)*time.Second))
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		got, err := env.Games().Get(ctx(t), g.ID())
		must(t, err)
		if got.Name().String() != strconv.Itoa(n) || !got.UpdatedAt().Equal(t0.Add(n*time.Second)) {
			t.Fatalf("after %d increments the game is %q updated at %v: updates were lost", n, got.Name(), got.UpdatedAt())
		}
	})

	t.Run("deleted games are invisible", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		g := NewGame(t, env.Games(), acc.ID())
		kept := NewGame(t, env.Games(), acc.ID())
		deleted, err := env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error { return g.Delete(t0.Add(time.Hour)) })
		must(t, err)
		if !deleted.IsDeleted() || !deleted.DeletedAt().Equal(t0.Add(time.Hour)) {
			t.Fatalf("Update did not return the deleted game: %+v", deleted.Snapshot())
		}
		_, err = env.Games().Get(ctx(t), g.ID())
		wantErr(t, err, game.ErrNotFound)
		_, err = env.Games().Update(ctx(t), g.ID(), func(*game.Game) error {
			return errors.New("fn called for a deleted game")
		})
		wantErr(t, err, game.ErrNotFound)
		if listed := listGames(t, env, ports.GameFilter{AccountID: acc.ID()}); len(listed) != 1 || listed[0].ID() != kept.ID() {
			t.Fatalf("the account lists %d games, want only the live one", len(listed))
		}
		if listed := listGames(t, env, ports.GameFilter{Slug: g.Slug().String()}); len(listed) != 0 {
			t.Fatal("a deleted game is listed by its slug")
		}
	})
}

// gameFixture is one account's live games, with ties in names, creation
// and update times, plus games no filter of it may return.
type gameFixture struct {
	account id.AccountID
	all     []*game.Game
	// otherSlug is the slug of another account's game.
	otherSlug string
}

func newGameFixture(t *testing.T, env Env) gameFixture {
	t.Helper()
	acc := NewAccount(t, env.Tenancy())
	f := gameFixture{account: acc.ID()}
	suffix := acc.ID().UUID().String()[24:]
	names := []string{"alpha", "Beta", "alpha", "émile", "Zed", "Beta", "zed", "alpha", "ärger", "Émile", "b", "Beta", "alpha"}
	for n, name := range names {
		// Slugs in an order of their own, neither creation's nor names'.
		slug := fmt.Sprintf("s%02d-%s", n*5%len(names), suffix)
		g := newGame(t, f.account, name, slug, t0.Add(time.Duration(n/3)*time.Second)) // three per instant
		must(t, env.Games().Create(ctx(t), g))
		if n%4 == 1 { // and a spread of updated_at
			var err error
			g, err = env.Games().Update(ctx(t), g.ID(), func(g *game.Game) error {
				return rename(g, fmt.Sprintf("renamed %d", n%3), t0.Add(time.Duration(100-n/4)*time.Second))
			})
			must(t, err)
		}
		f.all = append(f.all, g)
	}
	gone := newGame(t, f.account, "alpha", "gone-"+suffix, t0)
	must(t, env.Games().Create(ctx(t), gone))
	_, err := env.Games().Update(ctx(t), gone.ID(), func(g *game.Game) error { return g.Delete(t0) })
	must(t, err)
	other := newGame(t, NewAccount(t, env.Tenancy()).ID(), "alpha", "other-"+suffix, t0)
	must(t, env.Games().Create(ctx(t), other))
	f.otherSlug = other.Slug().String()
	return f
}

func runGameLists(t *testing.T, shared func(t *testing.T) Env) {
	env := shared(t)
	f := newGameFixture(t, env)
	one := f.all[4]

	sorts := []string{
		"created_at:desc,id:asc", "created_at:asc", "id:asc", "id:desc",
		"name:asc", "name:desc", "slug:asc", "slug:desc", "updated_at:asc", "updated_at:desc",
		"name:asc,created_at:desc", "name:desc,updated_at:asc,id:desc", "updated_at:desc,name:asc",
	}
	filters := []struct {
		name  string
		f     ports.GameFilter
		match func(*game.Game) bool
	}{
		{"account", ports.GameFilter{AccountID: f.account}, func(*game.Game) bool { return true }},
		{"account and slug", ports.GameFilter{AccountID: f.account, Slug: one.Slug().String()},
			func(g *game.Game) bool { return g.ID() == one.ID() }},
		{"slug", ports.GameFilter{Slug: one.Slug().String()}, func(g *game.Game) bool { return g.ID() == one.ID() }},
		{"account and another account's slug", ports.GameFilter{AccountID: f.account, Slug: f.otherSlug},
			func(*game.Game) bool { return false }},
	}
	for _, fl := range filters {
		for _, raw := range sorts {
			sort, err := ports.GameSchema.ParseSort(raw)
			must(t, err)
			want := slices.DeleteFunc(slices.Clone(f.all), func(g *game.Game) bool { return !fl.match(g) })
			slices.SortFunc(want, func(a, b *game.Game) int {
				return sort.Compare(ports.GameSchema.Position(a, sort), ports.GameSchema.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					list := func(r paging.Request) (paging.Result[*game.Game], error) {
						return env.Games().List(ctx(t), fl.f, r)
					}
					Walk(t, list, sort, limit, want, ports.GameSchema, func(g *game.Game) string { return g.ID().String() })
				})
			}
		}
	}
}
