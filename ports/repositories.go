// Package ports is the boundary of the application: the interfaces it needs
// from storage and the use cases it offers to drivers such as the HTTP API,
// with the plain types they speak in.
package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
)

// IdentityFilter narrows a list of live identities; zero fields do not filter.
type IdentityFilter struct {
	AccountID id.AccountID
	GameID    id.GameID
	Kind      identity.Kind
}

// IdentityRepository stores Identity aggregates. Soft-deleted identities are
// invisible to every method: Get and Update answer identity.ErrNotFound.
type IdentityRepository interface {
	// GetOrCreate inserts fresh unless a live identity with the same account,
	// game, kind and external key exists. In that case it locks the existing
	// one, calls onExisting with it and saves what onExisting changed, in one
	// transaction. It is safe under concurrency: of N identical calls, exactly
	// one creates.
	GetOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error)
	Get(ctx context.Context, id id.IdentityID) (*identity.Identity, error)
	// Update loads the identity with a row lock, runs fn and saves the result
	// if fn succeeded and changed it, all in one transaction. An error from fn
	// leaves the identity untouched and is returned as is.
	Update(ctx context.Context, id id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error)
	List(ctx context.Context, f IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error)
}

// UserFilter and APIKeyFilter narrow lists; zero fields do not filter.
type (
	UserFilter struct {
		AccountID id.AccountID
	}
	APIKeyFilter struct {
		AccountID id.AccountID
		UserID    id.UserID
	}
)

// TenancyRepository stores accounts, users and API keys.
type TenancyRepository interface {
	CreateAccount(ctx context.Context, a *tenancy.Account) error // tenancy.ErrSlugTaken
	GetAccount(ctx context.Context, id id.AccountID) (*tenancy.Account, error)
	// ListAccounts lists all accounts, or only the one given.
	ListAccounts(ctx context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error)

	CreateUser(ctx context.Context, u *tenancy.User) error // tenancy.ErrEmailTaken, ErrAccountNotFound
	GetUser(ctx context.Context, id id.UserID) (*tenancy.User, error)
	ListUsers(ctx context.Context, f UserFilter, req paging.Request) (paging.Result[*tenancy.User], error)

	CreateAPIKey(ctx context.Context, k *tenancy.APIKey) error
	GetAPIKey(ctx context.Context, id id.APIKeyID) (*tenancy.APIKey, error)
	ListAPIKeys(ctx context.Context, f APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error)
	// UpdateAPIKey has the contract of IdentityRepository.Update.
	UpdateAPIKey(ctx context.Context, id id.APIKeyID, fn func(*tenancy.APIKey) error) (*tenancy.APIKey, error)

	// Authenticate finds the key with this hash and its user, in one read.
	// An unknown hash is tenancy.ErrKeyInvalid.
	Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error)

	// Bootstrap creates the account, user and key when no superadmin user
	// exists, and reports whether it did. Concurrent callers (replicas that
	// start together) create at most one.
	Bootstrap(ctx context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error)
}

// SecretStore keeps generated secrets that every replica must share.
type SecretStore interface {
	// Secret returns the secret stored under name, storing generate() first
	// if there is none. Concurrent callers all get the same value.
	Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error)
}

// Pinger reports whether storage answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Clock is the time source of the use cases.
type Clock func() time.Time
