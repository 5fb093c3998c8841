package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Tenancy implements ports.TenancyRepository.
type Tenancy struct {
	db *DB
}

var _ ports.TenancyRepository = (*Tenancy)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewTenancy(s) })
}

func NewTenancy(s *Store) (*Tenancy, error) {
	err := errors.Join(
		checkRowModel[accountRow](s.db.read, accountColumns, ports.AccountSchema.Spec),
		checkRowModel[userRow](s.db.read, userColumns, ports.UserSchema.Spec),
		checkRowModel[apiKeyRow](s.db.read, apiKeyColumns, ports.APIKeySchema.Spec),
	)
	if err != nil {
		return nil, err
	}
	return &Tenancy{db: s.db}, nil
}

// tenancyConstraints names the domain error of each constraint, by its
// PostgreSQL name and by what SQLite reports (see violationKey).
var tenancyConstraints = map[string]error{
	"accounts_slug_key":             tenancy.ErrSlugTaken,
	"accounts.slug":                 tenancy.ErrSlugTaken,
	"users_account_email_key":       tenancy.ErrEmailTaken,
	"users.account_id, users.email": tenancy.ErrEmailTaken,
	"users_account_fkey":            tenancy.ErrAccountNotFound,
	"users.foreign_key":             tenancy.ErrAccountNotFound,
	"api_keys_account_fkey":         tenancy.ErrAccountNotFound,
	"api_keys_user_fkey":            tenancy.ErrUserNotFound,
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
	return r.db.create(ctx, accountToRow(a), tenancy.AccountCreated(a), tenancyConstraints)
}

func (r *Tenancy) GetAccount(ctx context.Context, accountID id.AccountID) (*tenancy.Account, error) {
	return getOne(ctx, r.db, "accounts", accountColumns, cond("id = ?", toUUID(accountID)), tenancy.ErrAccountNotFound, accountFromRow)
}

func (r *Tenancy) ListAccounts(ctx context.Context, only id.AccountID, req paging.Request) (paging.Result[*tenancy.Account], error) {
	l := listing{table: "accounts", columns: accountColumns, sortBy: ports.AccountSchema.Spec}
	if !only.IsZero() {
		l.where = append(l.where, cond("id = ?", toUUID(only)))
	}
	return list(ctx, r.db, l, req, accountFromRow)
}

func (r *Tenancy) CreateUser(ctx context.Context, u *tenancy.User) error {
	return r.db.create(ctx, userToRow(u), tenancy.UserCreated(u), tenancyConstraints)
}

func (r *Tenancy) GetUser(ctx context.Context, userID id.UserID) (*tenancy.User, error) {
	return getOne(ctx, r.db, "users", userColumns, cond("id = ?", toUUID(userID)), tenancy.ErrUserNotFound, userFromRow)
}

func (r *Tenancy) ListUsers(ctx context.Context, f ports.UserFilter, req paging.Request) (paging.Result[*tenancy.User], error) {
	l := listing{table: "users", columns: userColumns, sortBy: ports.UserSchema.Spec}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if f.SuperAdmin {
		l.where = append(l.where, cond("super_admin"))
	}
	return list(ctx, r.db, l, req, userFromRow)
}

func (r *Tenancy) CreateAPIKey(ctx context.Context, k *tenancy.APIKey) error {
	return r.db.create(ctx, apiKeyToRow(k), tenancy.APIKeyCreated(k), tenancyConstraints)
}

func (r *Tenancy) GetAPIKey(ctx context.Context, keyID id.APIKeyID) (*tenancy.APIKey, error) {
	return getOne(ctx, r.db, "api_keys", apiKeyColumns, cond("id = ?", toUUID(keyID)), tenancy.ErrAPIKeyNotFound, apiKeyFromRow)
}

func (r *Tenancy) ListAPIKeys(ctx context.Context, f ports.APIKeyFilter, req paging.Request) (paging.Result[*tenancy.APIKey], error) {
	l := listing{table: "api_keys", columns: apiKeyColumns, sortBy: ports.APIKeySchema.Spec}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if !f.UserID.IsZero() {
		l.where = append(l.where, cond("user_id = ?", toUUID(f.UserID)))
	}
	return list(ctx, r.db, l, req, apiKeyFromRow)
}

