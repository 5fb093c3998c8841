// Package session is the Session aggregate: a game client signed in as one
// identity. A session is refreshed (its refresh token rotated) until it is
// revoked, its refresh token expires or it reaches its maximum age; its
// access tokens are short-lived and refused as soon as it is revoked.
package session

import (
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrNotFound = domain.NotFound("Session not found")
	// ErrForbidden is the access policy's answer for another account's session.
	ErrForbidden      = domain.Forbidden("You do not have access to this session's account")
	ErrRefreshInvalid = domain.Unauthenticated("Invalid or expired refresh token")
	ErrAccessRequired = domain.Unauthenticated("Access token required")
	ErrAccessInvalid  = domain.Unauthenticated("Invalid or expired access token")

	ErrNonceRequired = domain.PreconditionFailed("Nonce required")
	// ErrNonceInvalid is an unknown nonce, or another session's.
	ErrNonceInvalid = domain.PreconditionFailed("Invalid nonce")
	ErrNonceUsed    = domain.PreconditionFailed("Nonce already used")
	ErrNonceExpired = domain.PreconditionFailed("Nonce expired")

	ErrSteamNotConfigured = domain.BadRequest("Steam sign-in is not configured for this game")
	ErrSteamTicketInvalid = domain.Unauthenticated("Invalid Steam ticket")
	ErrSteamBanned        = domain.Forbidden("Steam account is banned")
	ErrSteamUnavailable   = domain.Unavailable("Steam is unavailable")
)

// MaxUnusedNonces is how many unused nonces a session holds at most: a new
// one beyond them drops the oldest, so that a client minting nonces fills
// nothing.
const MaxUnusedNonces = 5

// Session is the aggregate root. Its identity, account and game never
// change; revocation is final.
type Session struct {
	id               id.SessionID
	identityID       id.IdentityID
	accountID        id.AccountID
	gameID           id.GameID
	expiresAt        time.Time // of the newest access token
	refreshExpiresAt time.Time
	revokedAt        time.Time
	createdAt        time.Time
	updatedAt        time.Time
}

// Lifetimes are how long what a session hands out stays valid.
type Lifetimes struct {
	Access  time.Duration
	Refresh time.Duration
	// MaxAge bounds the session from its sign-in, however often it is
	// refreshed: no token it hands out outlives it. Zero bounds nothing
	// beyond Refresh.
	MaxAge time.Duration
}

// New starts a session for an identity, with its first tokens issued now.
func New(identityID id.IdentityID, accountID id.AccountID, gameID id.GameID, now time.Time, l Lifetimes) *Session {
	return Begin(id.New[id.Session](), identityID, accountID, gameID, now, l)
}

// Begin is New with the session's ID chosen beforehand: a sign-in is the
// actor of what it changes before its session exists.
func Begin(sessionID id.SessionID, identityID id.IdentityID, accountID id.AccountID, gameID id.GameID, now time.Time, l Lifetimes) *Session {
	now = domain.Timestamp(now)
	s := &Session{id: sessionID, identityID: identityID, accountID: accountID, gameID: gameID, createdAt: now}
	s.issue(now, l)
	return s
}

// issue records tokens issued at now: each expires after its lifetime, or
// at the session's maximum age if that comes first, so that neither a
// refresh token nor an access token ever outlives the session.
func (s *Session) issue(now time.Time, l Lifetimes) {
	s.refreshExpiresAt = now.Add(l.Refresh)
	if l.MaxAge > 0 {
		s.refreshExpiresAt = minTime(s.refreshExpiresAt, s.createdAt.Add(l.MaxAge))
	}
	s.expiresAt = minTime(now.Add(l.Access), s.refreshExpiresAt)
	s.updatedAt = now
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Active reports whether the session may still be refreshed and used.
func (s *Session) Active(now time.Time) bool {
	return s.revokedAt.IsZero() && now.Before(s.refreshExpiresAt)
}

// Refresh records new tokens issued now: a revoked or expired session
// refuses, and so does one at its maximum age (which a session started
// before the age was bounded, or lowered, may reach before its refresh
// token expires).
func (s *Session) Refresh(now time.Time, l Lifetimes) error {
	now = domain.Timestamp(now)
	if !s.Active(now) || l.MaxAge > 0 && !now.Before(s.createdAt.Add(l.MaxAge)) {
		return ErrRefreshInvalid
	}
	s.issue(now, l)
	return nil
}

// Issued reports whether an access token expiring at exp can be one this
// session issued: none outlives the newest, so a later exp is a token
// forged with the signing secret (from a stolen backup, say), however
// validly signed.
func (s *Session) Issued(exp time.Time) bool { return !exp.After(s.expiresAt) }

// TokenLifetimes are how long the newest tokens live from when they were
// issued: the lifetimes asked for, or less near the session's maximum age.
// Right after New or Refresh, which is when tokens are handed out.
func (s *Session) TokenLifetimes() (access, refresh time.Duration) {
	return s.expiresAt.Sub(s.updatedAt), s.refreshExpiresAt.Sub(s.updatedAt)
}

// Revoke ends the session for good; revoking it again changes nothing.
func (s *Session) Revoke(now time.Time) bool {
	if !s.revokedAt.IsZero() {
		return false
	}
	now = domain.Timestamp(now)
	s.revokedAt, s.updatedAt = now, now
	return true
}

// Snapshot is a session's whole state as a store keeps it.
type Snapshot struct {
	ID               id.SessionID
	IdentityID       id.IdentityID
	AccountID        id.AccountID
	GameID           id.GameID
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
	RevokedAt        time.Time // zero while not revoked
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Rehydrate is for store adapters only; it trusts the snapshot.
func Rehydrate(s Snapshot) *Session {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC()
	}
	return &Session{
		id: s.ID, identityID: s.IdentityID, accountID: s.AccountID, gameID: s.GameID,
		expiresAt: utc(s.ExpiresAt), refreshExpiresAt: utc(s.RefreshExpiresAt), revokedAt: utc(s.RevokedAt),
		createdAt: utc(s.CreatedAt), updatedAt: utc(s.UpdatedAt),
	}
}

func (s *Session) Snapshot() Snapshot {
	return Snapshot{
		ID: s.id, IdentityID: s.identityID, AccountID: s.accountID, GameID: s.gameID,
		ExpiresAt: s.expiresAt, RefreshExpiresAt: s.refreshExpiresAt, RevokedAt: s.revokedAt,
		CreatedAt: s.createdAt, UpdatedAt: s.updatedAt,
	}
}

func (s *Session) ID() id.SessionID            { return s.id }
func (s *Session) IdentityID() id.IdentityID   { return s.identityID }
func (s *Session) AccountID() id.AccountID     { return s.accountID }
func (s *Session) GameID() id.GameID           { return s.gameID }
func (s *Session) ExpiresAt() time.Time        { return s.expiresAt }
func (s *Session) RefreshExpiresAt() time.Time { return s.refreshExpiresAt }
func (s *Session) CreatedAt() time.Time        { return s.createdAt }
func (s *Session) UpdatedAt() time.Time        { return s.updatedAt }
func (s *Session) IsRevoked() bool             { return !s.revokedAt.IsZero() }

// RevokedAt is zero while the session is not revoked.
func (s *Session) RevokedAt() time.Time { return s.revokedAt }
