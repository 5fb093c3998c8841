// Package identity holds the identity use cases: get-or-create, get, list
// and update (rename or soft-delete).
package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Service implements ports.Identities.
type Service struct {
	repo     ports.IdentityRepository
	accounts ports.TenancyRepository
	cursor   paging.Cursors
	now      ports.Clock
	grace    time.Duration
}

var _ ports.Identities = (*Service)(nil)

func NewService(repo ports.IdentityRepository, accounts ports.TenancyRepository, cursor paging.Cursors, now ports.Clock) *Service {
	return &Service{repo: repo, accounts: accounts, cursor: cursor, now: now, grace: identity.DefaultDeletionGrace}
}

// WithDeletionGrace sets how long a soft-deleted identity can be restored.
func (s *Service) WithDeletionGrace(grace time.Duration) *Service {
	s.grace = grace
	return s
}

// Restore undoes a soft delete within the grace period; the owner check
// runs under the row lock.
func (s *Service) Restore(ctx context.Context, p tenancy.Principal, q ports.GetIdentity) (*identity.Identity, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	return s.repo.Restore(ctx, q.ID, func(i *identity.Identity) error {
		if err := auth.CheckAccess(p, q.AccountID, i.AccountID(), identity.ErrForbidden, identity.ErrNotFound); err != nil {
			return err
		}
		return i.Restore(s.grace, s.now())
	})
}

// GetOrCreate validates every field first (422), then asks the policy (403),
// then gets or creates, in a live game of the account (404: unknown, deleted
// or of another account; the repository checks it, so that the common case,
// an existing identity, is one read); an existing identity takes a different
// display name.
func (s *Service) GetOrCreate(ctx context.Context, p tenancy.Principal, c ports.CreateIdentity) (*identity.Identity, bool, error) {
	var problems []error
	kind, err := identity.ParseKind(c.Kind)
	problems = append(problems, err)
	var key identity.ExternalKey
	if err == nil {
		key, err = identity.NewExternalKey(kind, c.ExternalKey)
		problems = append(problems, err)
	}
	name, err := optionalDisplayName(c.DisplayName)
	problems = append(problems, err)
	if c.GameID.IsZero() {
		problems = append(problems, domain.Missing("game_id"))
	}
	account, accessErr := auth.TargetAccount(p, c.AccountID)
	if domain.CategoryOf(accessErr) == domain.CategoryInvalid {
		problems, accessErr = append(problems, accessErr), nil
	}
	if err := errors.Join(problems...); err != nil {
		return nil, false, err
	}
	if accessErr != nil {
		return nil, false, accessErr
	}
	fresh, err := identity.New(account, c.GameID, key, name, s.now())
	if err != nil {
		return nil, false, err
	}
	got, created, err := s.repo.GetOrCreate(ctx, fresh, func(existing *identity.Identity) error {
		if name.IsZero() {
			return nil
		}
		_, err := existing.Rename(name, s.now())
		return err
	})
	if errors.Is(err, game.ErrNotFound) {
		return nil, false, s.missingGame(ctx, p, account)
	}
	if err != nil {
		return nil, false, fmt.Errorf("get or create identity: %w", err)
	}
	return got, created, nil
}

// missingGame explains why the repository found no live game of the account
// (it checks that itself, so that the common path reads no game): a game of
// another account is as unknown as one that does not exist. Only a
// superadmin can name an account that does not exist, and is told so.
func (s *Service) missingGame(ctx context.Context, p tenancy.Principal, account id.AccountID) error {
	if p.SuperAdmin {
		if _, err := s.accounts.GetAccount(ctx, account); err != nil {
			return err
		}
	}
	return game.ErrNotFound
}

func optionalDisplayName(raw *string) (identity.DisplayName, error) {
	if raw == nil {
		return identity.DisplayName{}, nil
	}
	return identity.ParseDisplayName(*raw)
}

func (s *Service) Get(ctx context.Context, p tenancy.Principal, q ports.GetIdentity) (*identity.Identity, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	i, err := s.repo.Get(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckAccess(p, q.AccountID, i.AccountID(), identity.ErrForbidden, identity.ErrNotFound); err != nil {
		return nil, err
	}
	return i, nil
}

func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListIdentities) (paging.Page[*identity.Identity], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*identity.Identity]{}, err
	}
	f := ports.IdentityFilter{AccountID: scope, GameID: q.GameID}
	if q.ExternalKey != nil {
		f.ExternalKey = *q.ExternalKey
	}
	if q.Kind != nil {
		if f.Kind, err = identity.ParseKindFilter(*q.Kind); err != nil {
			return paging.Page[*identity.Identity]{}, err
		}
	}
	fetch := func(r paging.Request) (paging.Result[*identity.Identity], error) { return s.repo.List(ctx, f, r) }
	if q.ExternalKey != nil && *q.ExternalKey == "" {
		// An exact filter on "": no identity has an empty key (the stores
		// read "" as no filter at all).
		fetch = func(paging.Request) (paging.Result[*identity.Identity], error) {
			return paging.Result[*identity.Identity]{}, nil
		}
	}
	return cursor.List(s.cursor, ports.IdentitySchema, q.Page, cursor.Fingerprint(f), fetch)
}

// Update validates (422), checks the named account (403), then changes the
// identity under a row lock; the owner check (403) and then the
// precondition (412) run inside the lock, so a refused update writes
// nothing, and two updates under one precondition cannot both pass it.
// Deletion wins over renaming.
func (s *Service) Update(ctx context.Context, p tenancy.Principal, c ports.UpdateIdentity) (*identity.Identity, error) {
	name, err := optionalDisplayName(c.DisplayName)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckNamed(p, c.AccountID); err != nil {
		return nil, err
	}
	if !c.Delete && name.IsZero() {
		// Nothing to write, but the caller is told all the same whether
		// its precondition held.
		i, err := s.Get(ctx, p, ports.GetIdentity{ID: c.ID, AccountID: c.AccountID})
		if err == nil {
			err = checkPrecondition(c, i)
		}
		if err != nil {
			return nil, err
		}
		return i, nil
	}
	i, err := s.repo.Update(ctx, c.ID, func(i *identity.Identity) error {
		if err := auth.CheckAccess(p, c.AccountID, i.AccountID(), identity.ErrForbidden, identity.ErrNotFound); err != nil {
			return err
		}
		if err := checkPrecondition(c, i); err != nil {
			return err
		}
		if c.Delete {
			return i.Delete(s.now())
		}
		_, err := i.Rename(name, s.now())
		return err
	})
	// A deletion's identity.deleted event ends its sessions, in this
	// transaction (the session slice subscribes to it).
	return i, err
}

func checkPrecondition(c ports.UpdateIdentity, current *identity.Identity) error {
	if c.Precondition != nil && !c.Precondition(current) {
		return identity.ErrPreconditionFailed
	}
	return nil
}
