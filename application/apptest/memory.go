// Package apptest holds in-memory fakes of the driven ports, for application
// and HTTP adapter tests. They pass the same repository contract suite as
// the real stores (ports/portstest), so tests built on them can be trusted.
package apptest

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/leadr-oss/identity/application/admin"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Memory is one in-memory database behind every fake repository. One mutex
// serialises everything, which makes each call a transaction.
type Memory struct {
	mu         sync.Mutex
	identities []identity.Snapshot
	accounts   []tenancy.AccountSnapshot
	users      []tenancy.UserSnapshot
	keys       []tenancy.APIKeySnapshot
	secrets    map[string][]byte
}

func NewMemory() *Memory { return &Memory{secrets: map[string][]byte{}} }

func (m *Memory) Identities() ports.IdentityRepository { return (*memIdentities)(m) }
func (m *Memory) Tenancy() ports.TenancyRepository     { return (*memTenancy)(m) }
func (m *Memory) Secrets() ports.SecretStore           { return (*memSecrets)(m) }

// Ping always answers; Memory is always there.
func (m *Memory) Ping(context.Context) error { return nil }

type memIdentities Memory

func (r *memIdentities) find(match func(identity.Snapshot) bool) int {
	return slices.IndexFunc(r.identities, func(s identity.Snapshot) bool { return s.DeletedAt.IsZero() && match(s) })
}

func (r *memIdentities) GetOrCreate(_ context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := fresh.Snapshot()
	if !(*Memory)(r).accountExists(f.AccountID) {
		return nil, false, tenancy.ErrAccountNotFound
	}
	i := r.find(func(s identity.Snapshot) bool {
		return s.AccountID == f.AccountID && s.GameID == f.GameID && s.Kind == f.Kind && s.ExternalKey == f.ExternalKey
	})
	if i < 0 {
		r.identities = append(r.identities, f)
		return identity.Rehydrate(f), true, nil
	}
	existing := identity.Rehydrate(r.identities[i])
	if err := onExisting(existing); err != nil {
		return nil, false, err
	}
	r.identities[i] = existing.Snapshot()
	return existing, false, nil
}

func (r *memIdentities) Get(_ context.Context, identityID id.IdentityID) (*identity.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(func(s identity.Snapshot) bool { return s.ID == identityID })
	if i < 0 {
		return nil, identity.ErrNotFound
	}
	return identity.Rehydrate(r.identities[i]), nil
}

func (r *memIdentities) Update(_ context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(func(s identity.Snapshot) bool { return s.ID == identityID })
	if i < 0 {
		return nil, identity.ErrNotFound
	}
	agg := identity.Rehydrate(r.identities[i])
	if err := fn(agg); err != nil {
		return nil, err
	}
	r.identities[i] = agg.Snapshot()
	return agg, nil
}

func (r *memIdentities) List(_ context.Context, f ports.IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*identity.Identity
	for _, s := range r.identities {
		if s.DeletedAt.IsZero() &&
			(f.AccountID.IsZero() || s.AccountID == f.AccountID) &&
			(f.GameID.IsZero() || s.GameID == f.GameID) &&
			(f.Kind.IsZero() || s.Kind == f.Kind) {
			items = append(items, identity.Rehydrate(s))
		}
	}
	return Page(items, req, appidentity.Position), nil
}

// Page cuts one page out of items the way a keyset query does; it is the
// reference behaviour of paging.Request.
func Page[T any](items []T, req paging.Request, positionOf func(T, paging.Sort) paging.Position) paging.Result[T] {
	cmpTo := func(x T) int { return req.Sort.Compare(positionOf(x, req.Sort), req.After) }
	slices.SortStableFunc(items, func(a, b T) int {
		return req.Sort.Compare(positionOf(a, req.Sort), positionOf(b, req.Sort))
	})
	if req.After != nil {
		items = slices.DeleteFunc(items, func(x T) bool {
			c := cmpTo(x)
			switch {
			case c == 0:
				return !req.Inclusive
			case req.Backward:
				return c > 0
			default:
				return c < 0
			}
		})
	}
	more := len(items) > req.Limit
	switch {
	case more && req.Backward:
		items = items[len(items)-req.Limit:]
	case more:
		items = items[:req.Limit]
	}
	return paging.Result[T]{Items: items, More: more}
}

type memTenancy Memory

func (m *Memory) accountExists(accountID id.AccountID) bool {
	return slices.ContainsFunc(m.accounts, func(a tenancy.AccountSnapshot) bool { return a.ID == accountID })
}

func (r *memTenancy) CreateAccount(_ context.Context, a *tenancy.Account) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return (*Memory)(r).createAccount(a)
}

