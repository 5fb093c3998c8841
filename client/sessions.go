package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of sign-in, the client endpoints and the admin view of
// sessions (see package wire). SignInResponse, RefreshResponse and Nonce
// print without their secrets.
type (
	SignInRequest                = wire.SignInRequest
	SignInResponse               = wire.SignInResponse
	RefreshRequest               = wire.RefreshRequest
	RefreshResponse              = wire.RefreshResponse
	Nonce                        = wire.Nonce
	UpdateMeRequest              = wire.UpdateMeRequest
	IdentitySession              = wire.IdentitySession
	CreateIdentitySessionRequest = wire.CreateIdentitySessionRequest
)

// NonceHeader carries a nonce to the endpoint that consumes it.
const NonceHeader = wire.NonceHeader

// CreateIdentitySession signs an identity in for a studio's backend, which
// hands the answer to its game client (see Client.Player).
func (c *Client) CreateIdentitySession(ctx context.Context, req CreateIdentitySessionRequest) (SignInResponse, error) {
	var s SignInResponse
	_, err := c.call(ctx, http.MethodPost, "/v1/identity-sessions", req, &s)
	return s, err
}

func (c *Client) GetIdentitySession(ctx context.Context, id string) (IdentitySession, error) {
	var s IdentitySession
	_, err := c.call(ctx, http.MethodGet, "/v1/identity-sessions/"+url.PathEscape(id), nil, &s)
	return s, err
}

// ListIdentitySessionsParams filter, sort and page a list of sessions,
// revoked ones included; empty fields are left out.
type ListIdentitySessionsParams struct {
	AccountID  string
	IdentityID string
	Sort       string
	Cursor     string
	Limit      int
}

func (p ListIdentitySessionsParams) query() string {
	return query("account_id", p.AccountID, "identity_id", p.IdentityID, "sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

func (c *Client) ListIdentitySessions(ctx context.Context, p ListIdentitySessionsParams) (Page[IdentitySession], error) {
	var page Page[IdentitySession]
	_, err := c.call(ctx, http.MethodGet, "/v1/identity-sessions"+p.query(), nil, &page)
	return page, err
}

// IdentitySessions iterates over every session the params select,
// following the cursors.
func (c *Client) IdentitySessions(ctx context.Context, p ListIdentitySessionsParams) iter.Seq2[IdentitySession, error] {
	return walk(func(cursor string) (Page[IdentitySession], error) {
		p.Cursor = cursor
		return c.ListIdentitySessions(ctx, p)
	}, p.Cursor)
}

// RevokeIdentitySession ends a session: its tokens stop working at once.
// Revoking it again answers it unchanged.
func (c *Client) RevokeIdentitySession(ctx context.Context, id string) (IdentitySession, error) {
	var s IdentitySession
	_, err := c.call(ctx, http.MethodDelete, "/v1/identity-sessions/"+url.PathEscape(id), nil, &s)
	return s, err
}
