package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of accounts, users and API keys (see package wire).
type (
	Account              = wire.Account
	User                 = wire.User
	APIKey               = wire.APIKey
	CreatedAPIKey        = wire.CreatedAPIKey
	CreateAccountRequest = wire.CreateAccountRequest
	CreateUserRequest    = wire.CreateUserRequest
	CreateAPIKeyRequest  = wire.CreateAPIKeyRequest
)

func (c *Client) CreateAccount(ctx context.Context, req CreateAccountRequest) (Account, error) {
	var a Account
	_, err := c.call(ctx, http.MethodPost, "/v1/accounts", req, &a)
	return a, err
}

func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	_, err := c.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(id), nil, &a)
	return a, err
}

// ListParams page the lists of accounts, users and API keys; AccountID and
// UserID filter where the list has them.
type ListParams struct {
	AccountID string
	UserID    string
	Sort      string
	Cursor    string
	Limit     int
}

func (p ListParams) query() string {
	return query("account_id", p.AccountID, "user_id", p.UserID, "sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

func (c *Client) ListAccounts(ctx context.Context, p ListParams) (Page[Account], error) {
	var page Page[Account]
	_, err := c.call(ctx, http.MethodGet, "/v1/accounts"+p.query(), nil, &page)
	return page, err
}

// Accounts iterates over every account the key may see.
func (c *Client) Accounts(ctx context.Context, p ListParams) iter.Seq2[Account, error] {
	return walk(func(cursor string) (Page[Account], error) {
		p.Cursor = cursor
		return c.ListAccounts(ctx, p)
	}, p.Cursor)
}

func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (User, error) {
	var u User
	_, err := c.call(ctx, http.MethodPost, "/v1/users", req, &u)
	return u, err
}

func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	_, err := c.call(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(id), nil, &u)
	return u, err
}

func (c *Client) ListUsers(ctx context.Context, p ListParams) (Page[User], error) {
	var page Page[User]
	_, err := c.call(ctx, http.MethodGet, "/v1/users"+p.query(), nil, &page)
	return page, err
}

// Users iterates over every user the params select.
func (c *Client) Users(ctx context.Context, p ListParams) iter.Seq2[User, error] {
	return walk(func(cursor string) (Page[User], error) {
		p.Cursor = cursor
		return c.ListUsers(ctx, p)
	}, p.Cursor)
}

func (c *Client) CreateAPIKey(ctx context.Context, req CreateAPIKeyRequest) (CreatedAPIKey, error) {
	var k CreatedAPIKey
	_, err := c.call(ctx, http.MethodPost, "/v1/api-keys", req, &k)
	return k, err
}

func (c *Client) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	var k APIKey
	_, err := c.call(ctx, http.MethodGet, "/v1/api-keys/"+url.PathEscape(id), nil, &k)
	return k, err
}

func (c *Client) ListAPIKeys(ctx context.Context, p ListParams) (Page[APIKey], error) {
	var page Page[APIKey]
	_, err := c.call(ctx, http.MethodGet, "/v1/api-keys"+p.query(), nil, &page)
	return page, err
}

// APIKeys iterates over every key the params select.
func (c *Client) APIKeys(ctx context.Context, p ListParams) iter.Seq2[APIKey, error] {
	return walk(func(cursor string) (Page[APIKey], error) {
		p.Cursor = cursor
		return c.ListAPIKeys(ctx, p)
	}, p.Cursor)
}

// UpdateAPIKeyRequest is what PATCH /v1/api-keys/{key_id} changes; what
// is left zero stays as it is.
type UpdateAPIKeyRequest struct {
	// Status "revoked" revokes the key for good.
	Status string
	// RateLimit is the key's own limit: "N/s", "N/m", "N/h" or "off"
	// (superadmins only).
	RateLimit string
	// DefaultRateLimit gives the key the service's default limit back
	// (rate_limit: null; superadmins only).
	DefaultRateLimit bool
}

func (c *Client) UpdateAPIKey(ctx context.Context, id string, req UpdateAPIKeyRequest) (APIKey, error) {
	body := map[string]any{}
	if req.Status != "" {
		body["status"] = req.Status
	}
	switch {
	case req.DefaultRateLimit:
		body["rate_limit"] = nil
	case req.RateLimit != "":
		body["rate_limit"] = req.RateLimit
	}
	var k APIKey
	_, err := c.call(ctx, http.MethodPatch, "/v1/api-keys/"+url.PathEscape(id), body, &k)
	return k, err
}

// RevokeAPIKey revokes a key for good; its next use fails with 401.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (APIKey, error) {
	return c.UpdateAPIKey(ctx, id, UpdateAPIKeyRequest{Status: "revoked"})
}
