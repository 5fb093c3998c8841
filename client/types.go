package client

import "time"

// Identity is a player's identity in one game of one account.
type Identity struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	GameID      string    `json:"game_id"`
	Kind        string    `json:"kind"`
	ExternalKey string    `json:"external_key"`
	DisplayName *string   `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Identity kinds.
const (
	KindDevice = "DEVICE"
	KindSteam  = "STEAM"
	KindCustom = "CUSTOM"
)

type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type User struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	SuperAdmin  bool      `json:"super_admin"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type APIKey struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	KeyPrefix string     `json:"key_prefix"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CreatedAPIKey is a new key with its plaintext, which is never shown again.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// Page is one page of a list.
type Page[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

type Pagination struct {
	NextCursor *string `json:"next_cursor"`
	PrevCursor *string `json:"prev_cursor"`
	HasNext    bool    `json:"has_next"`
	HasPrev    bool    `json:"has_prev"`
	Count      int     `json:"count"`
}

// Health is the answer of GET /v1/health.
type Health struct {
	Service  string `json:"service"`
	Status   string `json:"status"`
	Database string `json:"database"`
}