// UpdateAPIKey is updateLocked's transaction with the key's user read in
// it too, for fn to decide on: a key never changes hands and a user never
// changes role, so the key's lock covers both.
func (r *Tenancy) UpdateAPIKey(ctx context.Context, keyID id.APIKeyID, fn func(*tenancy.APIKey, *tenancy.User) error) (*tenancy.APIKey, error) {
	var out *tenancy.APIKey
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		loaded := new(apiKeyRow)
		err := r.db.forUpdate(tx.NewSelect().Model(loaded).Where("id = ?", toUUID(keyID))).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return tenancy.ErrAPIKeyNotFound
		}
		if err != nil {
			return fmt.Errorf("load API key: %w", err)
		}
		owner := new(userRow)
		if err := tx.NewSelect().Model(owner).Where("id = ?", loaded.UserID).Scan(ctx); err != nil {
			return fmt.Errorf("load API key's user: %w", err)
		}
		k, err := apiKeyFromRow(loaded)
		if err != nil {
			return err
		}
		u, _ := userFromRow(owner)
		if err := fn(k, u); err != nil {
			return err
		}
		out = k
		previous, _ := apiKeyFromRow(loaded)
		return r.db.saveIfChanged(ctx, "API key", apiKeyToRow(previous), apiKeyToRow(k), []string{"status", "rate_limit", "updated_at"},
			func() event.Event { return tenancy.APIKeyChanged(previous, k) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// authRow is an API key joined with its user: authentication is one read.
type authRow struct {
	apiKeyRow
	User userRow `bun:"embed:u_"`
}

func (r *Tenancy) Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error) {
	var row authRow
	err := r.db.read.NewRaw(`SELECT k.id, k.account_id, k.user_id, k.name, k.key_prefix, k.key_hash, k.status,
		k.expires_at, k.rate_limit, k.created_at, k.updated_at,
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
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
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
		return r.db.record(ctx, tenancy.AccountCreated(a), tenancy.UserCreated(u), tenancy.APIKeyCreated(k))
	})
	return created, err
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

func (r *accountRow) fields() []any {
	return []any{uuidField(&r.ID), &r.Name, &r.Slug, &r.CreatedAt, &r.UpdatedAt}
}

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

func (r *userRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), &r.Email, &r.DisplayName, &r.SuperAdmin, &r.CreatedAt, &r.UpdatedAt}
}

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
	// RateLimit is the key's own limit; NULL: the default.
	RateLimit sql.NullString `bun:"rate_limit"`
	CreatedAt time.Time      `bun:"created_at"`
	UpdatedAt time.Time      `bun:"updated_at"`
}

const apiKeyColumns = "id, account_id, user_id, name, key_prefix, key_hash, status, expires_at, rate_limit, created_at, updated_at"

func (r *apiKeyRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), uuidField(&r.UserID), &r.Name, &r.KeyPrefix, &r.KeyHash, &r.Status, &r.ExpiresAt, &r.RateLimit, &r.CreatedAt, &r.UpdatedAt}
}

func apiKeyToRow(k *tenancy.APIKey) *apiKeyRow {
	s := k.Snapshot()
	return &apiKeyRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), UserID: toUUID(s.UserID), Name: s.Name,
		KeyPrefix: s.Prefix, KeyHash: s.Hash, Status: s.Status.String(),
		ExpiresAt: sql.NullTime{Time: s.ExpiresAt, Valid: !s.ExpiresAt.IsZero()},
		RateLimit: sql.NullString{String: s.RateLimit.String(), Valid: !s.RateLimit.IsDefault()},
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func apiKeyFromRow(r *apiKeyRow) (*tenancy.APIKey, error) {
	status, err := tenancy.ParseKeyStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("API key %s: stored status %q: %w", r.ID, r.Status, err)
	}
	var limit tenancy.RateLimit
	if r.RateLimit.Valid {
		if limit, err = tenancy.ParseRateLimit(r.RateLimit.String); err != nil {
			return nil, fmt.Errorf("API key %s: stored rate limit %q: %w", r.ID, r.RateLimit.String, err)
		}
	}
	return tenancy.RehydrateAPIKey(tenancy.APIKeySnapshot{
		ID: fromUUID[id.APIKey](r.ID), AccountID: fromUUID[id.Account](r.AccountID),
		UserID: fromUUID[id.User](r.UserID), Name: r.Name, Prefix: r.KeyPrefix, Hash: r.KeyHash,
		Status: status, ExpiresAt: r.ExpiresAt.Time, RateLimit: limit, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}), nil
}
