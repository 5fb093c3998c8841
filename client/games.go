package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// Game is a game of an account; its players' identities belong to it. The
// Steam Web API key is write-only: SteamConfigured says whether it is set.
type Game struct {
	ID              string    `json:"id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID       string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Name            string    `json:"name" minLength:"1" maxLength:"100"`
	Slug            string    `json:"slug" pattern:"^[a-z0-9]+(-[a-z0-9]+)*$" minLength:"3" maxLength:"64"`
	SteamAppID      *string   `json:"steam_app_id" pattern:"^[0-9]{1,10}$"`
	SteamConfigured bool      `json:"steam_configured" description:"Both the Steam app ID and the Steam Web API key are set."`
	DeviceSignIn    bool      `json:"device_sign_in" description:"Clients may sign in with a device ID (POST /v1/client/sessions, kind DEVICE); when false they get 400."`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// CreateGameRequest is the body of POST /v1/games. AccountID may be left
// out by a regular key (its own account); a superadmin must give it. Without
// Slug, one is derived from Name.
type CreateGameRequest struct {
	AccountID      string  `json:"account_id,omitempty" description:"Regular keys: default their own account. Superadmins: required."`
	Name           string  `json:"name" description:"Trimmed, NFC-normalised, 1–100 characters, no control characters."`
	Slug           string  `json:"slug,omitempty" description:"3–64 of a-z, 0-9 and single inner hyphens; unique among the account's games, deleted ones included (other accounts' slugs neither show nor stand in the way); never changes. Derived from the name when absent."`
	SteamAppID     *string `json:"steam_app_id,omitempty" description:"1–10 decimal digits."`
	SteamWebAPIKey *string `json:"steam_web_api_key,omitempty" description:"32 hexadecimal characters. Write-only: stored encrypted, never returned."`
	DeviceSignIn   *bool   `json:"device_sign_in,omitempty" description:"Whether clients may sign in with a device ID; default true."`
}

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
