// Package portstest is the contract suite of the driven ports. Every
// implementation (the bun store, the in-memory fakes) runs it, so they all
// behave alike: the order of lists, the visibility of soft-deleted rows, and
// the safety of concurrent writes.
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

	"github.com/leadr-oss/identity/application/admin"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Env is one store's repositories.
type Env struct {
	Identities ports.IdentityRepository
	Tenancy    ports.TenancyRepository
	Secrets    ports.SecretStore
}

// Run runs the whole suite. shared gives repositories on a store other tests
// use too (tests isolate themselves by creating their own accounts); fresh
// gives repositories on an empty store, for what is global (bootstrap).
func Run(t *testing.T, shared, fresh func(t *testing.T) Env) {
	t.Run("Identities", func(t *testing.T) { runIdentities(t, shared) })
	t.Run("Lists", func(t *testing.T) { runLists(t, shared) })
	t.Run("Tenancy", func(t *testing.T) { runTenancy(t, shared) })
	t.Run("Bootstrap", func(t *testing.T) { runBootstrap(t, fresh(t)) })
	t.Run("Secrets", func(t *testing.T) { runSecrets(t, shared(t)) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

// NewAccount creates an account with a unique slug.
func NewAccount(t *testing.T, repo ports.TenancyRepository) *tenancy.Account {
	t.Helper()
	slug := "acc-" + id.New[id.Account]().UUID().String()[24:]
	a, err := tenancy.NewAccount("Account "+slug, slug, t0)
	must(t, err)
	must(t, repo.CreateAccount(ctx(t), a))
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("got error %v, want %v", got, want)
	}
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
		acc := NewAccount(t, env.Tenancy)
		game := id.New[id.Game]()
		for n, s := range []spec{
			device(game, 1, "Zoë  ✓", t0),
			{game: game, kind: identity.KindSteam, key: "76561197960287930", at: t0.Add(time.Microsecond)},
			{game: game, kind: identity.KindCustom, key: "custom!~", name: "x", at: t0.Add(time.Hour)},
		} {
			created := create(t, env.Identities, acc.ID(), s)
			got, err := env.Identities.Get(ctx(t), created.ID())
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
		acc := NewAccount(t, env.Tenancy)
		s := device(id.New[id.Game](), 1, "First", t0)
		first := create(t, env.Identities, acc.ID(), s)
		renamed, _ := identity.ParseDisplayName("Second")
		again, created, err := env.Identities.GetOrCreate(ctx(t), newIdentity(t, s, acc.ID()), func(i *identity.Identity) error {
			_, err := i.Rename(renamed, t0.Add(time.Minute))
			return err
		})
		must(t, err)
		if created || again.ID() != first.ID() {
			t.Fatalf("created=%v id=%v, want the existing %v", created, again.ID(), first.ID())
		}
		got, err := env.Identities.Get(ctx(t), first.ID())
		must(t, err)
		sameIdentity(t, got, again)
		if got.DisplayName() != renamed || !got.UpdatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("rename not saved: %+v", got.Snapshot())
		}
	})

	t.Run("get or create leaves the identity untouched when onExisting fails", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy)
		s := device(id.New[id.Game](), 1, "Kept", t0)
		first := create(t, env.Identities, acc.ID(), s)
		boom := errors.New("boom")
		_, _, err := env.Identities.GetOrCreate(ctx(t), newIdentity(t, s, acc.ID()), func(i *identity.Identity) error {
			other, _ := identity.ParseDisplayName("Lost")
			_, _ = i.Rename(other, t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		got, err := env.Identities.Get(ctx(t), first.ID())
		must(t, err)
		sameIdentity(t, got, first)
	})

	t.Run("same key in another game, kind or account is another identity", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc, other := NewAccount(t, env.Tenancy), NewAccount(t, env.Tenancy)
		game := id.New[id.Game]()
		ids := map[id.IdentityID]bool{}
		for _, c := range []struct {
			account id.AccountID
			s       spec
		}{
			{acc.ID(), spec{game: game, kind: identity.KindCustom, key: "76561197960287930", at: t0}},
			{acc.ID(), spec{game: game, kind: identity.KindSteam, key: "76561197960287930", at: t0}},
			{acc.ID(), spec{game: id.New[id.Game](), kind: identity.KindCustom, key: "76561197960287930", at: t0}},
			{other.ID(), spec{game: game, kind: identity.KindCustom, key: "76561197960287930", at: t0}},
		} {
			ids[create(t, env.Identities, c.account, c.s).ID()] = true
		}
		if len(ids) != 4 {
			t.Fatalf("got %d distinct identities, want 4", len(ids))
		}
	})

	t.Run("get or create is race-safe", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy)
		s := device(id.New[id.Game](), 7, "Racer", t0)
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
				i, created, err := env.Identities.GetOrCreate(context.Background(), newIdentity(t, s, acc.ID()),
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
		acc := NewAccount(t, env.Tenancy)
		s := device(id.New[id.Game](), 9, "", t0)
		const n = 24
		var wg sync.WaitGroup
		errs := make([]error, n)
		for g := range n {
			wg.Go(func() {
				i, _, err := env.Identities.GetOrCreate(context.Background(), newIdentity(t, s, acc.ID()),
					func(*identity.Identity) error { return nil })
				if err != nil {
					errs[g] = err
					return
				}
				_, err = env.Identities.Update(context.Background(), i.ID(), func(i *identity.Identity) error { return i.Delete(time.Now()) })
				if !errors.Is(err, identity.ErrNotFound) && !errors.Is(err, identity.ErrAlreadyDeleted) {
					errs[g] = err
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		page, err := env.Identities.List(ctx(t), ports.IdentityFilter{AccountID: acc.ID()},
			paging.Request{Sort: appidentity.Schema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(page.Items) > 0 {
			t.Fatalf("%d identities are live after every caller deleted its own", len(page.Items))
		}
	})

	t.Run("unknown account is refused", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, _, err := env.Identities.GetOrCreate(ctx(t), newIdentity(t, device(id.New[id.Game](), 1, "", t0), id.New[id.Account]()),
			func(*identity.Identity) error { return nil })
		wantErr(t, err, tenancy.ErrAccountNotFound)
	})

	t.Run("unknown identity is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, err := env.Identities.Get(ctx(t), id.New[id.Identity]())
		wantErr(t, err, identity.ErrNotFound)
		_, err = env.Identities.Update(ctx(t), id.New[id.Identity](), func(*identity.Identity) error { return nil })
		wantErr(t, err, identity.ErrNotFound)
	})

	t.Run("update saves, and a failing update changes nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy)
		i := create(t, env.Identities, acc.ID(), device(id.New[id.Game](), 1, "Before", t0))
		boom := errors.New("boom")
		_, err := env.Identities.Update(ctx(t), i.ID(), func(i *identity.Identity) error {
			name, _ := identity.ParseDisplayName("Lost")
			_, _ = i.Rename(name, t0.Add(time.Hour))
			return boom
		})
		wantErr(t, err, boom)
		got, err := env.Identities.Get(ctx(t), i.ID())
		must(t, err)
		sameIdentity(t, got, i)

		after := t0.Add(2 * time.Hour)
		updated, err := env.Identities.Update(ctx(t), i.ID(), func(i *identity.Identity) error {
			name, _ := identity.ParseDisplayName("After")
			_, err := i.Rename(name, after)
			return err
		})
		must(t, err)
		got, err = env.Identities.Get(ctx(t), i.ID())
		must(t, err)
		sameIdentity(t, got, updated)
		if got.DisplayName().String() != "After" || !got.UpdatedAt().Equal(after) || !got.CreatedAt().Equal(t0) {
			t.Fatalf("update not saved as made: %+v", got.Snapshot())
		}
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy)
		i := create(t, env.Identities, acc.ID(), device(id.New[id.Game](), 1, "0", t0))
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for g := range n {
			wg.Go(func() {
				_, errs[g] = env.Identities.Update(context.Background(), i.ID(), func(i *identity.Identity) error {
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
		got, err := env.Identities.Get(ctx(t), i.ID())
		must(t, err)
		if got.DisplayName().String() != strconv.Itoa(n) {
			t.Fatalf("after %d increments the name is %q: updates were lost", n, got.DisplayName())
		}
	})

	t.Run("soft-deleted identities are invisible and their key is free again", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy)
		game := id.New[id.Game]()
		s := device(game, 1, "Gone", t0)
		i := create(t, env.Identities, acc.ID(), s)
		deleted, err := env.Identities.Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0.Add(time.Hour)) })
		must(t, err)
		if !deleted.IsDeleted() {
			t.Fatal("Update did not return the deleted identity")
		}
		_, err = env.Identities.Get(ctx(t), i.ID())
		wantErr(t, err, identity.ErrNotFound)
		_, err = env.Identities.Update(ctx(t), i.ID(), func(*identity.Identity) error { return nil })
		wantErr(t, err, identity.ErrNotFound)
		page, err := env.Identities.List(ctx(t), ports.IdentityFilter{AccountID: acc.ID()},
			paging.Request{Sort: appidentity.Schema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(page.Items) != 0 {
			t.Fatalf("a deleted identity is listed: %+v", page.Items[0].Snapshot())
		}
		again := create(t, env.Identities, acc.ID(), s)
		if again.ID() == i.ID() {
			t.Fatal("the deleted identity came back instead of a new one")
		}
	})
}

// fixture is a set of live identities in one account, with ties and NULLs
// in every sort field, plus noise that no filter of it may return.
type fixture struct {
	account id.AccountID
	games   [2]id.GameID
	all     []*identity.Identity
}

func newFixture(t *testing.T, env Env) fixture {
	t.Helper()
	acc := NewAccount(t, env.Tenancy)
	f := fixture{account: acc.ID(), games: [2]id.GameID{id.New[id.Game](), id.New[id.Game]()}}
	names := []string{"", "alice", "Bob", "alice", "", "Émile", "zed", "Bob", "", "ärger", "alice", "Zed"}
	kinds := []identity.Kind{identity.KindDevice, identity.KindCustom, identity.KindSteam}
	for n := range 25 {
		kind := kinds[n%3]
		key := fmt.Sprintf("key-%06d-%s", n, acc.ID().UUID().String()[:8])
		if kind == identity.KindSteam {
			key = fmt.Sprintf("7656119%010d", n)
		}
		at := t0.Add(time.Duration(n/3) * time.Second) // three identities per instant
		i := create(t, env.Identities, f.account, spec{game: f.games[n%2], kind: kind, key: key, name: names[n%len(names)], at: at})
		if n%5 == 1 { // and a spread of updated_at
			var err error
			i, err = env.Identities.Update(ctx(t), i.ID(), func(i *identity.Identity) error {
				name, _ := identity.ParseDisplayName(fmt.Sprintf("renamed %d", n%8))
				_, err := i.Rename(name, t0.Add(time.Duration(100-n/8)*time.Second))
				return err
			})
			must(t, err)
		}
		f.all = append(f.all, i)
	}
	// A deleted identity and another account's identity must never show.
	gone := create(t, env.Identities, f.account, device(f.games[0], 999, "gone", t0))
	_, err := env.Identities.Update(ctx(t), gone.ID(), func(i *identity.Identity) error { return i.Delete(t0) })
	must(t, err)
	other := NewAccount(t, env.Tenancy)
	create(t, env.Identities, other.ID(), device(f.games[0], 998, "other", t0))
	return f
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
	}
	for _, fl := range filters {
		for _, raw := range sorts {
			sort, err := appidentity.Schema.ParseSort(raw)
			must(t, err)
			want := slices.DeleteFunc(slices.Clone(f.all), func(i *identity.Identity) bool { return !fl.match(i) })
			slices.SortFunc(want, func(a, b *identity.Identity) int {
				return sort.Compare(appidentity.Position(a, sort), appidentity.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 7, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					list := func(r paging.Request) (paging.Result[*identity.Identity], error) {
						return env.Identities.List(ctx(t), fl.f, r)
					}
					Walk(t, list, sort, limit, want, appidentity.Position, func(i *identity.Identity) string { return i.ID().String() })
				})
			}
		}
	}
}

// Walk pages through a list forward from the start and then backward from
// the end, and checks that each direction visits want exactly, in order,
// with "more" reported exactly when rows remain.
func Walk[T any](t *testing.T, list func(paging.Request) (paging.Result[T], error), sort paging.Sort, limit int,
	want []T, positionOf func(T, paging.Sort) paging.Position, key func(T) string,
) {
	t.Helper()
	keys := func(items []T) []string {
		out := make([]string, len(items))
		for i, x := range items {
			out[i] = key(x)
		}
		return out
	}
	wantKeys := keys(want)

	var got []T
	req := paging.Request{Sort: sort, Limit: limit}
	var pages [][]T
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("forward walk does not end")
		}
		res, err := list(req)
		must(t, err)
		got = append(got, res.Items...)
		pages = append(pages, res.Items)
		if wantMore := len(got) < len(want); res.More != wantMore {
			t.Fatalf("forward page %d: more=%v, want %v", step, res.More, wantMore)
		}
		if !res.More {
			break
		}
		if len(res.Items) != limit {
			t.Fatalf("forward page %d has %d items, want %d", step, len(res.Items), limit)
		}
		req = paging.Request{Sort: sort, Limit: limit, After: positionOf(res.Items[len(res.Items)-1], sort)}
	}
	if !slices.Equal(keys(got), wantKeys) {
		t.Fatalf("forward walk:\n got  %v\n want %v", keys(got), wantKeys)
	}

	// Backward from the first item of the last page: every page before it,
	// each in sort order, ending where nothing precedes.
	last := pages[len(pages)-1]
	if len(last) == 0 {
		return
	}
	var back []T
	req = paging.Request{Sort: sort, Limit: limit, After: positionOf(last[0], sort), Backward: true}
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("backward walk does not end")
		}
		res, err := list(req)
		must(t, err)
		back = append(slices.Clone(res.Items), back...)
		before := len(want) - len(last) - len(back)
		if wantMore := before > 0; res.More != wantMore {
			t.Fatalf("backward page %d: more=%v, want %v", step, res.More, wantMore)
		}
		if !res.More {
			break
		}
		req = paging.Request{Sort: sort, Limit: limit, After: positionOf(res.Items[0], sort), Backward: true}
	}
	if wantBack := wantKeys[:len(want)-len(last)]; !slices.Equal(keys(back), wantBack) {
		t.Fatalf("backward walk:\n got  %v\n want %v", keys(back), wantBack)
	}

	// Inclusive positions take the row at the position too.
	mid := want[len(want)/2]
	res, err := list(paging.Request{Sort: sort, Limit: 1, After: positionOf(mid, sort), Inclusive: true})
	must(t, err)
	if len(res.Items) != 1 || key(res.Items[0]) != key(mid) {
		t.Fatalf("inclusive forward page does not start at its position")
	}
	res, err = list(paging.Request{Sort: sort, Limit: 1, After: positionOf(mid, sort), Inclusive: true, Backward: true})
	must(t, err)
	if len(res.Items) != 1 || key(res.Items[0]) != key(mid) {
		t.Fatalf("inclusive backward page does not end at its position")
	}
}

