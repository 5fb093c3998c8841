package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// The system account, user and key that bootstrap creates.
const (
	SystemAccountName = "System"
	SystemAccountSlug = "system"
	SuperadminEmail   = "superadmin@leadr.local"
	SuperadminName    = "Superadmin"
	SuperadminKeyName = "Bootstrap superadmin key"
)

// Bootstrap makes sure a superadmin exists. When none does it creates the
// system account, a superadmin user and a key whose value is configured, or
// else generated. It returns the plaintext only when it generated one, so
// that the caller can show it once.
func Bootstrap(ctx context.Context, repo ports.TenancyRepository, hasher Hasher, now ports.Clock, configured string) (generated string, created bool, err error) {
	plaintext := configured
	if plaintext == "" {
		plaintext = tenancy.GenerateKey()
	}
	t := now()
	account, err := tenancy.NewAccount(SystemAccountName, SystemAccountSlug, t)
	if err != nil {
		return "", false, fmt.Errorf("bootstrap account: %w", err)
	}
	user, err := tenancy.NewUser(account.ID(), SuperadminEmail, SuperadminName, true, t)
	if err != nil {
		return "", false, fmt.Errorf("bootstrap user: %w", err)
	}
	key, err := tenancy.NewAPIKey(account.ID(), user.ID(), SuperadminKeyName, plaintext, hasher.Hash(plaintext), time.Time{}, t)
	if err != nil {
		return "", false, fmt.Errorf("bootstrap key: %w", err)
	}
	created, err = repo.Bootstrap(ctx, account, user, key)
	if err != nil || !created {
		return "", false, err
	}
	if configured != "" {
		return "", true, nil
	}
	return plaintext, true, nil
}

// BreakGlassKeyName names the keys ResetSuperadmin issues.
const BreakGlassKeyName = "Break-glass superadmin key"

// ResetSuperadmin issues a fresh key for the first superadmin, bootstrapping
// one when none exists, and returns its plaintext: the way back in when no
// superadmin key works any more (leadr superadmin reset). The key is in the
// database when it returns, so every replica takes it at once.
func ResetSuperadmin(ctx context.Context, repo ports.TenancyRepository, hasher Hasher, now ports.Clock) (string, error) {
	generated, created, err := Bootstrap(ctx, repo, hasher, now, "")
	if err != nil || created {
		return generated, err
	}
	// The oldest: the bootstrap superadmin, as a rule.
	first, err := repo.ListUsers(ctx, ports.UserFilter{SuperAdmin: true},
		paging.Request{Sort: ports.UserSchema.DefaultSort().Reverse(), Limit: 1})
	if err != nil {
		return "", fmt.Errorf("find a superadmin: %w", err)
	}
	if len(first.Items) == 0 {
		return "", errors.New("find a superadmin: none, though bootstrap found one")
	}
	u := first.Items[0]
	plaintext := tenancy.GenerateKey()
	key, err := tenancy.NewAPIKey(u.AccountID(), u.ID(), BreakGlassKeyName, plaintext, hasher.Hash(plaintext), time.Time{}, now())
	if err != nil {
		return "", fmt.Errorf("break-glass key: %w", err)
	}
	if err := repo.CreateAPIKey(ctx, key); err != nil {
		return "", fmt.Errorf("break-glass key: %w", err)
	}
	return plaintext, nil
}
