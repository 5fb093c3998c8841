package wire

import "time"

// Identity is a player's identity in one game of one account.
type Identity struct {
	ID          string    `json:"id" pattern:"^ide_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID   string    `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID      string    `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	PlayerID    string    `json:"player_id" pattern:"^ply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" description:"The player the identity belongs to: every identity belongs to exactly one."`
	Kind        string    `json:"kind" enum:"DEVICE,STEAM,CUSTOM"`
	ExternalKey string    `json:"external_key" minLength:"6" maxLength:"128"`
	DisplayName *string   `json:"display_name" minLength:"1" maxLength:"64"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CreateIdentityRequest is the body of POST /v1/identities. AccountID may
// be left out by a regular key (its own account); a superadmin must give it.
type CreateIdentityRequest struct {
	AccountID   string  `json:"account_id,omitempty" description:"Regular keys: default their own account. Superadmins: required."`
	GameID      string  `json:"game_id" description:"A live game of the account."`
	Kind        string  `json:"kind" enum:"DEVICE,STEAM,CUSTOM"`
	ExternalKey string  `json:"external_key" description:"DEVICE: 10–128 visible ASCII characters; CUSTOM: 6–128; STEAM: a SteamID64 (17 digits starting 7656119)."`
	DisplayName *string `json:"display_name,omitempty" description:"Trimmed, NFC-normalised, 1–64 characters, no control characters."`
}

// UpdateIdentityRequest is the body of PATCH /v1/identities/{id}: a new
// display name, or Deleted true to soft-delete (which wins).
type UpdateIdentityRequest struct {
	DisplayName *string `json:"display_name,omitempty" description:"A new display name; null or absent leaves it."`
	Deleted     *bool   `json:"deleted,omitempty" description:"true soft-deletes the identity (and wins over a new name)."`
}
