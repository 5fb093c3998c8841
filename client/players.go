package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of players (see package wire). A player's is PlayerResponse,
// as the contract names it: Player is a signed-in game client. Ban updates
// have a shape of their own, UpdateBanRequest: null and absent differ there.
type (
	PlayerResponse      = wire.Player
	PlayerTombstone     = wire.PlayerTombstone
	Ban                 = wire.Ban
	PlayerExport        = wire.PlayerExport
	ExportedIdentity    = wire.ExportedIdentity
	PlayerMerge         = wire.PlayerMerge
	IdentityTombstone   = wire.IdentityTombstone
	LinkIdentityRequest = wire.LinkIdentityRequest
	ClientLinkRequest   = wire.ClientLinkRequest
	CreateBanRequest    = wire.CreateBanRequest
	// PlayerBanned is the body of the 403 refusing a banned player (in
	// Error.Body): when the ban ends, nil when it lasts until lifted.
	PlayerBanned = wire.PlayerBanned
	// IdentityOfOtherPlayer is the body of the 409 refusing to link an
	// identity of another player without merge (in Error.Body).
	IdentityOfOtherPlayer = wire.IdentityOfOtherPlayer
)

// PurgedError is GetPlayer's answer for a purged player: the service
// answers its tombstone, which is all that is left of it.
type PurgedError struct {
	Tombstone PlayerTombstone
}

func (e *PurgedError) Error() string {
	return fmt.Sprintf("leadr: player %s was purged at %s", e.Tombstone.ID, e.Tombstone.PurgedAt.Format(time.RFC3339))
}

// GetPlayer returns a player, live or deleted. A purged player is a
// *PurgedError holding its tombstone.
func (c *Client) GetPlayer(ctx context.Context, id string) (PlayerResponse, error) {
	var raw json.RawMessage
	if _, err := c.call(ctx, http.MethodGet, "/v1/players/"+url.PathEscape(id), nil, &raw); err != nil {
		return PlayerResponse{}, err
	}
	return playerOrPurged(raw)
}