func (m *Memory) createAccount(a *tenancy.Account) error {
	s := a.Snapshot()
	if slices.ContainsFunc(m.accounts, func(x tenancy.AccountSnapshot) bool { return x.Slug == s.Slug }) {
		return tenancy.ErrSlugTaken
	}
	m.accounts = append(m.accounts, s)
	return nil
}

func (r *memTenancy) GetAccount(_ context.Context, accountID id.AccountID) (*tenancy.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.accounts, func(a tenancy.AccountSnapshot) bool { return a.ID == accountID })
	if i < 0 {
		return nil, tenancy.ErrAccountNotFound
	}
	return tenancy.RehydrateAccount(r.accounts[i]), nil
}

func (r *memTenancy) ListAccounts(_ context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.Account
	for _, s := range r.accounts {
		if only.IsZero() || s.ID == only {
			items = append(items, tenancy.RehydrateAccount(s))
		}
	}
	return Page(items, req, admin.AccountPosition), nil
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
	if slices.ContainsFunc(m.users, func(x tenancy.UserSnapshot) bool { return x.Email == s.Email }) {
		return tenancy.ErrEmailTaken
	}
	m.users = append(m.users, s)
	return nil
}

func (m *Memory) userIndex(userID id.UserID) int {
	return slices.IndexFunc(m.users, func(u tenancy.UserSnapshot) bool { return u.ID == userID })
}

func (r *memTenancy) GetUser(_ context.Context, userID id.UserID) (*tenancy.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (*Memory)(r).userIndex(userID)
	if i < 0 {
		return nil, tenancy.ErrUserNotFound
	}
	return tenancy.RehydrateUser(r.users[i]), nil
}

func (r *memTenancy) ListUsers(_ context.Context, f ports.UserFilter, req paging.Request) (paging.Result[*tenancy.User], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.User
	for _, s := range r.users {
		if f.AccountID.IsZero() || s.AccountID == f.AccountID {
			items = append(items, tenancy.RehydrateUser(s))
		}
	}
	return Page(items, req, admin.UserPosition), nil
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
	m.keys = append(m.keys, s)
	return nil
}

func (m *Memory) keyIndex(match func(tenancy.APIKeySnapshot) bool) int {
	return slices.IndexFunc(m.keys, match)
}

func (r *memTenancy) GetAPIKey(_ context.Context, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (*Memory)(r).keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
	if i < 0 {
		return nil, tenancy.ErrAPIKeyNotFound
	}
	return tenancy.RehydrateAPIKey(r.keys[i]), nil
}

func (r *memTenancy) ListAPIKeys(_ context.Context, f ports.APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tenancy.APIKey
	for _, s := range r.keys {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.UserID.IsZero() || s.UserID == f.UserID) {
			items = append(items, tenancy.RehydrateAPIKey(s))
		}
	}
	return Page(items, req, admin.APIKeyPosition), nil
}

func (r *memTenancy) UpdateAPIKey(_ context.Context, keyID id.APIKeyID, fn func(*tenancy.APIKey) error) (*tenancy.APIKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (*Memory)(r).keyIndex(func(k tenancy.APIKeySnapshot) bool { return k.ID == keyID })
	if i < 0 {
		return nil, tenancy.ErrAPIKeyNotFound
	}
	k := tenancy.RehydrateAPIKey(r.keys[i])
	if err := fn(k); err != nil {
		return nil, err
	}
	r.keys[i] = k.Snapshot()
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
	u := m.userIndex(r.keys[i].UserID)
	return tenancy.RehydrateAPIKey(r.keys[i]), tenancy.RehydrateUser(r.users[u]), nil
}

func (r *memTenancy) Bootstrap(_ context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := (*Memory)(r)
	if slices.ContainsFunc(m.users, func(u tenancy.UserSnapshot) bool { return u.SuperAdmin }) {
		return false, nil
	}
	// Validate all three before writing any, as a transaction would.
	accounts, users, keys := m.accounts, m.users, m.keys
	for _, create := range []func() error{
		func() error { return m.createAccount(a) },
		func() error { return m.createUser(u) },
		func() error { return m.createAPIKey(k) },
	} {
		if err := create(); err != nil {
			m.accounts, m.users, m.keys = accounts, users, keys
			return false, err
		}
	}
	return true, nil
}

type memSecrets Memory

func (s *memSecrets) Secret(_ context.Context, name string, generate func() []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.secrets[name]; ok {
		return bytes.Clone(v), nil
	}
	v := generate()
	s.secrets[name] = bytes.Clone(v)
	return v, nil
}
