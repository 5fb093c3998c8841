// Package auth is who may do what: API-key checking and the access policy.
// Regular users are confined to their own account; superadmins may act on
// every account. Every use case asks this policy; no repository decides
// access.
package auth

import (
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
)

var (
	ErrAccountDenied      = domain.Forbidden("Access denied to the specified account")
	ErrSuperadminRequired = domain.Forbidden("Superadmin access required")
)

// ListScope resolves the account a list is confined to from the account the
// caller named (zero: none). A zero result means every account, which only
// a superadmin who named none gets.
func ListScope(p tenancy.Principal, named id.AccountID) (id.AccountID, error) {
	if p.SuperAdmin {
		return named, nil
	}
	if !named.IsZero() && named != p.AccountID {
		return id.AccountID{}, ErrAccountDenied
	}
	return p.AccountID, nil
}

// TargetAccount resolves the account a write goes to. Regular users default
// to their own; superadmins must name one (a zero result and a Missing
// error). When it refuses a named account it still returns that account, so
// that the caller can finish validating its input before answering 403.
func TargetAccount(p tenancy.Principal, named id.AccountID) (id.AccountID, error) {
	switch {
	case p.SuperAdmin && named.IsZero():
		return id.AccountID{}, domain.Missing("account_id")
	case p.SuperAdmin:
		return named, nil
	case named.IsZero():
		return p.AccountID, nil
	case named != p.AccountID:
		return named, ErrAccountDenied
	}
	return named, nil
}

// CheckNamed checks an optional account a caller named alongside a resource
// ID: a regular user may only name its own.
func CheckNamed(p tenancy.Principal, named id.AccountID) error {
	_, err := ListScope(p, named)
	return err
}

// CheckOwner allows access to a resource owned by owner, or answers denied.
func CheckOwner(p tenancy.Principal, owner id.AccountID, denied error) error {
	if p.SuperAdmin || owner == p.AccountID {
		return nil
	}
	return denied
}

// CheckAccess allows access to a resource owned by owner that a caller
// asked for by ID, naming an account or none (zero). Another tenant's
// resource is denied (403); a resource outside the account a superadmin
// named is notFound (404), as if it were not there. The named account itself is
// checked first, with CheckNamed.
func CheckAccess(p tenancy.Principal, named, owner id.AccountID, denied, notFound error) error {
	if err := CheckOwner(p, owner, denied); err != nil {
		return err
	}
	if !named.IsZero() && named != owner {
		return notFound
	}
	return nil
}

// RequireSuperadmin lets superadmins through.
func RequireSuperadmin(p tenancy.Principal) error {
	if !p.SuperAdmin {
		return ErrSuperadminRequired
	}
	return nil
}
