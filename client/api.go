package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// CreateIdentityRequest is the body of POST /v1/identities. AccountID may
// be left out by a regular key (its own account); a superadmin must give it.
type CreateIdentityRequest struct {
	AccountID   string  `json:"account_id,omitempty"`
	GameID      string  `json:"game_id"`
	Kind        string  `json:"kind"`
	ExternalKey string  `json:"external_key"`
	DisplayName *string `json:"display_name,omitempty"`
}

// CreateIdentity gets or creates an identity and reports whether it created
// it (201) or found it (200).
func (c *Client) CreateIdentity(ctx context.Context, req CreateIdentityRequest) (Identity, bool, error) {
	var i Identity
	status, err := c.call(ctx, http.MethodPost, "/v1/identities", req, &i)
	return i, status == http.StatusCreated, err
}

// ListIdentitiesParams filter, sort and page a list; empty fields are left
// out. Limit 0 is the service's default (20).
type ListIdentitiesParams struct {
	AccountID string
	GameID    string
	Kind      string
	Sort      string
	Cursor    string
	Limit     int
}

func (p ListIdentitiesParams) query() string {
	return query("account_id", p.AccountID, "game_id", p.GameID, "kind", p.Kind,
		"sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

func limit(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// ListIdentities returns one page.
func (c *Client) ListIdentities(ctx context.Context, p ListIdentitiesParams) (Page[Identity], error) {
	var page Page[Identity]
	_, err := c.call(ctx, http.MethodGet, "/v1/identities"+p.query(), nil, &page)
	return page, err
}

// Identities iterates over every identity the params select, following the
// cursors page by page. It stops at the first error, which it yields.
func (c *Client) Identities(ctx context.Context, p ListIdentitiesParams) iter.Seq2[Identity, error] {
	return walk(func(cursor string) (Page[Identity], error) {
		p.Cursor = cursor
		return c.ListIdentities(ctx, p)
	}, p.Cursor)
}

// walk yields every item of the pages from the one at cursor onwards.
func walk[T any](list func(cursor string) (Page[T], error), cursor string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			page, err := list(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !page.Pagination.HasNext || page.Pagination.NextCursor == nil {
				return
			}
			cursor = *page.Pagination.NextCursor
		}
	}
}

// GetIdentity returns one identity.
func (c *Client) GetIdentity(ctx context.Context, id string) (Identity, error) {
	var i Identity
	_, err := c.call(ctx, http.MethodGet, "/v1/identities/"+url.PathEscape(id), nil, &i)
	return i, err
}

// UpdateIdentityRequest is the body of PATCH /v1/identities/{id}: a new
// display name, or Deleted true to soft-delete (which wins).
type UpdateIdentityRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
	Deleted     *bool   `json:"deleted,omitempty"`
}

func (c *Client) UpdateIdentity(ctx context.Context, id string, req UpdateIdentityRequest) (Identity, error) {
	var i Identity
	_, err := c.call(ctx, http.MethodPatch, "/v1/identities/"+url.PathEscape(id), req, &i)
	return i, err
}

// DeleteIdentity soft-deletes an identity and returns it as it was deleted.
func (c *Client) DeleteIdentity(ctx context.Context, id string) (Identity, error) {
	deleted := true
	return c.UpdateIdentity(ctx, id, UpdateIdentityRequest{Deleted: &deleted})
}

// CreateAccountRequest is the body of POST /v1/accounts (superadmins only).
type CreateAccountRequest struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

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

// CreateUserRequest is the body of POST /v1/users.
type CreateUserRequest struct {
	AccountID   string `json:"account_id,omitempty"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	SuperAdmin  bool   `json:"super_admin,omitempty"`
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

// CreateAPIKeyRequest is the body of POST /v1/api-keys.
type CreateAPIKeyRequest struct {
	AccountID string  `json:"account_id,omitempty"`
	UserID    string  `json:"user_id"`
	Name      string  `json:"name"`
	ExpiresAt *string `json:"expires_at,omitempty"` // RFC 3339
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

// RevokeAPIKey revokes a key for good; its next use fails with 401.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (APIKey, error) {
	var k APIKey
	_, err := c.call(ctx, http.MethodPatch, "/v1/api-keys/"+url.PathEscape(id), map[string]string{"status": "revoked"}, &k)
	return k, err
}

// Health asks whether the service and its database answer. A 503 is an
// *Error; the body is still decoded into Health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	resp, err := c.Do(ctx, http.MethodGet, "/v1/health", nil)
	if err != nil {
		return h, err
	}
	_ = json.Unmarshal(resp.Body, &h)
	if resp.Status != http.StatusOK {
		return h, asError(resp)
	}
	return h, nil
}
