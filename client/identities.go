package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/leadr-oss/identity/wire"
)

// Identity is a player's identity in one game of one account (the body,
// wire.Identity), with the entity tag the service answered it with.
type Identity struct {
	wire.Identity
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

// CreateIdentityRequest is the body of POST /v1/identities (see package
// wire).
type CreateIdentityRequest = wire.CreateIdentityRequest

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

// UpdateIdentityRequest changes an identity (PATCH /v1/identities/{id}): a
// new display name, or Deleted true to soft-delete (which wins). It is
// sent as wire.UpdateIdentityRequest, IfMatch in a header; its JSON is that
// body's, for callers that send it themselves.
type UpdateIdentityRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
	Deleted     *bool   `json:"deleted,omitempty"`
	// IfMatch, when not empty, is sent as If-Match: the ETag of the
	// identity as the caller last saw it (or "*"). Should it have changed
	// since, the service writes nothing and answers 412 (StatusOf).
	IfMatch string `json:"-"`
}

func (c *Client) UpdateIdentity(ctx context.Context, id string, req UpdateIdentityRequest) (Identity, error) {
	body := wire.UpdateIdentityRequest{DisplayName: req.DisplayName, Deleted: req.Deleted}
	i, _, err := c.identity(ctx, http.MethodPatch, "/v1/identities/"+url.PathEscape(id), body, req.IfMatch)
	return i, err
}

// DeleteIdentity soft-deletes an identity and returns it as it was deleted.
func (c *Client) DeleteIdentity(ctx context.Context, id string) (Identity, error) {
	deleted := true
	return c.UpdateIdentity(ctx, id, UpdateIdentityRequest{Deleted: &deleted})
}
