package wire

import (
	"fmt"
	"time"
)

// NonceHeader carries a nonce (see Nonce) to the endpoint that consumes it.
const NonceHeader = "leadr-client-nonce"

// SignInRequest is the body of POST /v1/client/sessions: a game client
// signing itself in.
type SignInRequest struct {
	GameID      string  `json:"game_id" description:"A live game."`
	Kind        string  `json:"kind" enum:"DEVICE,STEAM,CUSTOM" description:"DEVICE or STEAM. CUSTOM identities are refused (422): they get sessions from the studio's backend, POST /v1/identity-sessions."`
	ExternalKey string  `json:"external_key,omitempty" description:"DEVICE: the device ID, 10–128 visible ASCII characters. A credential: never echoed. Ignored for STEAM: the SteamID64 is Steam's answer, never the client's word."`
	SteamTicket string  `json:"steam_ticket,omitempty" description:"STEAM: a session ticket, 2–4096 hexadecimal characters, verified with Steam's Web API. Never echoed."`
	DisplayName *string `json:"display_name,omitempty" description:"Trimmed, NFC-normalised, 1–64 characters, no control characters."`
}

// SignInResponse is a new session and its first tokens: the answer of a
// sign-in (POST /v1/client/sessions) and of POST /v1/identity-sessions. The
// tokens are in this answer only; String and GoString leave them out, so
// printing one does not leak them.
type SignInResponse struct {
	SessionID        string   `json:"session_id" pattern:"^ses_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	Identity         Identity `json:"identity"`
	AccessToken      string   `json:"access_token" description:"Sent as authorization: Bearer <access_token> to the client endpoints."`
	TokenType        string   `json:"token_type" enum:"Bearer"`
	ExpiresIn        int      `json:"expires_in" minimum:"0" description:"Seconds until the access token expires: its TTL, or less at the end of the session's maximum age."`
	RefreshToken     string   `json:"refresh_token" description:"Single use: POST /v1/client/sessions/refresh exchanges it for new tokens."`
	RefreshExpiresIn int      `json:"refresh_expires_in" minimum:"0" description:"Seconds until the refresh token expires: its TTL, or less when the session reaches its maximum age (LEADR_SESSION_MAX_AGE) first."`
}

func (r SignInResponse) String() string {
	return fmt.Sprintf("{session %s, identity %s, tokens [redacted], expires in %ds}", r.SessionID, r.Identity.ID, r.ExpiresIn)
}

func (r SignInResponse) GoString() string { return "wire.SignInResponse" + r.String() }

// RefreshRequest is the body of POST /v1/client/sessions/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token" description:"The newest refresh token of the session. It stops working: presenting it again revokes the session."`
}

// RefreshResponse is a session's new tokens. Like SignInResponse, it does
// not print them.
type RefreshResponse struct {
	SessionID        string `json:"session_id" pattern:"^ses_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type" enum:"Bearer"`
	ExpiresIn        int    `json:"expires_in" minimum:"0" description:"Seconds until the access token expires: its TTL, or less at the end of the session's maximum age."`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in" minimum:"0" description:"Seconds until the refresh token expires: its TTL, or less when the session reaches its maximum age (LEADR_SESSION_MAX_AGE) first."`
}

func (r RefreshResponse) String() string {
	return fmt.Sprintf("{session %s, tokens [redacted], expires in %ds}", r.SessionID, r.ExpiresIn)
}

func (r RefreshResponse) GoString() string { return "wire.RefreshResponse" + r.String() }

// Nonce is a single-use value that a client endpoint changing state wants
// in the header NonceHeader (PATCH /v1/client/me, for one). A session holds
// at most five unused ones: a sixth drops the oldest.
type Nonce struct {
	NonceValue string    `json:"nonce_value"`
	ExpiresAt  time.Time `json:"expires_at" description:"60 seconds after it was issued."`
}

// String and GoString never print the nonce: it is a single-use secret.
func (n Nonce) String() string {
	return "wire.Nonce{[redacted], expires " + n.ExpiresAt.String() + "}"
}
func (n Nonce) GoString() string { return n.String() }

// UpdateMeRequest is the body of PATCH /v1/client/me.
type UpdateMeRequest struct {
	DisplayName string `json:"display_name" description:"Trimmed, NFC-normalised, 1–64 characters, no control characters."`
}

// IdentitySession is a session as the admin endpoints show it: never its
// tokens.
type IdentitySession struct {
	ID               string     `json:"id" pattern:"^ses_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	IdentityID       string     `json:"identity_id" pattern:"^ide_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID        string     `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	GameID           string     `json:"game_id" pattern:"^gam_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	ExpiresAt        time.Time  `json:"expires_at" description:"When the newest access token expires."`
	RefreshExpiresAt time.Time  `json:"refresh_expires_at" description:"When the newest refresh token expires."`
	RevokedAt        *time.Time `json:"revoked_at" description:"Set once the session is revoked; revocation is final."`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// CreateIdentitySessionRequest is the body of POST /v1/identity-sessions.
type CreateIdentitySessionRequest struct {
	IdentityID string `json:"identity_id" description:"A live identity of any kind, CUSTOM included, in a live game of an account the key may act on."`
}