func runTenancy(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("accounts", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		a := NewAccount(t, env.Tenancy)
		got, err := env.Tenancy.GetAccount(ctx(t), a.ID())
		must(t, err)
		if got.Snapshot() != a.Snapshot() {
			t.Fatalf("account differs: %+v vs %+v", got.Snapshot(), a.Snapshot())
		}
		dup, err := tenancy.NewAccount("Other name", a.Slug(), t0)
		must(t, err)
		wantErr(t, env.Tenancy.CreateAccount(ctx(t), dup), tenancy.ErrSlugTaken)
		_, err = env.Tenancy.GetAccount(ctx(t), id.New[id.Account]())
		wantErr(t, err, tenancy.ErrAccountNotFound)

		res, err := env.Tenancy.ListAccounts(ctx(t), a.ID(), paging.Request{Sort: admin.AccountSchema.DefaultSort(), Limit: 5})
		must(t, err)
		if len(res.Items) != 1 || res.Items[0].ID() != a.ID() || res.More {
			t.Fatalf("list of one account: %d items, more=%v", len(res.Items), res.More)
		}
	})

	t.Run("users and keys", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		a := NewAccount(t, env.Tenancy)
		var users []*tenancy.User
		for n := range 5 {
			u, err := tenancy.NewUser(a.ID(), fmt.Sprintf("u%d-%s@example.com", n, a.Slug()), fmt.Sprintf("User %d", n%2), false, t0.Add(time.Duration(n%3)*time.Second))
			must(t, err)
			must(t, env.Tenancy.CreateUser(ctx(t), u))
			users = append(users, u)
		}
		got, err := env.Tenancy.GetUser(ctx(t), users[0].ID())
		must(t, err)
		if got.Snapshot() != users[0].Snapshot() {
			t.Fatalf("user differs: %+v vs %+v", got.Snapshot(), users[0].Snapshot())
		}
		dup, _ := tenancy.NewUser(a.ID(), users[0].Email(), "Dup", false, t0)
		wantErr(t, env.Tenancy.CreateUser(ctx(t), dup), tenancy.ErrEmailTaken)
		orphan, _ := tenancy.NewUser(id.New[id.Account](), "orphan-"+a.Slug()+"@example.com", "Orphan", false, t0)
		wantErr(t, env.Tenancy.CreateUser(ctx(t), orphan), tenancy.ErrAccountNotFound)

		for _, raw := range []string{"created_at:desc", "display_name:asc,email:desc", "email:asc"} {
			sort, err := admin.UserSchema.ParseSort(raw)
			must(t, err)
			want := slices.Clone(users)
			slices.SortFunc(want, func(x, y *tenancy.User) int {
				return sort.Compare(admin.UserPosition(x, sort), admin.UserPosition(y, sort))
			})
			Walk(t, func(r paging.Request) (paging.Result[*tenancy.User], error) {
				return env.Tenancy.ListUsers(ctx(t), ports.UserFilter{AccountID: a.ID()}, r)
			}, sort, 2, want, admin.UserPosition, func(u *tenancy.User) string { return u.ID().String() })
		}

		hasher := func(s string) []byte { return []byte("hash:" + s) }
		var keys []*tenancy.APIKey
		for n := range 3 {
			plain := tenancy.GenerateKey()
			k, err := tenancy.NewAPIKey(a.ID(), users[n].ID(), fmt.Sprintf("key %d", n), plain, hasher(plain), t0.Add(time.Hour), t0)
			must(t, err)
			must(t, env.Tenancy.CreateAPIKey(ctx(t), k))
			keys = append(keys, k)
			gotKey, gotUser, err := env.Tenancy.Authenticate(ctx(t), hasher(plain))
			must(t, err)
			if gotKey.ID() != k.ID() || gotUser.ID() != users[n].ID() || string(gotKey.Hash()) != string(k.Hash()) ||
				!gotKey.ExpiresAt().Equal(k.ExpiresAt()) {
				t.Fatalf("authenticate found key %v of user %v", gotKey.ID(), gotUser.ID())
			}
		}
		_, _, err = env.Tenancy.Authenticate(ctx(t), hasher(tenancy.GenerateKey()))
		wantErr(t, err, tenancy.ErrKeyInvalid)
		res, err := env.Tenancy.ListAPIKeys(ctx(t), ports.APIKeyFilter{AccountID: a.ID(), UserID: users[1].ID()},
			paging.Request{Sort: admin.APIKeySchema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(res.Items) != 1 || res.Items[0].ID() != keys[1].ID() {
			t.Fatalf("keys of one user: got %d", len(res.Items))
		}

		boom := errors.New("boom")
		_, err = env.Tenancy.UpdateAPIKey(ctx(t), keys[0].ID(), func(k *tenancy.APIKey) error {
			_, _ = k.SetStatus(tenancy.KeyRevoked, t0)
			return boom
		})
		wantErr(t, err, boom)
		if k, _ := env.Tenancy.GetAPIKey(ctx(t), keys[0].ID()); k.Status() != tenancy.KeyActive {
			t.Fatal("a failed update revoked the key")
		}
		_, err = env.Tenancy.UpdateAPIKey(ctx(t), keys[0].ID(), func(k *tenancy.APIKey) error {
			_, err := k.SetStatus(tenancy.KeyRevoked, t0.Add(time.Minute))
			return err
		})
		must(t, err)
		k, err := env.Tenancy.GetAPIKey(ctx(t), keys[0].ID())
		must(t, err)
		if k.Status() != tenancy.KeyRevoked || !k.UpdatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("revocation not saved: %v at %v", k.Status(), k.UpdatedAt())
		}
		_, err = env.Tenancy.GetAPIKey(ctx(t), id.New[id.APIKey]())
		wantErr(t, err, tenancy.ErrAPIKeyNotFound)
	})
}

