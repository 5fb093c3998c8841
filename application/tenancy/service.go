// Package tenancy holds the use cases of accounts, users and API keys: what a
// tenant needs to exist and to call the service.
package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Service implements ports.Tenancy.
type Service struct {
	repo   ports.TenancyRepository
	hasher auth.Hasher
	cursor paging.Cursors
	now    ports.Clock
}

var _ ports.Tenancy = (*Service)(nil)

func NewService(repo ports.TenancyRepository, hasher auth.Hasher, cursor paging.Cursors, now ports.Clock) *Service {
	return &Service{repo: repo, hasher: hasher, cursor: cursor, now: now}
}

func (s *Service) CreateAccount(ctx context.Context, p tenancy.Principal, c ports.CreateAccount) (*tenancy.Account, error) {
	a, err := tenancy.NewAccount(c.Name, c.Slug, s.now())
	if err != nil {
		return nil, err
	}
	if err := auth.RequireSuperadmin(p); err != nil {
		return nil, err
	}
	if err := s.repo.CreateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

func (s *Service) GetAccount(ctx context.Context, p tenancy.Principal, accountID id.AccountID) (*tenancy.Account, error) {
	if err := auth.CheckOwner(p, accountID, tenancy.ErrAccountAccess); err != nil {
		return nil, err
	}
	return s.repo.GetAccount(ctx, accountID)
}

func (s *Service) ListAccounts(ctx context.Context, p tenancy.Principal, q ports.ListAccounts) (paging.Page[*tenancy.Account], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*tenancy.Account]{}, err
	}
	return cursor.List(s.cursor, ports.AccountSchema, q.Page, "account="+scope.String(),
		func(r paging.Request) (paging.Result[*tenancy.Account], error) {
			return s.repo.ListAccounts(ctx, scope, r)
		})
}

// CreateUser validates every field (422) before any access decision (403).
func (s *Service) CreateUser(ctx context.Context, p tenancy.Principal, c ports.CreateUser) (*tenancy.User, error) {
	account, accessErr := auth.TargetAccount(p, c.AccountID)
	u, err := tenancy.NewUser(account, c.Email, c.DisplayName, c.SuperAdmin, s.now())
	if err != nil {
		return nil, err
	}
	if accessErr != nil {
		return nil, accessErr
	}
	if c.SuperAdmin {
		if err := auth.RequireSuperadmin(p); err != nil {
			return nil, err
		}
	}
	if err := s.repo.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *Service) GetUser(ctx context.Context, p tenancy.Principal, userID id.UserID) (*tenancy.User, error) {
	u, err := s.repo.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckOwner(p, u.AccountID(), tenancy.ErrUserAccess); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) ListUsers(ctx context.Context, p tenancy.Principal, q ports.ListUsers) (paging.Page[*tenancy.User], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*tenancy.User]{}, err
	}
	f := ports.UserFilter{AccountID: scope}
	return cursor.List(s.cursor, ports.UserSchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*tenancy.User], error) { return s.repo.ListUsers(ctx, f, r) })
}

// CreateAPIKey issues a key for a user of the account. Only a superadmin may
// issue a key for a superadmin user: otherwise a tenant could mint itself a
// superadmin's powers through a superadmin placed in its account. Only a
// superadmin gives a key a rate limit of its own.
func (s *Service) CreateAPIKey(ctx context.Context, p tenancy.Principal, c ports.CreateAPIKey) (*tenancy.APIKey, string, error) {
	plaintext := tenancy.GenerateKey()
	account, accessErr := auth.TargetAccount(p, c.AccountID)
	k, err := tenancy.NewAPIKey(account, c.UserID, c.Name, plaintext, s.hasher.Hash(plaintext), c.ExpiresAt, s.now())
	limit, limitErr := parseRateLimit(c.RateLimit)
	if err := errors.Join(err, limitErr); err != nil {
		return nil, "", err
	}
	if accessErr != nil {
		return nil, "", accessErr
	}
	if c.RateLimit.Given {
		if err := auth.RequireSuperadmin(p); err != nil {
			return nil, "", err
		}
		k.SetRateLimit(limit, s.now())
	}
	u, err := s.repo.GetUser(ctx, c.UserID)
	if err != nil {
		return nil, "", err
	}
	if u.AccountID() != account {
		return nil, "", tenancy.ErrUserNotFound
	}
	if u.SuperAdmin() {
		if err := auth.RequireSuperadmin(p); err != nil {
			return nil, "", err
		}
	}
	if err := s.repo.CreateAPIKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return k, plaintext, nil
}

// parseRateLimit reads a key's rate limit setting: null is the default.
func parseRateLimit(v ports.Setting) (tenancy.RateLimit, error) {
	if v.Value == nil {
		return tenancy.RateLimit{}, nil
	}
	return tenancy.ParseRateLimit(*v.Value)
}

func (s *Service) GetAPIKey(ctx context.Context, p tenancy.Principal, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	k, err := s.repo.GetAPIKey(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckOwner(p, k.AccountID(), tenancy.ErrAPIKeyAccess); err != nil {
		return nil, err
	}
	return k, nil
}

func (s *Service) ListAPIKeys(ctx context.Context, p tenancy.Principal, q ports.ListAPIKeys) (paging.Page[*tenancy.APIKey], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*tenancy.APIKey]{}, err
	}
	f := ports.APIKeyFilter{AccountID: scope, UserID: q.UserID}
	return cursor.List(s.cursor, ports.APIKeySchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*tenancy.APIKey], error) { return s.repo.ListAPIKeys(ctx, f, r) })
}

// UpdateAPIKey revokes a key or sets its rate limit. A superadmin's keys
// are changed by superadmins only: a regular user of the system account
// could otherwise revoke them all and lock every superadmin out. The owner
// is read under the key's lock, with the key.
func (s *Service) UpdateAPIKey(ctx context.Context, p tenancy.Principal, c ports.UpdateAPIKey) (*tenancy.APIKey, error) {
	var status tenancy.KeyStatus
	var statusErr error
	if c.Status != nil {
		status, statusErr = tenancy.ParseKeyStatus(*c.Status)
	}
	limit, limitErr := parseRateLimit(c.RateLimit)
	if err := errors.Join(statusErr, limitErr); err != nil {
		return nil, err
	}
	if c.RateLimit.Given {
		if err := auth.RequireSuperadmin(p); err != nil {
			return nil, err
		}
	}
	return s.repo.UpdateAPIKey(ctx, c.ID, func(k *tenancy.APIKey, owner *tenancy.User) error {
		if err := auth.CheckOwner(p, k.AccountID(), tenancy.ErrAPIKeyAccess); err != nil {
			return err
		}
		if owner.SuperAdmin() {
			if err := auth.RequireSuperadmin(p); err != nil {
				return err
			}
		}
		if c.RateLimit.Given {
			k.SetRateLimit(limit, s.now())
		}
		if c.Status == nil {
			return nil
		}
		_, err := k.SetStatus(status, s.now())
		return err
	})
}
