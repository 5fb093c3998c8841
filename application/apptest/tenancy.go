package apptest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Tenancy() }) }

func (m *Memory) Tenancy() ports.TenancyRepository { return (*memTenancy)(m) }

type tenancyTables struct {
	accounts []tenancy.AccountSnapshot
	users    []tenancy.UserSnapshot
	keys     []tenancy.APIKeySnapshot
}

// tenancy is the tables of accounts, users and keys; the caller holds the lock.
func (m *Memory) tenancy() *tenancyTables { return table[tenancyTables](m, "tenancy") }

type memTenancy Memory

func (m *Memory) accountExists(accountID id.AccountID) bool {
	return slices.ContainsFunc(m.tenancy().accounts, func(a tenancy.AccountSnapshot) bool { return a.ID == accountID })
}

// create inserts a row and records its event in one transaction. The
// inserts record nothing themselves: Bootstrap records its three rows'
// events together, after all three, as the store does.
func (m *Memory) create(ctx context.Context, insert func(*memTx) error, created event.Event) error {
	return m.write(ctx, func(ctx context.Context, tx *memTx) error {
		if err := insert(tx); err != nil {
			return err
		}
		return tx.record(ctx, created)
	})
}

func (r *memTenancy) CreateAccount(ctx context.Context, a *tenancy.Account) error {
	return (*Memory)(r).create(ctx, func(tx *memTx) error { return tx.createAccount(a) }, tenancy.AccountCreated(a))
}

func (tx *memTx) createAccount(a *tenancy.Account) error {
	s := a.Snapshot()
	t := tx.m.tenancy()
	if slices.ContainsFunc(t.accounts, func(x tenancy.AccountSnapshot) bool { return x.Slug == s.Slug }) {
		return tenancy.ErrSlugTaken
	}
	add(tx, &t.accounts, s)
	return nil
}

func (r *memTenancy) GetAccount(ctx context.Context, accountID id.AccountID) (*tenancy.Account, error) {
	defer (*Memory)(r).lock(ctx)()
	i := slices.IndexFunc(r.tenancy().accounts, func(a tenancy.AccountSnapshot) bool { return a.ID == accountID })
	if i < 0 {
		return nil, tenancy.ErrAccountNotFound
	}
	return tenancy.RehydrateAccount(r.tenancy().accounts[i]), nil
}

func (r *memTenancy) ListAccounts(ctx context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*tenancy.Account
	for _, s := range r.tenancy().accounts {
		if only.IsZero() || s.ID == only {
			items = append(items, tenancy.RehydrateAccount(s))
		}
	}
	return Page(items, req, ports.AccountSchema), nil
}

func (r *memTenancy) CreateUser(ctx context.Context, u *tenancy.User) error {
	return (*Memory)(r).create(ctx, func(tx *memTx) error { return tx.createUser(u) }, tenancy.UserCreated(u))
}

func (tx *memTx) createUser(u *tenancy.User) error {
	s := u.Snapshot()
	t := tx.m.tenancy()
	if !tx.m.accountExists(s.AccountID) {
		return tenancy.ErrAccountNotFound
	}
	if slices.ContainsFunc(t.users, func(x tenancy.UserSnapshot) bool { return x.AccountID == s.AccountID && x.Email == s.Email }) {
		return tenancy.ErrEmailTaken
	}
	add(tx, &t.users, s)
	return nil
}

func (m *Memory) userIndex(userID id.UserID) int {
	return slices.IndexFunc(m.tenancy().users, func(u tenancy.UserSnapshot) bool { return u.ID == userID })
}

func (r *memTenancy) GetUser(ctx context.Context, userID id.UserID) (*tenancy.User, error) {
	defer (*Memory)(r).lock(ctx)()
	i := (*Memory)(r).userIndex(userID)
	if i < 0 {
		return nil, tenancy.ErrUserNotFound
	}
	return tenancy.RehydrateUser(r.tenancy().users[i]), nil
}

func (r *memTenancy) ListUsers(ctx context.Context, f ports.UserFilter, req paging.Request) (paging.Result[*tenancy.User], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*tenancy.User
	for _, s := range r.tenancy().users {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (!f.SuperAdmin || s.SuperAdmin) {
			items = append(items, tenancy.RehydrateUser(s))
		}
	}
	return Page(items, req, ports.UserSchema), nil
}

