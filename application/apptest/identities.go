package apptest

import (
	"context"
	"slices"

	"github.com/leadr-oss/identity/domain/event"
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

// liveIdentityWhere is match for live identities, and false for deleted ones.
func liveIdentityWhere(match func(identity.Snapshot) bool) func(identity.Snapshot) bool {
	return func(s identity.Snapshot) bool { return s.DeletedAt.IsZero() && match(s) }
}

func liveIdentityID(identityID id.IdentityID) func(identity.Snapshot) bool {
	return liveIdentityWhere(func(s identity.Snapshot) bool { return s.ID == identityID })
}

func (r *memIdentities) GetOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	var out *identity.Identity
	var created bool
	err := (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		f := fresh.Snapshot()
		if !(*Memory)(r).liveGameIn(f.AccountID, f.GameID) {
			return game.ErrNotFound
		}
		i := slices.IndexFunc(r.t().rows, liveIdentityWhere(func(s identity.Snapshot) bool {
			return s.AccountID == f.AccountID && s.GameID == f.GameID && s.Kind == f.Kind && s.ExternalKey == f.ExternalKey
		}))
		if i < 0 {
			add(tx, &r.t().rows, f)
			out, created = identity.Rehydrate(f), true
			return tx.record(ctx, identity.Created(fresh))
		}
		previous, existing := identity.Rehydrate(r.t().rows[i]), identity.Rehydrate(r.t().rows[i])
		if err := onExisting(existing); err != nil {
			return err
		}
		out = existing
		return saveIfChanged(ctx, tx, &r.t().rows, i, existing.Snapshot(),
			func() event.Event { return identity.Changed(previous, existing) })
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func (r *memIdentities) Get(ctx context.Context, identityID id.IdentityID) (*identity.Identity, error) {
	defer (*Memory)(r).lock(ctx)()
	i := slices.IndexFunc(r.t().rows, liveIdentityID(identityID))
	if i < 0 {
		return nil, identity.ErrNotFound
	}
	return identity.Rehydrate(r.t().rows[i]), nil
}

func (r *memIdentities) Update(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	return update(ctx, (*Memory)(r), func() *[]identity.Snapshot { return &r.t().rows }, liveIdentityID(identityID), identity.ErrNotFound,
		identity.Rehydrate, identity.Changed, fn)
}

func (r *memIdentities) List(ctx context.Context, f ports.IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error) {
	defer (*Memory)(r).lock(ctx)()
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

// liveKeyTaken reports whether a live identity other than s has its key;
// the caller holds the lock.
func (m *Memory) liveKeyTaken(s identity.Snapshot) bool {
	return slices.ContainsFunc(table[identityTable](m, "identities").rows, liveIdentityWhere(func(x identity.Snapshot) bool {
		return x.ID != s.ID && x.AccountID == s.AccountID && x.GameID == s.GameID && x.Kind == s.Kind && x.ExternalKey == s.ExternalKey
	}))
}

// Restore finds the soft-deleted identity only while its player is live:
// one deleted with its player comes back with the player.
func (r *memIdentities) Restore(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	m := (*Memory)(r)
	deleted := func(s identity.Snapshot) bool {
		return s.ID == identityID && !s.DeletedAt.IsZero() && m.livePlayer(s.PlayerID)
	}
	return update(ctx, m, func() *[]identity.Snapshot { return &r.t().rows }, deleted, identity.ErrNotFound,
		identity.Rehydrate, identity.Changed, func(i *identity.Identity) error {
			if err := fn(i); err != nil {
				return err
			}
			if !i.IsDeleted() && m.liveKeyTaken(i.Snapshot()) {
				return identity.ErrKeyInUse
			}
			return nil
		})
}