func runBootstrap(t *testing.T, env Env) {
	const n = 8
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for g := range n {
		wg.Go(func() {
			slug := fmt.Sprintf("system-%d", g)
			a, _ := tenancy.NewAccount("System", slug, t0)
			u, _ := tenancy.NewUser(a.ID(), slug+"@example.com", "Admin", true, t0)
			plain := tenancy.GenerateKey()
			k, _ := tenancy.NewAPIKey(a.ID(), u.ID(), "bootstrap", plain, []byte(plain), time.Time{}, t0)
			created[g], errs[g] = env.Tenancy.Bootstrap(context.Background(), a, u, k)
		})
	}
	wg.Wait()
	count := 0
	for g := range n {
		must(t, errs[g])
		if created[g] {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d concurrent bootstraps created a superadmin, want exactly 1", count)
	}
	res, err := env.Tenancy.ListUsers(ctx(t), ports.UserFilter{}, paging.Request{Sort: admin.UserSchema.DefaultSort(), Limit: 10})
	must(t, err)
	if len(res.Items) != 1 || !res.Items[0].SuperAdmin() {
		t.Fatalf("after bootstrap there are %d users", len(res.Items))
	}
}

func runSecrets(t *testing.T, env Env) {
	name := "test-" + id.New[id.Account]().UUID().String()
	const n = 8
	var wg sync.WaitGroup
	got := make([][]byte, n)
	errs := make([]error, n)
	for g := range n {
		wg.Go(func() {
			got[g], errs[g] = env.Secrets.Secret(context.Background(), name, func() []byte { return []byte{byte(g), 1, 2, 3} })
		})
	}
	wg.Wait()
	for g := range n {
		must(t, errs[g])
		if string(got[g]) != string(got[0]) {
			t.Fatalf("replicas got different secrets: %x and %x", got[g], got[0])
		}
	}
	again, err := env.Secrets.Secret(ctx(t), name, func() []byte { return []byte("new") })
	must(t, err)
	if string(again) != string(got[0]) {
		t.Fatal("a stored secret was replaced")
	}
}
