package apptest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

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

func (r *memTenancy) CreateAccount(_ context.Context, a *tenancy.Account) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return (*Memory)(r).createAccount(a)
}

func (m *Memory) createAccount(a *tenancy.Account) error {
	s := a.Snapshot()
	if slices.ContainsFunc(m.tenancy().accounts, func(x tenancy.AccountSnapshot) bool { return x.Slug == s.Slug }) {
		return tenancy.ErrSlugTaken
	}
	m.tenancy().accounts = append(m.tenancy().accounts, s)
	return nil
}

func (r *memTenancy) GetAccount(_ context.Context, accountID id.AccountID) (*tenancy.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.tenancy().accounts, func(a tenancy.AccountSnapshot) bool { return a.ID == accountID })
	if i < 0 {
		return nil, tenancy.ErrAccountNotFound
	}
	return tenancy.RehydrateAccount(r.tenancy().accounts[i]), nil
}

func (r *memTenancy) ListAccounts(_ context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.Account
	for _, s := range r.tenancy().accounts {
		if only.IsZero() || s.ID == only {
			items = append(items, tenancy.RehydrateAccount(s))
		}
	}
	return Page(items, req, ports.AccountSchema), nil
}

func (r *memTenancy) CreateUser(_ context.Context, u *tenancy.User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return (*Memory)(r).createUser(u)
}

func (m *Memory) createUser(u *tenancy.User) error {
	s := u.Snapshot()
	if !m.accountExists(s.AccountID) {
		return tenancy.ErrAccountNotFound
	}
	if slices.ContainsFunc(m.tenancy().users, func(x tenancy.UserSnapshot) bool { return x.AccountID == s.AccountID && x.Email == s.Email }) {
		return tenancy.ErrEmailTaken
	}
	m.tenancy().users = append(m.tenancy().users, s)
	return nil
}

func (m *Memory) userIndex(userID id.UserID) int {
	return slices.IndexFunc(m.tenancy().users, func(u tenancy.UserSnapshot) bool { return u.ID == userID })
}

func (r *memTenancy) GetUser(_ context.Context, userID id.UserID) (*tenancy.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (*Memory)(r).userIndex(userID)
	if i < 0 {
		return nil, tenancy.ErrUserNotFound
	}
	return tenancy.RehydrateUser(r.tenancy().users[i]), nil
}

func (r *memTenancy) ListUsers(_ context.Context, f ports.UserFilter, req paging.Request) (paging.Result[*tenancy.User], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.User
	for _, s := range r.tenancy().users {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (!f.SuperAdmin || s.SuperAdmin) {
			items = append(items, tenancy.RehydrateUser(s))
		}
	}
	return Page(items, req, ports.UserSchema), nil
}

func (r *memTenancy) CreateAPIKey(_ context.Context, k *tenancy.APIKey) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return (*Memory)(r).createAPIKey(k)
}

func (m *Memory) createAPIKey(k *tenancy.APIKey) error {
	s := k.Snapshot()
	switch {
	case !m.accountExists(s.AccountID):
		return tenancy.ErrAccountNotFound
	case m.userIndex(s.UserID) < 0:
		return tenancy.ErrUserNotFound
	}
	m.tenancy().keys = append(m.tenancy().keys, s)
	return nil
}

func (m *Memory) keyIndex(match func(tenancy.APIKeySnapshot) bool) int {
	return slices.IndexFunc(m.tenancy().keys, match)
}

func (r *memTenancy) GetAPIKey(_ context.Context, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (*Memory)(r).keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
	if i < 0 {
		return nil, tenancy.ErrAPIKeyNotFound
	}
	return tenancy.RehydrateAPIKey(r.tenancy().keys[i]), nil
}

func (r *memTenancy) ListAPIKeys(_ context.Context, f ports.APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.APIKey
	for _, s := range r.tenancy().keys {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.UserID.IsZero() || s.UserID == f.UserID) {
			items = append(items, tenancy.RehydrateAPIKey(s))
		}
	}
	return Page(items, req, ports.APIKeySchema), nil
}

func (r *memTenancy) UpdateAPIKey(_ context.Context, keyID id.APIKeyID, fn func(*tenancy.APIKey, *tenancy.User) error) (*tenancy.APIKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := (*Memory)(r)
	i := m.keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
	if i < 0 {
		return nil, tenancy.ErrAPIKeyNotFound
	}
	k := tenancy.RehydrateAPIKey(r.tenancy().keys[i])
	owner := tenancy.RehydrateUser(r.tenancy().users[m.userIndex(k.UserID())])
	if err := fn(k, owner); err != nil {
		return nil, err
	}
	r.tenancy().keys[i] = k.Snapshot()
	return k, nil
}

func (r *memTenancy) Authenticate(_ context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := (*Memory)(r)
	i := m.keyIndex(func(k tenancy.APIKeySnapshot) bool { return bytes.Equal(k.Hash, hash) })
	if i < 0 {
		return nil, nil, tenancy.ErrKeyInvalid
	}
	u := m.userIndex(r.tenancy().keys[i].UserID)
	return tenancy.RehydrateAPIKey(r.tenancy().keys[i]), tenancy.RehydrateUser(r.tenancy().users[u]), nil
}

func (r *memTenancy) Bootstrap(_ context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := (*Memory)(r)
	if slices.ContainsFunc(m.tenancy().users, func(u tenancy.UserSnapshot) bool { return u.SuperAdmin }) {
		return false, nil
	}
	// Write all three, and undo all of them if one fails, as a transaction would.
	saved := *m.tenancy()
	for _, create := range []func() error{
		func() error { return m.createAccount(a) },
		func() error { return m.createUser(u) },
		func() error { return m.createAPIKey(k) },
	} {
		if err := create(); err != nil {
			*m.tenancy() = saved
			return false, err
		}
	}
	return true, nil
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
