package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
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
