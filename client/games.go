package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of games (see package wire). Updates have a shape of their
// own, UpdateGameRequest: null and absent differ there.
type (
	Game              = wire.Game
	CreateGameRequest = wire.CreateGameRequest
)

func (c *Client) CreateGame(ctx context.Context, req CreateGameRequest) (Game, error) {
	var g Game
	_, err := c.call(ctx, http.MethodPost, "/v1/games", req, &g)
	return g, err
}

func (c *Client) GetGame(ctx context.Context, id string) (Game, error) {
	var g Game
	_, err := c.call(ctx, http.MethodGet, "/v1/games/"+url.PathEscape(id), nil, &g)
	return g, err
}

// ListGamesParams filter, sort and page a list of games; empty fields are
// left out.
type ListGamesParams struct {
	AccountID string
	Slug      string
	Sort      string
	Cursor    string
	Limit     int
}

func (p ListGamesParams) query() string {
	return query("account_id", p.AccountID, "slug", p.Slug, "sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

func (c *Client) ListGames(ctx context.Context, p ListGamesParams) (Page[Game], error) {
	var page Page[Game]
	_, err := c.call(ctx, http.MethodGet, "/v1/games"+p.query(), nil, &page)
	return page, err
}

// Games iterates over every game the params select, following the cursors.
func (c *Client) Games(ctx context.Context, p ListGamesParams) iter.Seq2[Game, error] {
	return walk(func(cursor string) (Page[Game], error) {
		p.Cursor = cursor
		return c.ListGames(ctx, p)
	}, p.Cursor)
}

// UpdateGameRequest changes a game: nil fields are left alone; ClearSteamAppID
// and ClearSteamWebAPIKey send null, which removes the setting.
type UpdateGameRequest struct {
	Name                *string
	SteamAppID          *string
	ClearSteamAppID     bool
	SteamWebAPIKey      *string
	ClearSteamWebAPIKey bool
	DeviceSignIn        *bool
	Deleted             *bool
}

// MarshalJSON writes null for a cleared setting and leaves out what is unset.
func (r UpdateGameRequest) MarshalJSON() ([]byte, error) {
	body := map[string]any{}
	set := func(name string, v *string, clear bool) {
		switch {
		case clear:
			body[name] = nil
		case v != nil:
			body[name] = *v
		}
	}
	set("name", r.Name, false)
	set("steam_app_id", r.SteamAppID, r.ClearSteamAppID)
	set("steam_web_api_key", r.SteamWebAPIKey, r.ClearSteamWebAPIKey)
	if r.DeviceSignIn != nil {
		body["device_sign_in"] = *r.DeviceSignIn
	}
	if r.Deleted != nil {
		body["deleted"] = *r.Deleted
	}
	return json.Marshal(body)
}

func (c *Client) UpdateGame(ctx context.Context, id string, req UpdateGameRequest) (Game, error) {
	var g Game
	_, err := c.call(ctx, http.MethodPatch, "/v1/games/"+url.PathEscape(id), req, &g)
	return g, err
}

// DeleteGame soft-deletes a game. Its identities stay readable; none can be
// created in it any more.
func (c *Client) DeleteGame(ctx context.Context, id string) (Game, error) {
	deleted := true
	return c.UpdateGame(ctx, id, UpdateGameRequest{Deleted: &deleted})
}
