package ports

import (
	"context"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// IdentitySchema is what identity lists sort by.
var IdentitySchema = paging.NewSchema("identities", "created_at:desc,id:asc",
	paging.Field[*identity.Identity]{Name: "id", Type: paging.UUID, Value: func(i *identity.Identity) any { return i.ID().UUID() }},
	paging.Field[*identity.Identity]{Name: "display_name", Type: paging.NullableString, Value: func(i *identity.Identity) any {
		if dn := i.DisplayName(); !dn.IsZero() {
			return dn.String()
		}
		return nil
	}},
	paging.Field[*identity.Identity]{Name: "kind", Type: paging.String, Value: func(i *identity.Identity) any { return i.Kind().String() }},
	paging.Field[*identity.Identity]{Name: "created_at", Type: paging.Time, Value: func(i *identity.Identity) any { return i.CreatedAt() }},
	paging.Field[*identity.Identity]{Name: "updated_at", Type: paging.Time, Value: func(i *identity.Identity) any { return i.UpdatedAt() }},
)

// IdentityFilter narrows a list of live identities; zero fields do not filter.
type IdentityFilter struct {
	AccountID   id.AccountID
	GameID      id.GameID
	Kind        identity.Kind
	ExternalKey string `cursor:"key,omitempty"` // exact; added after the others
}

// IdentityRepository stores Identity aggregates. Soft-deleted identities are
// invisible to every method: Get and Update answer identity.ErrNotFound.
type IdentityRepository interface {
	// GetOrCreate inserts fresh unless a live identity with the same account,
	// game, kind and external key exists. In that case it locks the existing
	// one, calls onExisting with it and saves what onExisting changed, in one
	// transaction. It is safe under concurrency: of N identical calls, exactly
	// one creates. Its game must be a live game of its account, checked in
	// that transaction (game.ErrNotFound), so that no identity is written in
	// a game whose deletion committed first.
	GetOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error)
	Get(ctx context.Context, id id.IdentityID) (*identity.Identity, error)
	// Update loads the identity with a row lock, runs fn and saves the result
	// if fn succeeded and changed it, all in one transaction. An error from fn
	// leaves the identity untouched and is returned as is.
	Update(ctx context.Context, id id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error)
	// Restore loads a soft-deleted identity whose player is live with a row
	// lock, runs fn and saves the result (identity.restored), as Update. Its
	// key taken by a live identity meanwhile is identity.ErrKeyInUse; a
	// live, purged or unknown identity is identity.ErrNotFound.
	Restore(ctx context.Context, id id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error)
	// List reads one page in the order of IdentitySchema's fields.
	List(ctx context.Context, f IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error)
}

// The use cases take raw values for everything the domain validates, so that
// the domain's rules and messages apply; zero IDs mean "not given".

type CreateIdentity struct {
	AccountID   id.AccountID
	GameID      id.GameID
	Kind        string
	ExternalKey string
	DisplayName *string
}

type GetIdentity struct {
	ID        id.IdentityID
	AccountID id.AccountID
}

type ListIdentities struct {
	AccountID   id.AccountID
	GameID      id.GameID
	Kind        *string
	ExternalKey *string
	Page        paging.Params
}

type UpdateIdentity struct {
	ID          id.IdentityID
	AccountID   id.AccountID
	DisplayName *string
	Delete      bool
	// Precondition, when set, must hold for the identity as stored, or the
	// update answers identity.ErrPreconditionFailed and writes nothing. It
	// is asked under the update's row lock, after the access checks, so
	// that of concurrent updates made under one condition that the first
	// one's change breaks, only the first writes.
	Precondition func(current *identity.Identity) bool
}

// Identities is the identity API.
type Identities interface {
	// GetOrCreate reports whether it created the identity.
	GetOrCreate(ctx context.Context, p tenancy.Principal, c CreateIdentity) (*identity.Identity, bool, error)
	Get(ctx context.Context, p tenancy.Principal, q GetIdentity) (*identity.Identity, error)
	List(ctx context.Context, p tenancy.Principal, q ListIdentities) (paging.Page[*identity.Identity], error)
	Update(ctx context.Context, p tenancy.Principal, c UpdateIdentity) (*identity.Identity, error)
	// Restore undoes a soft delete within the grace period.
	Restore(ctx context.Context, p tenancy.Principal, q GetIdentity) (*identity.Identity, error)
}
