package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// Identity is a player's identity in one game of one account.
type Identity struct {
	ID          string    `json:"id" pattern:"^ide_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID   string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID      string    `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Kind        string    `json:"kind" enum:"DEVICE,STEAM,CUSTOM"`
	ExternalKey string    `json:"external_key" minLength:"6" maxLength:"128"`
	DisplayName *string   `json:"display_name" minLength:"1" maxLength:"64"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// ETag is the entity tag the service answered with this identity, for
	// UpdateIdentityRequest.IfMatch. Only the calls that answer one identity
	// (CreateIdentity, GetIdentity, UpdateIdentity) set it: it is a header,
	// not a field of the body.
	ETag string `json:"-"`
}

// Identity kinds.
const (
	KindDevice = "DEVICE"
	KindSteam  = "STEAM"
	KindCustom = "CUSTOM"
)

// CreateIdentityRequest is the body of POST /v1/identities. AccountID may
// be left out by a regular key (its own account); a superadmin must give it.
type CreateIdentityRequest struct {
	AccountID   string  `json:"account_id,omitempty" description:"Regular keys: default their own account. Superadmins: required."`
	GameID      string  `json:"game_id" description:"A live game of the account."`
	Kind        string  `json:"kind" enum:"DEVICE,STEAM,CUSTOM"`
	ExternalKey string  `json:"external_key" description:"DEVICE: 10–128 visible ASCII characters; CUSTOM: 6–128; STEAM: a SteamID64 (17 digits starting 7656119)."`
	DisplayName *string `json:"display_name,omitempty" description:"Trimmed, NFC-normalised, 1–64 characters, no control characters."`
}

// CreateIdentity gets or creates an identity and reports whether it created
// it (201) or found it (200).
func (c *Client) CreateIdentity(ctx context.Context, req CreateIdentityRequest) (Identity, bool, error) {
	i, status, err := c.identity(ctx, http.MethodPost, "/v1/identities", req, "")
	return i, status == http.StatusCreated, err
}

// identity sends a request answered by one identity, with If-Match when
// ifMatch is not empty, and keeps the answer's entity tag.
func (c *Client) identity(ctx context.Context, method, path string, body any, ifMatch string) (Identity, int, error) {
	if ifMatch != "" {
		c = c.WithAPIKey(c.key) // a copy, with headers of its own
		c.header.Set("If-Match", ifMatch)
	}
	resp, err := c.Do(ctx, method, path, body)
	if err != nil {
		return Identity{}, 0, err
	}
	var i Identity
	if err := decode(resp, method, path, &i); err != nil {
		return Identity{}, resp.Status, err
	}
	i.ETag = resp.Header.Get("ETag")
	return i, resp.Status, nil
}

// ListIdentitiesParams filter, sort and page a list; empty fields are left
// out. Limit 0 is the service's default (20).
type ListIdentitiesParams struct {
	AccountID   string
	GameID      string
	Kind        string
	ExternalKey string
	Sort        string
	Cursor      string
	Limit       int
}

func (p ListIdentitiesParams) query() string {
	return query("account_id", p.AccountID, "game_id", p.GameID, "kind", p.Kind, "external_key", p.ExternalKey,
		"sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
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

// GetIdentity returns one identity.
func (c *Client) GetIdentity(ctx context.Context, id string) (Identity, error) {
	i, _, err := c.identity(ctx, http.MethodGet, "/v1/identities/"+url.PathEscape(id), nil, "")
	return i, err
}

// UpdateIdentityRequest is the body of PATCH /v1/identities/{id}: a new
// display name, or Deleted true to soft-delete (which wins).
type UpdateIdentityRequest struct {
	DisplayName *string `json:"display_name,omitempty" description:"A new display name; null or absent leaves it."`
	Deleted     *bool   `json:"deleted,omitempty" description:"true soft-deletes the identity (and wins over a new name)."`
	// IfMatch, when not empty, is sent as If-Match: the ETag of the
	// identity as the caller last saw it (or "*"). Should it have changed
	// since, the service writes nothing and answers 412 (StatusOf).
	IfMatch string `json:"-"`
}

func (c *Client) UpdateIdentity(ctx context.Context, id string, req UpdateIdentityRequest) (Identity, error) {
	i, _, err := c.identity(ctx, http.MethodPatch, "/v1/identities/"+url.PathEscape(id), req, req.IfMatch)
	return i, err
}

// DeleteIdentity soft-deletes an identity and returns it as it was deleted.
func (c *Client) DeleteIdentity(ctx context.Context, id string) (Identity, error) {
	deleted := true
	return c.UpdateIdentity(ctx, id, UpdateIdentityRequest{Deleted: &deleted})
}
