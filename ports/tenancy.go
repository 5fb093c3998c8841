package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// What the lists of accounts, users and API keys sort by.
var (
	AccountSchema = paging.NewSchema("accounts", "created_at:desc,id:asc",
		paging.Field[*tenancy.Account]{Name: "id", Type: paging.UUID, Value: func(a *tenancy.Account) any { return a.ID().UUID() }},
		paging.Field[*tenancy.Account]{Name: "name", Type: paging.String, Value: func(a *tenancy.Account) any { return a.Name() }},
		paging.Field[*tenancy.Account]{Name: "slug", Type: paging.String, Value: func(a *tenancy.Account) any { return a.Slug() }},
		paging.Field[*tenancy.Account]{Name: "created_at", Type: paging.Time, Value: func(a *tenancy.Account) any { return a.CreatedAt() }},
		paging.Field[*tenancy.Account]{Name: "updated_at", Type: paging.Time, Value: func(a *tenancy.Account) any { return a.UpdatedAt() }},
	)
	UserSchema = paging.NewSchema("users", "created_at:desc,id:asc",
		paging.Field[*tenancy.User]{Name: "id", Type: paging.UUID, Value: func(u *tenancy.User) any { return u.ID().UUID() }},
		paging.Field[*tenancy.User]{Name: "email", Type: paging.String, Value: func(u *tenancy.User) any { return u.Email() }},
		paging.Field[*tenancy.User]{Name: "display_name", Type: paging.String, Value: func(u *tenancy.User) any { return u.DisplayName() }},
		paging.Field[*tenancy.User]{Name: "created_at", Type: paging.Time, Value: func(u *tenancy.User) any { return u.CreatedAt() }},
		paging.Field[*tenancy.User]{Name: "updated_at", Type: paging.Time, Value: func(u *tenancy.User) any { return u.UpdatedAt() }},
	)
	APIKeySchema = paging.NewSchema("api-keys", "created_at:desc,id:asc",
		paging.Field[*tenancy.APIKey]{Name: "id", Type: paging.UUID, Value: func(k *tenancy.APIKey) any { return k.ID().UUID() }},
		paging.Field[*tenancy.APIKey]{Name: "name", Type: paging.String, Value: func(k *tenancy.APIKey) any { return k.Name() }},
		paging.Field[*tenancy.APIKey]{Name: "created_at", Type: paging.Time, Value: func(k *tenancy.APIKey) any { return k.CreatedAt() }},
		paging.Field[*tenancy.APIKey]{Name: "updated_at", Type: paging.Time, Value: func(k *tenancy.APIKey) any { return k.UpdatedAt() }},
	)
)

// UserFilter and APIKeyFilter narrow lists; zero fields do not filter.
type (
	UserFilter struct {
		AccountID id.AccountID
		// SuperAdmin lists superadmins only.
		SuperAdmin bool `cursor:",omitempty"`
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
	// UpdateAPIKey has the contract of IdentityRepository.Update; fn also
	// gets the key's user (owner), read under the key's lock, so that who
	// may change a key is decided on both.
	UpdateAPIKey(ctx context.Context, id id.APIKeyID, fn func(k *tenancy.APIKey, owner *tenancy.User) error) (*tenancy.APIKey, error)

	// Authenticate finds the key with this hash and its user, in one read.
	// An unknown hash is tenancy.ErrKeyInvalid.
	Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error)

	// Bootstrap creates the account, user and key when no superadmin user
	// exists, and reports whether it did. Concurrent callers (replicas that
	// start together) create at most one.
	Bootstrap(ctx context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error)
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
	// RateLimit is the key's own limit ("N/s", "N/m", "N/h", "off"; null:
	// the default); superadmins only.
	RateLimit Setting
}

type ListAPIKeys struct {
	AccountID id.AccountID
	UserID    id.UserID
	Page      paging.Params
}

type UpdateAPIKey struct {
	ID        id.APIKeyID
	Status    *string
	RateLimit Setting // as in CreateAPIKey
}

// Tenancy is the API of accounts, users and API keys.
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
