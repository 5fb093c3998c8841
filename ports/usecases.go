package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
)

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
	AccountID id.AccountID
	GameID    id.GameID
	Kind      *string
	Page      paging.Params
}

type UpdateIdentity struct {
	ID          id.IdentityID
	AccountID   id.AccountID
	DisplayName *string
	Delete      bool
}

// Identities is the identity API.
type Identities interface {
	// GetOrCreate reports whether it created the identity.
	GetOrCreate(ctx context.Context, p tenancy.Principal, c CreateIdentity) (*identity.Identity, bool, error)
	Get(ctx context.Context, p tenancy.Principal, q GetIdentity) (*identity.Identity, error)
	List(ctx context.Context, p tenancy.Principal, q ListIdentities) (paging.Page[*identity.Identity], error)
	Update(ctx context.Context, p tenancy.Principal, c UpdateIdentity) (*identity.Identity, error)
}

type CreateAccount struct {
	Name string
	Slug string
}

type ListAccounts struct {
	AccountID id.AccountID
	Page      paging.Params
}

type CreateUser struct {
	AccountID   id.AccountID
	Email       string
	DisplayName string
	SuperAdmin  bool
}

type ListUsers struct {
	AccountID id.AccountID
	Page      paging.Params
}

type CreateAPIKey struct {
	AccountID id.AccountID
	UserID    id.UserID
	Name      string
	ExpiresAt time.Time // zero: never
}

type ListAPIKeys struct {
	AccountID id.AccountID
	UserID    id.UserID
	Page      paging.Params
}

type UpdateAPIKey struct {
	ID     id.APIKeyID
	Status *string
}

// Tenancy is the admin API for accounts, users and API keys.
type Tenancy interface {
	CreateAccount(ctx context.Context, p tenancy.Principal, c CreateAccount) (*tenancy.Account, error)
	GetAccount(ctx context.Context, p tenancy.Principal, id id.AccountID) (*tenancy.Account, error)
	ListAccounts(ctx context.Context, p tenancy.Principal, q ListAccounts) (paging.Page[*tenancy.Account], error)

	CreateUser(ctx context.Context, p tenancy.Principal, c CreateUser) (*tenancy.User, error)
	GetUser(ctx context.Context, p tenancy.Principal, id id.UserID) (*tenancy.User, error)
	ListUsers(ctx context.Context, p tenancy.Principal, q ListUsers) (paging.Page[*tenancy.User], error)

	// CreateAPIKey returns the key and its plaintext, which is never
	// available again.
	CreateAPIKey(ctx context.Context, p tenancy.Principal, c CreateAPIKey) (*tenancy.APIKey, string, error)
	GetAPIKey(ctx context.Context, p tenancy.Principal, id id.APIKeyID) (*tenancy.APIKey, error)
	ListAPIKeys(ctx context.Context, p tenancy.Principal, q ListAPIKeys) (paging.Page[*tenancy.APIKey], error)
	UpdateAPIKey(ctx context.Context, p tenancy.Principal, c UpdateAPIKey) (*tenancy.APIKey, error)
}

// Authenticator turns a presented API key into a principal, or fails with
// tenancy.ErrKeyRequired or tenancy.ErrKeyInvalid.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (tenancy.Principal, error)
}
