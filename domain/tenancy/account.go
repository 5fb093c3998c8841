// Package tenancy holds who may call the service: accounts (the tenants),
// their users, and the users' API keys.
package tenancy

import (
	"errors"
	"regexp"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrAccountNotFound = domain.NotFound("Account not found")
	ErrSlugTaken       = domain.Conflict("An account with this slug already exists")
	ErrAccountAccess   = domain.Forbidden("You do not have access to this account")
)

// Account is a tenant: a studio or team. Everything else belongs to one.
type Account struct {
	id        id.AccountID
	name      string
	slug      string
	createdAt time.Time
	updatedAt time.Time
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$`)

// NewAccount validates a name (1–100 characters) and a slug (1–50 lower-case
// letters, digits and inner hyphens).
func NewAccount(name, slug string, now time.Time) (*Account, error) {
	name, nameErr := cleanText("name", name, 1, 100)
	var slugErr error
	if !slugPattern.MatchString(slug) {
		slugErr = domain.Rejected("slug",
			"A slug is 1–50 lower-case letters, digits and hyphens, starting and ending with a letter or digit", slug)
	}
	if err := errors.Join(nameErr, slugErr); err != nil {
		return nil, err
	}
	now = domain.Timestamp(now)
	return &Account{id: id.New[id.Account](), name: name, slug: slug, createdAt: now, updatedAt: now}, nil
}

// AccountSnapshot is an account's state as a store keeps it.
type AccountSnapshot struct {
	ID        id.AccountID
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RehydrateAccount is for store adapters only; it trusts its input.
func RehydrateAccount(s AccountSnapshot) *Account {
	return &Account{id: s.ID, name: s.Name, slug: s.Slug, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC()}
}

func (a *Account) Snapshot() AccountSnapshot {
	return AccountSnapshot{ID: a.id, Name: a.name, Slug: a.slug, CreatedAt: a.createdAt, UpdatedAt: a.updatedAt}
}

func (a *Account) ID() id.AccountID     { return a.id }
func (a *Account) Name() string         { return a.name }
func (a *Account) Slug() string         { return a.slug }
func (a *Account) CreatedAt() time.Time { return a.createdAt }
func (a *Account) UpdatedAt() time.Time { return a.updatedAt }
