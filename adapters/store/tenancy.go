package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Tenancy implements ports.TenancyRepository.
type Tenancy struct {
	db *DB
}

var _ ports.TenancyRepository = (*Tenancy)(nil)

func NewTenancy(s *Store) *Tenancy { return &Tenancy{db: s.db} }

// tenancyConstraints names the domain error of each constraint, by its
// PostgreSQL name and by what SQLite reports (see violationKey).
var tenancyConstraints = map[string]error{
	"accounts_slug_key":     tenancy.ErrSlugTaken,
	"accounts.slug":         tenancy.ErrSlugTaken,
	"users_email_key":       tenancy.ErrEmailTaken,
	"users.email":           tenancy.ErrEmailTaken,
	"users_account_fkey":    tenancy.ErrAccountNotFound,
	"users.foreign_key":     tenancy.ErrAccountNotFound,
	"api_keys_account_fkey": tenancy.ErrAccountNotFound,
	"api_keys_user_fkey":    tenancy.ErrUserNotFound,
	// The use case checked that the user is in the account: a key's broken
	// foreign key means that user is gone.
	"api_keys.foreign_key": tenancy.ErrUserNotFound,
}

func insert(ctx context.Context, db bun.IDB, row any) error {
	q := db.NewInsert().Model(row)
	if _, err := q.Exec(ctx); err != nil {
		return translate(err, q.GetTableName(), tenancyConstraints)
	}
	return nil
}

func (r *Tenancy) CreateAccount(ctx context.Context, a *tenancy.Account) error {
	return insert(ctx, r.db.write, accountToRow(a))
}

func (r *Tenancy) GetAccount(ctx context.Context, accountID id.AccountID) (*tenancy.Account, error) {
	return getOne(ctx, r.db.read, cond("id = ?", toUUID(accountID)), tenancy.ErrAccountNotFound, accountFromRow)
}

var (
	accountSortColumns = map[string]column{
		"id": {name: "id"}, "name": {name: "name"}, "slug": {name: "slug"},
		"created_at": {name: "created_at"}, "updated_at": {name: "updated_at"},
	}
	userSortColumns = map[string]column{
		"id": {name: "id"}, "email": {name: "email"}, "display_name": {name: "display_name"},
		"created_at": {name: "created_at"}, "updated_at": {name: "updated_at"},
	}
	apiKeySortColumns = map[string]column{
		"id": {name: "id"}, "name": {name: "name"},
		"created_at": {name: "created_at"}, "updated_at": {name: "updated_at"},
	}
)

func (r *Tenancy) ListAccounts(ctx context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error) {
	l := listing{table: "accounts", columns: accountColumns, sortBy: accountSortColumns}
	if !only.IsZero() {
		l.where = append(l.where, cond("id = ?", toUUID(only)))
	}
	return list(ctx, r.db.read, l, req, accountFromRow)
}

func (r *Tenancy) CreateUser(ctx context.Context, u *tenancy.User) error {
	return insert(ctx, r.db.write, userToRow(u))
}

func (r *Tenancy) GetUser(ctx context.Context, userID id.UserID) (*tenancy.User, error) {
	return getOne(ctx, r.db.read, cond("id = ?", toUUID(userID)), tenancy.ErrUserNotFound, userFromRow)
}

func (r *Tenancy) ListUsers(ctx context.Context, f ports.UserFilter, req paging.Request) (paging.Result[*tenancy.User], error) {
	l := listing{table: "users", columns: userColumns, sortBy: userSortColumns}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	return list(ctx, r.db.read, l, req, userFromRow)
}

func (r *Tenancy) CreateAPIKey(ctx context.Context, k *tenancy.APIKey) error {
	return insert(ctx, r.db.write, apiKeyToRow(k))
}

func (r *Tenancy) GetAPIKey(ctx context.Context, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	return getOne(ctx, r.db.read, cond("id = ?", toUUID(keyID)), tenancy.ErrAPIKeyNotFound, apiKeyFromRow)
}

func (r *Tenancy) ListAPIKeys(ctx context.Context, f ports.APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error) {
	l := listing{table: "api_keys", columns: apiKeyColumns, sortBy: apiKeySortColumns}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if !f.UserID.IsZero() {
		l.where = append(l.where, cond("user_id = ?", toUUID(f.UserID)))
	}
	return list(ctx, r.db.read, l, req, apiKeyFromRow)
}

func (r *Tenancy) UpdateAPIKey(ctx context.Context, keyID id.APIKeyID, fn func(*tenancy.APIKey) error) (*tenancy.APIKey, error) {
	return updateLocked(ctx, r.db, "API key", cond("id = ?", toUUID(keyID)), tenancy.ErrAPIKeyNotFound,
		apiKeyFromRow, apiKeyToRow, fn, "status", "updated_at")
}

// authRow is an API key joined with its user: authentication is one read.
type authRow struct {
	apiKeyRow
	User userRow `bun:"embed:u_"`
}

func (r *Tenancy) Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error) {
	var row authRow
	err := r.db.read.NewRaw(`SELECT k.id, k.account_id, k.user_id, k.name, k.key_prefix, k.key_hash, k.status,
		k.expires_at, k.created_at, k.updated_at,
		u.id AS u_id, u.account_id AS u_account_id, u.email AS u_email,
		u.display_name AS u_display_name, u.super_admin AS u_super_admin,
		u.created_at AS u_created_at, u.updated_at AS u_updated_at
		FROM api_keys AS k JOIN users AS u ON u.id = k.user_id
		WHERE k.key_hash = ?`, hash).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, tenancy.ErrKeyInvalid
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load API key: %w", err)
	}
	k, err := apiKeyFromRow(&row.apiKeyRow)
	if err != nil {
		return nil, nil, err
	}
	u, err := userFromRow(&row.User)
	if err != nil {
		return nil, nil, err
	}
	return k, u, nil
}

// bootstrapLock serialises bootstrap across replicas (an arbitrary constant
// of this service's advisory-lock space).
const bootstrapLock = 0x1eadb007

func (r *Tenancy) Bootstrap(ctx context.Context, a *tenancy.Account, u *tenancy.User, k *tenancy.APIKey) (bool, error) {
	var created bool
	err := r.db.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := r.db.lockBootstrap(ctx, tx); err != nil {
			return fmt.Errorf("lock bootstrap: %w", err)
		}
		exists, err := tx.NewSelect().Model((*userRow)(nil)).Where("super_admin").Exists(ctx)
		if err != nil || exists {
			return err
		}
		for _, row := range []any{accountToRow(a), userToRow(u), apiKeyToRow(k)} {
			if err := insert(ctx, tx, row); err != nil {
				return fmt.Errorf("bootstrap: %w", err)
			}
		}
		created = true
		return nil
	})
	return created, err
}
