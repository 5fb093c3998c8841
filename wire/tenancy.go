package wire

import "time"

// Account is a tenant: a studio.
type Account struct {
	ID        string    `json:"id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// User is a person or a service of an account; API keys belong to one.
type User struct {
	ID          string    `json:"id" pattern:"^usr_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID   string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	SuperAdmin  bool      `json:"super_admin"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// APIKey is a key as listed: never its plaintext.
type APIKey struct {
	ID        string     `json:"id" pattern:"^key_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID string     `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	UserID    string     `json:"user_id" pattern:"^usr_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Name      string     `json:"name"`
	KeyPrefix string     `json:"key_prefix" description:"The key's first 14 characters, not secret."`
	Status    string     `json:"status" enum:"active,revoked"`
	ExpiresAt *time.Time `json:"expires_at"`
	RateLimit *string    `json:"rate_limit" pattern:"^([1-9][0-9]*/[smh]|off)$" description:"The key's own rate limit, set by superadmins: N at once, then N a second, minute or hour, or off; null: the service's default (LEADR_RATE_LIMIT_API_KEY)."`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CreatedAPIKey is a new key with its plaintext, which is never shown again.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key" pattern:"^ldr_[A-Za-z0-9_-]{43}$"`
}

// CreateAccountRequest is the body of POST /v1/accounts (superadmins only).
type CreateAccountRequest struct {
	Name string `json:"name"`
	Slug string `json:"slug" description:"1–50 lower-case letters, digits and inner hyphens."`
}

// CreateUserRequest is the body of POST /v1/users.
type CreateUserRequest struct {
	AccountID   string `json:"account_id,omitempty"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	SuperAdmin  bool   `json:"super_admin,omitempty"`
}

// CreateAPIKeyRequest is the body of POST /v1/api-keys.
type CreateAPIKeyRequest struct {
	AccountID string  `json:"account_id,omitempty"`
	UserID    string  `json:"user_id"`
	Name      string  `json:"name"`
	ExpiresAt *string `json:"expires_at,omitempty"` // RFC 3339
	// RateLimit is the key's own limit ("N/s", "N/m", "N/h" or "off");
	// superadmins only. Absent: the service's default.
	RateLimit *string `json:"rate_limit,omitempty" description:"The key's own rate limit (superadmins only): \"N/s\", \"N/m\", \"N/h\" (N from 1 to 1000000: N at once, then N a second, minute or hour) or \"off\"; absent or null: the service's default."`
}