// playerOrPurged decodes a player, or the tombstone that stands for a
// purged one (it alone has purged_at).
func playerOrPurged(raw json.RawMessage) (PlayerResponse, error) {
	var probe struct {
		PurgedAt *time.Time `json:"purged_at"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return PlayerResponse{}, fmt.Errorf("leadr: decode a player: %w", err)
	}
	if probe.PurgedAt != nil {
		var t PlayerTombstone
		if err := json.Unmarshal(raw, &t); err != nil {
			return PlayerResponse{}, fmt.Errorf("leadr: decode a tombstone: %w", err)
		}
		return PlayerResponse{}, &PurgedError{Tombstone: t}
	}
	var p PlayerResponse
	if err := json.Unmarshal(raw, &p); err != nil {
		return PlayerResponse{}, fmt.Errorf("leadr: decode a player: %w", err)
	}
	return p, nil
}

// ListPlayersParams filter, sort and page a list of players; empty fields
// are left out. Kind and ExternalKey go together: the player holding that
// identity. Banned nil lists players banned or not.
type ListPlayersParams struct {
	AccountID   string
	GameID      string
	Kind        string
	ExternalKey string
	Banned      *bool
	// Deleted lists the deleted players not purged yet instead of the live
	// ones.
	Deleted bool
	Sort    string
	Cursor  string
	Limit   int
}

func (p ListPlayersParams) query() string {
	var banned, deleted string
	if p.Banned != nil {
		banned = strconv.FormatBool(*p.Banned)
	}
	if p.Deleted {
		deleted = "true"
	}
	return query("account_id", p.AccountID, "game_id", p.GameID, "kind", p.Kind, "external_key", p.ExternalKey,
		"banned", banned, "deleted", deleted, "sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

func (c *Client) ListPlayers(ctx context.Context, p ListPlayersParams) (Page[PlayerResponse], error) {
	var page Page[PlayerResponse]
	_, err := c.call(ctx, http.MethodGet, "/v1/players"+p.query(), nil, &page)
	return page, err
}

// Players iterates over every player the params select, following the
// cursors.
func (c *Client) Players(ctx context.Context, p ListPlayersParams) iter.Seq2[PlayerResponse, error] {
	return walk(func(cursor string) (Page[PlayerResponse], error) {
		p.Cursor = cursor
		return c.ListPlayers(ctx, p)
	}, p.Cursor)
}

// LinkIdentity makes an identity one of the player's and returns the
// player. An identity of another player is a 409 (its body an
// IdentityOfOtherPlayer) unless req.Merge, which moves every identity of
// that player into this one.
func (c *Client) LinkIdentity(ctx context.Context, playerID string, req LinkIdentityRequest) (PlayerResponse, error) {
	var p PlayerResponse
	_, err := c.call(ctx, http.MethodPost, "/v1/players/"+url.PathEscape(playerID)+"/identities", req, &p)
	return p, err
}

// UnlinkIdentity takes an identity out of the player into a new player of
// its own, and returns the identity.
func (c *Client) UnlinkIdentity(ctx context.Context, playerID, identityID string) (Identity, error) {
	i, _, err := c.identity(ctx, http.MethodDelete, "/v1/players/"+url.PathEscape(playerID)+"/identities/"+url.PathEscape(identityID), nil, "")
	return i, err
}

// BanPlayer bans a player until req.ExpiresAt (RFC 3339), or until lifted.
func (c *Client) BanPlayer(ctx context.Context, playerID string, req CreateBanRequest) (Ban, error) {
	var b Ban
	_, err := c.call(ctx, http.MethodPost, "/v1/players/"+url.PathEscape(playerID)+"/bans", req, &b)
	return b, err
}

// UpdateBanRequest changes the ban in force: a new expiry, none
// (NoExpiry, which sends null), and/or lifted.
type UpdateBanRequest struct {
	ExpiresAt *time.Time
	NoExpiry  bool
	Lift      bool
}

// MarshalJSON writes null for NoExpiry and leaves out what is unset.
func (r UpdateBanRequest) MarshalJSON() ([]byte, error) {
	body := map[string]any{}
	switch {
	case r.NoExpiry:
		body["expires_at"] = nil
	case r.ExpiresAt != nil:
		body["expires_at"] = r.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	if r.Lift {
		body["lifted"] = true
	}
	return json.Marshal(body)
}

func (c *Client) UpdateBan(ctx context.Context, playerID, banID string, req UpdateBanRequest) (Ban, error) {
	var b Ban
	_, err := c.call(ctx, http.MethodPatch, "/v1/players/"+url.PathEscape(playerID)+"/bans/"+url.PathEscape(banID), req, &b)
	return b, err
}

// LiftBan lifts a ban; lifting one that has ended changes nothing.
func (c *Client) LiftBan(ctx context.Context, playerID, banID string) (Ban, error) {
	return c.UpdateBan(ctx, playerID, banID, UpdateBanRequest{Lift: true})
}

// ListBans returns the player's ban history, newest first.
func (c *Client) ListBans(ctx context.Context, playerID string) ([]Ban, error) {
	var list wire.BanList
	_, err := c.call(ctx, http.MethodGet, "/v1/players/"+url.PathEscape(playerID)+"/bans", nil, &list)
	return list.Data, err
}

// DeletePlayer deletes a player: it can be restored until its PurgeAfter,
// then it is erased for good.
func (c *Client) DeletePlayer(ctx context.Context, id string) (PlayerResponse, error) {
	var p PlayerResponse
	_, err := c.call(ctx, http.MethodDelete, "/v1/players/"+url.PathEscape(id), nil, &p)
	return p, err
}

// ErasePlayer purges a player at once (DELETE with erase=true): its
// identities, sessions and the personal fields of its events are erased
// for good, and its tombstone is returned.
func (c *Client) ErasePlayer(ctx context.Context, id string) (PlayerTombstone, error) {
	var t PlayerTombstone
	_, err := c.call(ctx, http.MethodDelete, "/v1/players/"+url.PathEscape(id)+"?erase=true", nil, &t)
	return t, err
}

// RestorePlayer undoes a deletion before its PurgeAfter.
func (c *Client) RestorePlayer(ctx context.Context, id string) (PlayerResponse, error) {
	var p PlayerResponse
	_, err := c.call(ctx, http.MethodPost, "/v1/players/"+url.PathEscape(id)+"/restore", nil, &p)
	return p, err
}

// ExportPlayer returns everything held about a player, secrets aside: what
// a data-access request needs.
func (c *Client) ExportPlayer(ctx context.Context, id string) (PlayerExport, error) {
	var x PlayerExport
	_, err := c.call(ctx, http.MethodGet, "/v1/players/"+url.PathEscape(id)+"/export", nil, &x)
	return x, err
}

// RestoreIdentity undoes an identity's soft delete within the grace
// period.
func (c *Client) RestoreIdentity(ctx context.Context, id string) (Identity, error) {
	i, _, err := c.identity(ctx, http.MethodPost, "/v1/identities/"+url.PathEscape(id)+"/restore", nil, "")
	return i, err
}
