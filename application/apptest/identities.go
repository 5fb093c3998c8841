package apptest

import (
	"context"
	"slices"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Identities() }) }

func (m *Memory) Identities() ports.IdentityRepository { return (*memIdentities)(m) }

type identityTable struct{ rows []identity.Snapshot }

type memIdentities Memory

// t is the identity table; the caller holds the lock.
func (r *memIdentities) t() *identityTable { return table[identityTable]((*Memory)(r), "identities") }

func (r *memIdentities) find(match func(identity.Snapshot) bool) int {
	return slices.IndexFunc(r.t().rows, func(s identity.Snapshot) bool { return s.DeletedAt.IsZero() && match(s) })
}

func (r *memIdentities) GetOrCreate(_ context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := fresh.Snapshot()
	if !(*Memory)(r).liveGameIn(f.AccountID, f.GameID) {
		return nil, false, game.ErrNotFound
	}
	i := r.find(func(s identity.Snapshot) bool {
		return s.AccountID == f.AccountID && s.GameID == f.GameID && s.Kind == f.Kind && s.ExternalKey == f.ExternalKey
	})
	if i < 0 {
		r.t().rows = append(r.t().rows, f)
		return identity.Rehydrate(f), true, nil
	}
	existing := identity.Rehydrate(r.t().rows[i])
	if err := onExisting(existing); err != nil {
		return nil, false, err
	}
	r.t().rows[i] = existing.Snapshot()
	return existing, false, nil
}

func (r *memIdentities) Get(_ context.Context, identityID id.IdentityID) (*identity.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(func(s identity.Snapshot) bool { return s.ID == identityID })
	if i < 0 {
		return nil, identity.ErrNotFound
	}
	return identity.Rehydrate(r.t().rows[i]), nil
}

func (r *memIdentities) Update(_ context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(func(s identity.Snapshot) bool { return s.ID == identityID })
	if i < 0 {
		return nil, identity.ErrNotFound
	}
	agg := identity.Rehydrate(r.t().rows[i])
	if err := fn(agg); err != nil {
		return nil, err
	}
	r.t().rows[i] = agg.Snapshot()
	return agg, nil
}

func (r *memIdentities) List(_ context.Context, f ports.IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*identity.Identity
	for _, s := range r.t().rows {
		if s.DeletedAt.IsZero() &&
			(f.AccountID.IsZero() || s.AccountID == f.AccountID) &&
			(f.GameID.IsZero() || s.GameID == f.GameID) &&
			(f.Kind.IsZero() || s.Kind == f.Kind) &&
			(f.ExternalKey == "" || s.ExternalKey == f.ExternalKey) {
			items = append(items, identity.Rehydrate(s))
		}
	}
	return Page(items, req, ports.IdentitySchema), nil
}
