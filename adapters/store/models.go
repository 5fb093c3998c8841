package store

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
)

func toUUID[E id.Entity](i id.ID[E]) uuid.UUID   { return uuid.UUID(i.UUID()) }
func fromUUID[E id.Entity](u uuid.UUID) id.ID[E] { return id.FromUUID[E](id.UUID(u)) }

// Rows are the tables' shapes; mappers turn them into aggregates and back.
// Domain types never carry storage tags.

type identityRow struct {
	bun.BaseModel `bun:"table:identities"`

	ID          uuid.UUID      `bun:"id,pk,type:uuid"`
	AccountID   uuid.UUID      `bun:"account_id,type:uuid"`
	GameID      uuid.UUID      `bun:"game_id,type:uuid"`
	Kind        string         `bun:"kind"`
	ExternalKey string         `bun:"external_key"`
	DisplayName sql.NullString `bun:"display_name"`
	CreatedAt   time.Time      `bun:"created_at"`
	UpdatedAt   time.Time      `bun:"updated_at"`
	DeletedAt   sql.NullTime   `bun:"deleted_at"`
}

const identityColumns = "id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at"

func identityToRow(i *identity.Identity) *identityRow {
	s := i.Snapshot()
	return &identityRow{
		ID:          toUUID(s.ID),
		AccountID:   toUUID(s.AccountID),
		GameID:      toUUID(s.GameID),
		Kind:        s.Kind.String(),
		ExternalKey: s.ExternalKey,
		DisplayName: sql.NullString{String: s.DisplayName, Valid: s.DisplayName != ""},
		CreatedAt:   s.CreatedAt,
		UpdatedAt:   s.UpdatedAt,
		DeletedAt:   sql.NullTime{Time: s.DeletedAt, Valid: !s.DeletedAt.IsZero()},
	}
}

func identityFromRow(r *identityRow) (*identity.Identity, error) {
	kind, err := identity.ParseKind(r.Kind)
	if err != nil {
		return nil, fmt.Errorf("identity %s: stored kind %q: %w", r.ID, r.Kind, err)
	}
	return identity.Rehydrate(identity.Snapshot{
		ID:          fromUUID[id.Identity](r.ID),
		AccountID:   fromUUID[id.Account](r.AccountID),
		GameID:      fromUUID[id.Game](r.GameID),
		Kind:        kind,
		ExternalKey: r.ExternalKey,
		DisplayName: r.DisplayName.String,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
		DeletedAt:   r.DeletedAt.Time,
	}), nil
}

type accountRow struct {
	bun.BaseModel `bun:"table:accounts"`

	ID        uuid.UUID `bun:"id,pk,type:uuid"`
	Name      string    `bun:"name"`
	Slug      string    `bun:"slug"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

const accountColumns = "id, name, slug, created_at, updated_at"

func accountToRow(a *tenancy.Account) *accountRow {
	s := a.Snapshot()
	return &accountRow{ID: toUUID(s.ID), Name: s.Name, Slug: s.Slug, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func accountFromRow(r *accountRow) (*tenancy.Account, error) {
	return tenancy.RehydrateAccount(tenancy.AccountSnapshot{
		ID: fromUUID[id.Account](r.ID), Name: r.Name, Slug: r.Slug, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}), nil
}

type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID          uuid.UUID `bun:"id,pk,type:uuid"`
	AccountID   uuid.UUID `bun:"account_id,type:uuid"`
	Email       string    `bun:"email"`
	DisplayName string    `bun:"display_name"`
	SuperAdmin  bool      `bun:"super_admin"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

const userColumns = "id, account_id, email, display_name, super_admin, created_at, updated_at"

func userToRow(u *tenancy.User) *userRow {
	s := u.Snapshot()
	return &userRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), Email: s.Email, DisplayName: s.DisplayName,
		SuperAdmin: s.SuperAdmin, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func userFromRow(r *userRow) (*tenancy.User, error) {
	return tenancy.RehydrateUser(tenancy.UserSnapshot{
		ID: fromUUID[id.User](r.ID), AccountID: fromUUID[id.Account](r.AccountID), Email: r.Email,
		DisplayName: r.DisplayName, SuperAdmin: r.SuperAdmin, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}), nil
}

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID        uuid.UUID    `bun:"id,pk,type:uuid"`
	AccountID uuid.UUID    `bun:"account_id,type:uuid"`
	UserID    uuid.UUID    `bun:"user_id,type:uuid"`
	Name      string       `bun:"name"`
	KeyPrefix string       `bun:"key_prefix"`
	KeyHash   []byte       `bun:"key_hash"`
	Status    string       `bun:"status"`
	ExpiresAt sql.NullTime `bun:"expires_at"`
	CreatedAt time.Time    `bun:"created_at"`
	UpdatedAt time.Time    `bun:"updated_at"`
}

const apiKeyColumns = "id, account_id, user_id, name, key_prefix, key_hash, status, expires_at, created_at, updated_at"

func apiKeyToRow(k *tenancy.APIKey) *apiKeyRow {
	s := k.Snapshot()
	return &apiKeyRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), UserID: toUUID(s.UserID), Name: s.Name,
		KeyPrefix: s.Prefix, KeyHash: s.Hash, Status: s.Status.String(),
		ExpiresAt: sql.NullTime{Time: s.ExpiresAt, Valid: !s.ExpiresAt.IsZero()},
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func apiKeyFromRow(r *apiKeyRow) (*tenancy.APIKey, error) {
	status, err := tenancy.ParseKeyStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("API key %s: stored status %q: %w", r.ID, r.Status, err)
	}
	return tenancy.RehydrateAPIKey(tenancy.APIKeySnapshot{
		ID: fromUUID[id.APIKey](r.ID), AccountID: fromUUID[id.Account](r.AccountID),
		UserID: fromUUID[id.User](r.UserID), Name: r.Name, Prefix: r.KeyPrefix, Hash: r.KeyHash,
		Status: status, ExpiresAt: r.ExpiresAt.Time, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}), nil
}

type secretRow struct {
	bun.BaseModel `bun:"table:service_secrets"`

	Name      string    `bun:"name,pk"`
	Value     []byte    `bun:"value"`
	CreatedAt time.Time `bun:"created_at"`
}
