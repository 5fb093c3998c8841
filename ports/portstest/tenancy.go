package portstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Tenancy() ports.TenancyRepository { return repository[ports.TenancyRepository](e) }

func init() {
	register("Tenancy", func(t *testing.T, s Stores) { runTenancy(t, s.Shared) })
	register("Bootstrap", func(t *testing.T, s Stores) { runBootstrap(t, s.Fresh(t)) })
}

// NewAccount creates an account with a unique slug.
func NewAccount(t *testing.T, repo ports.TenancyRepository) *tenancy.Account {
	t.Helper()
	slug := "acc-" + id.New[id.Account]().UUID().String()[24:]
	a, err := tenancy.NewAccount("Account "+slug, slug, t0)
	must(t, err)
	must(t, repo.CreateAccount(ctx(t), a))
	return a
}

func runTenancy(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("accounts", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		a := NewAccount(t, env.Tenancy())
		got, err := env.Tenancy().GetAccount(ctx(t), a.ID())
		must(t, err)
		if got.Snapshot() != a.Snapshot() {
			t.Fatalf("account differs: %+v vs %+v", got.Snapshot(), a.Snapshot())
		}
		dup, err := tenancy.NewAccount("Other name", a.Slug(), t0)
		must(t, err)
		wantErr(t, env.Tenancy().CreateAccount(ctx(t), dup), tenancy.ErrSlugTaken)
		_, err = env.Tenancy().GetAccount(ctx(t), id.New[id.Account]())
		wantErr(t, err, tenancy.ErrAccountNotFound)

		res, err := env.Tenancy().ListAccounts(ctx(t), a.ID(), paging.Request{Sort: ports.AccountSchema.DefaultSort(), Limit: 5})
		must(t, err)
		if len(res.Items) != 1 || res.Items[0].ID() != a.ID() || res.More {
			t.Fatalf("list of one account: %d items, more=%v", len(res.Items), res.More)
		}
	})

	t.Run("users and keys", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		a := NewAccount(t, env.Tenancy())
		var users []*tenancy.User
		for n := range 5 {
			u, err := tenancy.NewUser(a.ID(), fmt.Sprintf("u%d-%s@example.com", n, a.Slug()), fmt.Sprintf("User %d", n%2), false, t0.Add(time.Duration(n%3)*time.Second))
			must(t, err)
			must(t, env.Tenancy().CreateUser(ctx(t), u))
			users = append(users, u)
		}
		got, err := env.Tenancy().GetUser(ctx(t), users[0].ID())
		must(t, err)
		if got.Snapshot() != users[0].Snapshot() {
			t.Fatalf("user differs: %+v vs %+v", got.Snapshot(), users[0].Snapshot())
		}
		dup, _ := tenancy.NewUser(a.ID(), users[0].Email(), "Dup", false, t0)
		wantErr(t, env.Tenancy().CreateUser(ctx(t), dup), tenancy.ErrEmailTaken)
		// E-mails are unique within an account: another tenant's user may
		// have the same one, and learns nothing of the first.
		elsewhere, _ := tenancy.NewUser(NewAccount(t, env.Tenancy()).ID(), users[0].Email(), "Namesake", false, t0)
		must(t, env.Tenancy().CreateUser(ctx(t), elsewhere))
		orphan, _ := tenancy.NewUser(id.New[id.Account](), "orphan-"+a.Slug()+"@example.com", "Orphan", false, t0)
		wantErr(t, env.Tenancy().CreateUser(ctx(t), orphan), tenancy.ErrAccountNotFound)

		for _, raw := range []string{"created_at:desc", "display_name:asc,email:desc", "email:asc"} {
			sort, err := ports.UserSchema.ParseSort(raw)
			must(t, err)
			want := slices.Clone(users)
			slices.SortFunc(want, func(x, y *tenancy.User) int {
				return sort.Compare(ports.UserSchema.Position(x, sort), ports.UserSchema.Position(y, sort))
			})
			Walk(t, func(r paging.Request) (paging.Result[*tenancy.User], error) {
				return env.Tenancy().ListUsers(ctx(t), ports.UserFilter{AccountID: a.ID()}, r)
			}, sort, 2, want, ports.UserSchema, func(u *tenancy.User) string { return u.ID().String() })
		}

		hasher := func(s string) []byte { return []byte("hash:" + s) }
		var keys []*tenancy.APIKey
		for n := range 3 {
			plain := tenancy.GenerateKey()
			k, err := tenancy.NewAPIKey(a.ID(), users[n].ID(), fmt.Sprintf("key %d", n), plain, hasher(plain), t0.Add(time.Hour), t0)
			must(t, err)
			must(t, env.Tenancy().CreateAPIKey(ctx(t), k))
			keys = append(keys, k)
			gotKey, gotUser, err := env.Tenancy().Authenticate(ctx(t), hasher(plain))
			must(t, err)
			if gotKey.ID() != k.ID() || gotUser.ID() != users[n].ID() || string(gotKey.Hash()) != string(k.Hash()) ||
				!gotKey.ExpiresAt().Equal(k.ExpiresAt()) {
				t.Fatalf("authenticate found key %v of user %v", gotKey.ID(), gotUser.ID())
			}
		}
		_, _, err = env.Tenancy().Authenticate(ctx(t), hasher(tenancy.GenerateKey()))
		wantErr(t, err, tenancy.ErrKeyInvalid)
		res, err := env.Tenancy().ListAPIKeys(ctx(t), ports.APIKeyFilter{AccountID: a.ID(), UserID: users[1].ID()},
			paging.Request{Sort: ports.APIKeySchema.DefaultSort(), Limit: 10})
		must(t, err)
		if len(res.Items) != 1 || res.Items[0].ID() != keys[1].ID() {
			t.Fatalf("keys of one user: got %d", len(res.Items))
		}

		boom := errors.New("boom")
		_, err = env.Tenancy().UpdateAPIKey(ctx(t), keys[0].ID(), func(k *tenancy.APIKey, owner *tenancy.User) error {
			if owner.Snapshot() != users[0].Snapshot() {
				t.Errorf("the key's owner is %+v, want %+v", owner.Snapshot(), users[0].Snapshot())
			}
			_, _ = k.SetStatus(tenancy.KeyRevoked, t0)
			return boom
		})
		wantErr(t, err, boom)
		if k, _ := env.Tenancy().GetAPIKey(ctx(t), keys[0].ID()); k.Status() != tenancy.KeyActive {
			t.Fatal("a failed update revoked the key")
		}
		_, err = env.Tenancy().UpdateAPIKey(ctx(t), keys[0].ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
			_, err := k.SetStatus(tenancy.KeyRevoked, t0.Add(time.Minute))
			return err
		})
		must(t, err)
		k, err := env.Tenancy().GetAPIKey(ctx(t), keys[0].ID())
		must(t, err)
		if k.Status() != tenancy.KeyRevoked || !k.UpdatedAt().Equal(t0.Add(time.Minute)) {
			t.Fatalf("revocation not saved: %v at %v", k.Status(), k.UpdatedAt())
		}

		// A key's own rate limit is kept, read back where it authenticates,
		// and given back to the default.
		for _, raw := range []string{"25/m", "off", ""} {
			limit := tenancy.RateLimit{}
			if raw != "" {
				limit, err = tenancy.ParseRateLimit(raw)
				must(t, err)
			}
			_, err = env.Tenancy().UpdateAPIKey(ctx(t), keys[1].ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
				k.SetRateLimit(limit, t0.Add(2*time.Minute))
				return nil
			})
			must(t, err)
			got, err := env.Tenancy().GetAPIKey(ctx(t), keys[1].ID())
			must(t, err)
			authenticated, _, err := env.Tenancy().Authenticate(ctx(t), keys[1].Hash())
			must(t, err)
			if got.RateLimit() != limit || authenticated.RateLimit() != limit {
				t.Fatalf("rate limit %q: stored %q, authenticated %q", raw, got.RateLimit(), authenticated.RateLimit())
			}
		}
		_, err = env.Tenancy().GetAPIKey(ctx(t), id.New[id.APIKey]())
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
			created[g], errs[g] = env.Tenancy().Bootstrap(context.Background(), a, u, k)
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
	res, err := env.Tenancy().ListUsers(ctx(t), ports.UserFilter{}, paging.Request{Sort: ports.UserSchema.DefaultSort(), Limit: 10})
	must(t, err)
	if len(res.Items) != 1 || !res.Items[0].SuperAdmin() {
		t.Fatalf("after bootstrap there are %d users", len(res.Items))
	}
	regular, _ := tenancy.NewUser(res.Items[0].AccountID(), "regular@example.com", "Regular", false, t0)
	must(t, env.Tenancy().CreateUser(ctx(t), regular))
	supers, err := env.Tenancy().ListUsers(ctx(t), ports.UserFilter{SuperAdmin: true}, paging.Request{Sort: ports.UserSchema.DefaultSort(), Limit: 10})
	must(t, err)
	if len(supers.Items) != 1 || supers.Items[0].ID() != res.Items[0].ID() {
		t.Fatalf("superadmins: %d users", len(supers.Items))
	}
}
