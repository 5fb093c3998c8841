package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// SessionSchema is what session lists sort by.
var SessionSchema = paging.NewSchema("identity-sessions", "created_at:desc,id:asc",
	paging.Field[*session.Session]{Name: "id", Type: paging.UUID, Value: func(s *session.Session) any { return s.ID().UUID() }},
	paging.Field[*session.Session]{Name: "created_at", Type: paging.Time, Value: func(s *session.Session) any { return s.CreatedAt() }},
	paging.Field[*session.Session]{Name: "updated_at", Type: paging.Time, Value: func(s *session.Session) any { return s.UpdatedAt() }},
)

// SessionFilter narrows a list of sessions (revoked ones included); zero
// fields do not filter.
type SessionFilter struct {
	AccountID  id.AccountID
	IdentityID id.IdentityID
}

// SessionRepository stores sessions, the hashes of their refresh tokens and
// their nonces. Secrets are never stored: only their HMACs (see
// auth.Hasher), which are what these methods take.
type SessionRepository interface {
	// Create stores a new session with the hash of its first refresh token.
	// Its identity must be live, with that account and game, and its game
	// live, checked in that transaction (identity.ErrNotFound,
	// game.ErrNotFound), so that no session starts for what was just deleted.
	Create(ctx context.Context, s *session.Session, refreshHash []byte) error
	// Get finds a session, revoked or not: session.ErrNotFound.
	Get(ctx context.Context, id id.SessionID) (*session.Session, error)
	// Access finds the session an access token names if it still grants
	// access at now: not revoked, not expired, and its identity and game
	// live. Anything else is session.ErrAccessInvalid. It is on every
	// client request's path: one indexed read.
	Access(ctx context.Context, id id.SessionID, now time.Time) (*session.Session, error)
	// Update has the contract of IdentityRepository.Update.
	Update(ctx context.Context, id id.SessionID, fn func(*session.Session) error) (*session.Session, error)
	// Rotate exchanges the refresh token with hash old for one with hash
	// fresh at now, in one transaction: under the session's row lock it
	// marks old used (only if it was not, in one statement, so of two
	// concurrent calls with one token exactly one rotates), runs fn on the
	// session and saves it. An unknown token, or one whose identity or game
	// is no longer live, is session.ErrRefreshInvalid. A token that was
	// already rotated is reuse: the session is revoked at now, and the
	// answer is session.ErrRefreshInvalid too. An error from fn rolls
	// everything back.
	Rotate(ctx context.Context, old, fresh []byte, now time.Time, fn func(*session.Session) error) (*session.Session, error)
	SessionRevoker
	List(ctx context.Context, f SessionFilter, req paging.Request) (paging.Result[*session.Session], error)

	// CreateNonce stores a nonce's hash for a session, valid until expiresAt
	// (session.ErrNotFound for an unknown session). A session holds at most
	// session.MaxUnusedNonces unused nonces: storing one more drops the one
	// that expires first, in the same transaction, so that concurrent calls
	// never leave more (a dropped nonce is then unknown: ErrNonceInvalid).
	CreateNonce(ctx context.Context, sessionID id.SessionID, hash []byte, expiresAt time.Time) error
	// ConsumeNonce uses a nonce of the session, once, in one statement: of N
	// concurrent calls with one nonce exactly one succeeds. The others, and
	// every later call, get session.ErrNonceUsed; an unknown nonce or
	// another session's is ErrNonceInvalid; an expired one ErrNonceExpired.
	ConsumeNonce(ctx context.Context, sessionID id.SessionID, hash []byte, now time.Time) error

	// Purge deletes the nonces that expired before now, used or not (one
	// presented later is unknown: ErrNonceInvalid); the refresh tokens
	// rotated more than keep before now (presenting one later is
	// ErrRefreshInvalid, and changes nothing; within keep it is reuse,
	// which revokes); and the sessions whose refresh token expired, or that
	// were revoked, more than keep before now, with their refresh tokens and
	// nonces. It reports how many sessions went. Replicas may purge at once:
	// each row goes once.
	Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error)
	// RevokeOrphaned revokes at now at most most of the sessions, not
	// revoked yet, whose identity or game is deleted: those that
	// SessionRevoker left. It writes in transactions of a few hundred
	// sessions each, each recording session.revoked for its sessions as the
	// actor of ctx, and reports how many it revoked. Replicas may run it at
	// once: each session is revoked once.
	RevokeOrphaned(ctx context.Context, now time.Time, most int) (int, error)
}

// SessionRevoker revokes the sessions of an identity, or of a game's
// identities, that are not revoked yet, recording session.revoked for each:
// what deleting them does. It revokes at most most of them, in the
// transaction of ctx when there is one, so that a deletion of any size
// stays as short as a request; RevokeOrphaned revokes the others later.
// They grant nothing meanwhile: Access and Rotate refuse the sessions of a
// deleted identity or game.
type SessionRevoker interface {
	RevokeIdentity(ctx context.Context, identityID id.IdentityID, now time.Time, most int) error
	RevokeGame(ctx context.Context, gameID id.GameID, now time.Time, most int) error
}

// AccessClaims are what an access token says.
type AccessClaims struct {
	SessionID  id.SessionID
	IdentityID id.IdentityID
	AccountID  id.AccountID
	GameID     id.GameID
	// PlayerID is the identity's player when the token was issued; after a
	// merge, until the next refresh, the player it was merged out of.
	PlayerID  id.PlayerID
	ExpiresAt time.Time
	// KeyID is the key that signed it; zero for an earlier version's
	// HS256 token.
	KeyID id.SigningKeyID
}

