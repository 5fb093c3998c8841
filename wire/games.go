package wire

import "time"

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
