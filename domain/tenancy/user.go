package tenancy

import (
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrUserNotFound = domain.NotFound("User not found")
	ErrEmailTaken   = domain.Conflict("A user with this email already exists")
	ErrUserAccess   = domain.Forbidden("You do not have access to this user's account")
)

// User is a person or tool acting for an account. A superadmin user may act
// on every account.
type User struct {
	id          id.UserID
	accountID   id.AccountID
	email       string
	displayName string
	superAdmin  bool
	createdAt   time.Time
	updatedAt   time.Time
}

// NewUser validates the email (a bare address; its domain is lower-cased) and
// a display name of 2–100 characters.
func NewUser(accountID id.AccountID, email, displayName string, superAdmin bool, now time.Time) (*User, error) {
	var accountErr error
	if accountID.IsZero() {
		accountErr = domain.Missing("account_id")
	}
	email, emailErr := normaliseEmail(email)
	displayName, nameErr := cleanText("display_name", displayName, 2, 100)
	if err := errors.Join(accountErr, emailErr, nameErr); err != nil {
		return nil, err
	}
	now = domain.Timestamp(now)
	return &User{
		id: id.New[id.User](), accountID: accountID, email: email, displayName: displayName,
		superAdmin: superAdmin, createdAt: now, updatedAt: now,
	}, nil
}

const maxEmailLen = 254

func normaliseEmail(raw string) (string, error) {
	invalid := domain.Rejected("email", "value is not a valid email address", raw)
	s := strings.TrimSpace(raw)
	if len(s) > maxEmailLen {
		return "", invalid
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", invalid
	}
	local, host, ok := strings.Cut(s, "@")
	if !ok || local == "" || !validHost(host) {
		return "", invalid
	}
	return local + "@" + strings.ToLower(host), nil
}

// validHost accepts a domain name of two or more labels: letters, digits
// and inner hyphens.
func validHost(host string) bool {
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// UserSnapshot is a user's state as a store keeps it.
type UserSnapshot struct {
	ID          id.UserID
	AccountID   id.AccountID
	Email       string
	DisplayName string
	SuperAdmin  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RehydrateUser is for store adapters only; it trusts its input.
func RehydrateUser(s UserSnapshot) *User {
	return &User{
		id: s.ID, accountID: s.AccountID, email: s.Email, displayName: s.DisplayName,
		superAdmin: s.SuperAdmin, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
	}
}

func (u *User) Snapshot() UserSnapshot {
	return UserSnapshot{
		ID: u.id, AccountID: u.accountID, Email: u.email, DisplayName: u.displayName,
		SuperAdmin: u.superAdmin, CreatedAt: u.createdAt, UpdatedAt: u.updatedAt,
	}
}

func (u *User) ID() id.UserID           { return u.id }
func (u *User) AccountID() id.AccountID { return u.accountID }
func (u *User) Email() string           { return u.email }
func (u *User) DisplayName() string     { return u.displayName }
func (u *User) SuperAdmin() bool        { return u.superAdmin }
func (u *User) CreatedAt() time.Time    { return u.createdAt }
func (u *User) UpdatedAt() time.Time    { return u.updatedAt }