func (r *memTenancy) CreateAPIKey(ctx context.Context, k *tenancy.APIKey) error {
	return (*Memory)(r).create(ctx, func(tx *memTx) error { return tx.createAPIKey(k) }, tenancy.APIKeyCreated(k))
}

func (tx *memTx) createAPIKey(k *tenancy.APIKey) error {
	s := k.Snapshot()
	switch {
	case !tx.m.accountExists(s.AccountID):
		return tenancy.ErrAccountNotFound
	case tx.m.userIndex(s.UserID) < 0:
		return tenancy.ErrUserNotFound
	}
	add(tx, &tx.m.tenancy().keys, s)
	return nil
}

func (m *Memory) keyIndex(match func(tenancy.APIKeySnapshot) bool) int {
	return slices.IndexFunc(m.tenancy().keys, match)
}

func (r *memTenancy) GetAPIKey(ctx context.Context, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	defer (*Memory)(r).lock(ctx)()
	i := (*Memory)(r).keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
	if i < 0 {
		return nil, tenancy.ErrAPIKeyNotFound
	}
	return tenancy.RehydrateAPIKey(r.tenancy().keys[i]), nil
}

func (r *memTenancy) ListAPIKeys(ctx context.Context, f ports.APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*tenancy.APIKey
	for _, s := range r.tenancy().keys {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.UserID.IsZero() || s.UserID == f.UserID) {
			items = append(items, tenancy.RehydrateAPIKey(s))
		}
	}
	return Page(items, req, ports.APIKeySchema), nil
}

func (r *memTenancy) UpdateAPIKey(ctx context.Context, keyID id.APIKeyID, fn func(*tenancy.APIKey, *tenancy.User) error) (*tenancy.APIKey, error) {
	m := (*Memory)(r)
	var out *tenancy.APIKey
	err := m.write(ctx, func(ctx context.Context, tx *memTx) error {
		i := m.keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
		if i < 0 {
			return tenancy.ErrAPIKeyNotFound
		}
		keys := &r.tenancy().keys
		previous, k := tenancy.RehydrateAPIKey((*keys)[i]), tenancy.RehydrateAPIKey((*keys)[i])
		owner := tenancy.RehydrateUser(r.tenancy().users[m.userIndex(k.UserID())])
		if err := fn(k, owner); err != nil {
			return err
		}
		out = k
		return saveIfChanged(ctx, tx, keys, i, k.Snapshot(), func() event.Event { return tenancy.APIKeyChanged(previous, k) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r *memTenancy) Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error) {
	defer (*Memory)(r).lock(ctx)()
	m := (*Memory)(r)
	i := m.keyIndex(func(k tenancy.APIKeySnapshot) bool { return bytes.Equal(k.Hash, hash) })
	if i < 0 {
		return nil, nil, tenancy.ErrKeyInvalid
	}
	u := m.userIndex(r.tenancy().keys[i].UserID)
	return tenancy.RehydrateAPIKey(r.tenancy().keys[i]), tenancy.RehydrateUser(r.tenancy().users[u]), nil
}

func (r *memTenancy) Bootstrap(ctx context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error) {
	created := false
	err := (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		if slices.ContainsFunc(r.tenancy().users, func(u tenancy.UserSnapshot) bool { return u.SuperAdmin }) {
			return nil
		}
		for _, insert := range []func() error{
			func() error { return tx.createAccount(a) },
			func() error { return tx.createUser(u) },
			func() error { return tx.createAPIKey(k) },
		} {
			if err := insert(); err != nil {
				return err
			}
		}
		created = true
		return tx.record(ctx, tenancy.AccountCreated(a), tenancy.UserCreated(u), tenancy.APIKeyCreated(k))
	})
	return created && err == nil, err
}

func (r *memTenancy) tenancy() *tenancyTables { return (*Memory)(r).tenancy() }

// NewAccount creates an account named and slugged slug at the given time,
// for the use cases' tests.
func (m *Memory) NewAccount(t testing.TB, slug string, at time.Time) id.AccountID {
	t.Helper()
	a, err := tenancy.NewAccount(slug, slug, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Tenancy().CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID()
}