// AccessTokens signs and verifies access tokens with the keys every
// replica shares. Verify refuses (session.ErrAccessInvalid) a token that is
// malformed, signed otherwise, expired, or not one of ours.
type AccessTokens interface {
	Issue(c AccessClaims) (string, error)
	Verify(token string, now time.Time) (AccessClaims, error)
	// Trusted reports whether the tokens the key KeyID names signed still
	// verify at now (their key was not revoked since), for tokens verified
	// earlier.
	Trusted(key id.SigningKeyID, now time.Time) bool
}

// SteamPlayer is who Steam says a ticket belongs to.
type SteamPlayer struct {
	SteamID         string // SteamID64
	OwnerSteamID    string // the owner's, when the game is borrowed (Family Sharing)
	VACBanned       bool
	PublisherBanned bool
}

// SteamTickets verifies session tickets with Steam's Web API
// (ISteamUserAuth/AuthenticateUserTicket) for a game's app ID and its
// publisher Web API key. A ticket Steam refuses is
// session.ErrSteamTicketInvalid; Steam not answering well or in time is
// session.ErrSteamUnavailable.
type SteamTickets interface {
	Authenticate(ctx context.Context, appID, webAPIKey, ticket string) (SteamPlayer, error)
}

// ClientPrincipal is a game client, as its access token and session say.
type ClientPrincipal struct {
	SessionID  id.SessionID
	IdentityID id.IdentityID
	AccountID  id.AccountID
	GameID     id.GameID
}

// SignIn is the body of POST /v1/client/sessions, raw.
type SignIn struct {
	GameID      id.GameID
	Kind        string
	ExternalKey *string
	SteamTicket *string
	DisplayName *string
	// SignUp, when set, is asked before the sign-in creates an identity,
	// and only then: a sign-in that finds its identity never asks. An error
	// refuses the sign-in, which then writes nothing, and is returned as
	// is. It is how the driving side limits the identities that anonymous
	// clients create (per client address, for one), apart from sign-ins.
	SignUp func(context.Context) error
}

// Tokens are a session's credentials, handed out once: at sign-in and at
// each refresh.
type Tokens struct {
	Session      *session.Session
	Identity     *identity.Identity // set at sign-in only
	AccessToken  string
	RefreshToken string
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
}

// ClientSessions is the API of game clients.
type ClientSessions interface {
	SignIn(ctx context.Context, c SignIn) (Tokens, error)
	Refresh(ctx context.Context, refreshToken string) (Tokens, error)
	// Authenticate checks an access token and its session (revoked
	// sessions are refused at once): session.ErrAccessRequired, ErrAccessInvalid.
	Authenticate(ctx context.Context, accessToken string) (ClientPrincipal, error)
	Me(ctx context.Context, p ClientPrincipal) (*identity.Identity, error)
	// Nonce issues a single-use nonce of the session and when it expires.
	Nonce(ctx context.Context, p ClientPrincipal) (string, time.Time, error)
	// Rename validates the name (422), then consumes the nonce (412), then
	// renames the identity. precondition, when set, must hold for the
	// identity as stored, as in UpdateIdentity (identity.ErrPreconditionFailed;
	// the nonce is spent either way).
	Rename(ctx context.Context, p ClientPrincipal, nonce string, displayName *string, precondition func(*identity.Identity) bool) (*identity.Identity, error)
	SignOut(ctx context.Context, p ClientPrincipal) error
	// LinkIdentity validates the body (422), consumes the nonce (412),
	// proves the credential (a Steam ticket with Steam, as at sign-in) and
	// links it into the session's player (Players.LinkCredential); it
	// reports whether it created the identity.
	LinkIdentity(ctx context.Context, p ClientPrincipal, nonce string, c ClientLink) (*identity.Identity, bool, error)
	// UnlinkIdentity consumes the nonce, then Players.UnlinkOwn.
	UnlinkIdentity(ctx context.Context, p ClientPrincipal, nonce string, identityID id.IdentityID) (*identity.Identity, error)
	// DeletePlayer consumes the nonce, then Players.DeleteOwn.
	DeletePlayer(ctx context.Context, p ClientPrincipal, nonce string) (*player.Player, error)
}

// ClientLink is the body of POST /v1/client/me/identities, raw.
type ClientLink struct {
	Kind        string
	ExternalKey *string
	SteamTicket *string
	Merge       bool
	// SignUp, when set, is asked before the link creates an identity, as
	// SignIn's is.
	SignUp func(context.Context) error
}

// GetSession names a session and, optionally, the account the caller
// expects it in (checked as for identities).
type GetSession struct {
	ID        id.SessionID
	AccountID id.AccountID
}

type ListSessions struct {
	AccountID  id.AccountID
	IdentityID id.IdentityID
	Page       paging.Params
}

// IdentitySessions is the admin API of sessions.
type IdentitySessions interface {
	// Create signs any identity in, CUSTOM ones included: how a studio's
	// backend gives its players sessions.
	Create(ctx context.Context, p tenancy.Principal, identityID id.IdentityID) (Tokens, error)
	Get(ctx context.Context, p tenancy.Principal, q GetSession) (*session.Session, error)
	List(ctx context.Context, p tenancy.Principal, q ListSessions) (paging.Page[*session.Session], error)
	Revoke(ctx context.Context, p tenancy.Principal, q GetSession) (*session.Session, error)
}
