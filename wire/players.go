package wire

import "time"

// Player is one person in one game: the identities it signs in with, the
// ban in force, and, once deleted, when it is erased for good.
type Player struct {
	ID         string     `json:"id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID  string     `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID     string     `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Identities []Identity `json:"identities" description:"Its live identities, oldest first; once deleted, those deleted with it, which a restore brings back."`
	Ban        *Ban       `json:"ban" description:"The ban in force (not lifted, not expired); null when none."`
	DeletedAt  *time.Time `json:"deleted_at" description:"Set while the player is deleted; null when live."`
	PurgeAfter *time.Time `json:"purge_after" description:"When a deleted player is erased for good (deleted_at + LEADR_DELETION_GRACE); it can be restored until then. Null when live."`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// PlayerTombstone is what is left of a purged player: nothing personal,
// so that other services can still show that the player was deleted.
type PlayerTombstone struct {
	ID        string    `json:"id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID    string    `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	PurgedAt  time.Time `json:"purged_at" description:"When its identities, sessions and the personal fields of its events were erased."`
}

// IdentityTombstone is what identity.purged says of the identity it
// erased: nothing personal.
type IdentityTombstone struct {
	ID        string    `json:"id" pattern:"^ide_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID    string    `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	PlayerID  string    `json:"player_id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	PurgedAt  time.Time `json:"purged_at"`
}

// Ban keeps a player from signing in until it is lifted or expires.
type Ban struct {
	ID        string     `json:"id" pattern:"^ban_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	PlayerID  string     `json:"player_id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Reason    string     `json:"reason" minLength:"1" maxLength:"500"`
	ExpiresAt *time.Time `json:"expires_at" description:"When the ban ends by itself; null: when it is lifted."`
	LiftedAt  *time.Time `json:"lifted_at" description:"When it was lifted; null while it is not."`
	Actor     EventActor `json:"actor" description:"Who banned the player, as events name their actor."`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// BanList is a player's ban history, newest first.
type BanList struct {
	Data []Ban `json:"data" maxItems:"1000"`
}

// LinkIdentityRequest is the body of POST /v1/players/{id}/identities.
type LinkIdentityRequest struct {
	IdentityID string `json:"identity_id" description:"A live identity of the player's game. When it belongs to another player: 409, unless merge is true."`
	Merge      bool   `json:"merge,omitempty" description:"true moves every identity of the identity's player into this one, and closes that player (player.merged). Default false."`
}

// ClientLinkRequest is the body of POST /v1/client/me/identities: a
// signed-in player proving another credential.
type ClientLinkRequest struct {
	Kind        string `json:"kind" enum:"DEVICE,STEAM,CUSTOM" description:"DEVICE or STEAM. CUSTOM identities are refused (422): the studio's backend links them (POST /v1/players/{player_id}/identities)."`
	ExternalKey string `json:"external_key,omitempty" description:"DEVICE: the device ID, 10–128 visible ASCII characters. A credential: never echoed. Ignored for STEAM."`
	SteamTicket string `json:"steam_ticket,omitempty" description:"STEAM: a session ticket, 2–4096 hexadecimal characters, verified with Steam's Web API as at sign-in. Never echoed."`
	Merge       bool   `json:"merge,omitempty" description:"true: when the credential's identity belongs to another player, every identity of that player moves into the caller's, and that player is closed (player.merged). Default false: 409."`
}

// CreateBanRequest is the body of POST /v1/players/{id}/bans.
type CreateBanRequest struct {
	Reason    string  `json:"reason" description:"Why: trimmed, 1–500 characters."`
	ExpiresAt *string `json:"expires_at,omitempty" description:"RFC 3339, in the future: when the ban ends by itself. Null or absent: when it is lifted."`
}

// UpdateBanRequest is the body of PATCH /v1/players/{id}/bans/{ban_id}:
// a new expiry, or lifted.
type UpdateBanRequest struct {
	ExpiresAt *string `json:"expires_at,omitempty" description:"RFC 3339, in the future: a new expiry of the ban in force. Null: none (until lifted). Absent leaves it."`
	Lifted    *bool   `json:"lifted,omitempty" description:"true lifts the ban; lifting one that has ended changes nothing."`
}

// PlayerMerge is the data of player.merged: the closed player, and the
// player its identities moved into.
type PlayerMerge struct {
	From string `json:"from" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Into string `json:"into" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
}

// ExportedIdentity is an identity in a player's export: soft-deleted ones
// not purged yet are there too.
type ExportedIdentity struct {
	Identity
	DeletedAt *time.Time `json:"deleted_at" description:"Set when it is soft-deleted; null when live."`
}

// PlayerExport is everything held about a player but secrets: what a
// data-access request needs.
type PlayerExport struct {
	Player     Player             `json:"player"`
	Identities []ExportedIdentity `json:"identities" description:"Every identity of the player, soft-deleted ones not purged yet included."`
	Bans       []Ban              `json:"bans" description:"Its ban history, newest first."`
	Sessions   []IdentitySession  `json:"sessions" description:"The sessions of its identities, without their tokens."`
	Events     []Event            `json:"events" description:"The events whose subject is the player or one of its identities."`
}

// PlayerBanned is the body of the 403 that refuses a banned player:
// sign-in, refresh, POST /v1/identity-sessions, linking.
type PlayerBanned struct {
	Detail    string     `json:"detail" enum:"Player is banned"`
	ExpiresAt *time.Time `json:"expires_at" description:"When the ban ends by itself; null: when it is lifted."`
}

// IdentityOfOtherPlayer is the body of the 409 that refuses to link an
// identity of another player without merge.
type IdentityOfOtherPlayer struct {
	Detail   string `json:"detail" enum:"Identity belongs to another player"`
	PlayerID string `json:"player_id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" description:"The player holding the identity."`
}
