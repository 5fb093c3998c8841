// Package session holds the sign-in use cases: game clients signing in with
// a device ID or a Steam ticket, refreshing and signing out, reading and
// renaming their identity with single-use nonces; and the admin side, which
// signs any identity in and lists and revokes sessions.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/credcache"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// NonceTTL is how long a nonce may wait to be used.
const NonceTTL = 60 * time.Second

// Deps are what the use cases drive.
type Deps struct {
	Sessions   ports.SessionRepository
	Identities ports.IdentityRepository
	// GetOrCreate is the identity use case: sign-in gets or creates its
	// identity exactly as POST /v1/identities does.
	GetOrCreate ports.Identities
	Games       ports.GameRepository
	Cipher      ports.Cipher
	Steam       ports.SteamTickets
	Tokens      ports.AccessTokens
	Hasher      auth.Hasher
	Cursors     paging.Cursors
	Now         ports.Clock
	Lifetimes   session.Lifetimes
	// Cache keeps live sessions in process (off when zero).
	Cache credcache.Options
	// Players links a client's credentials and deletes its player;
	// PlayerRepository tells whom a ban keeps out.
	Players          ports.Players
	PlayerRepository ports.PlayerRepository
}

// Service implements ports.ClientSessions and ports.IdentitySessions.
type Service struct {
	d Deps
	// live holds the access tokens Authenticate verified, with their live
	// sessions, until the token expires: a cached token costs neither its
	// signature (ECDSA: about 100 µs) nor a read. A session revoked, or
	// whose identity or game is deleted, is forgotten when the change
	// reaches this replica (at once for this replica's own writes); a
	// token whose signing key was revoked, at its next use.
	live *credcache.Cache[verified]
}

// verified is a token Authenticate verified: whom it authenticates, and
// the key that signed it.
type verified struct {
	principal ports.ClientPrincipal
	key       id.SigningKeyID
}

var (
	_ ports.ClientSessions   = (*Service)(nil)
	_ ports.IdentitySessions = (*Service)(nil)
)

func NewService(d Deps) *Service {
	return &Service{d: d, live: credcache.New[verified](d.Cache)}
}

// newSecret is 32 random bytes, url-safe: a refresh token or a nonce.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issue starts a session for i and hands out its first tokens; sessionID
// zero: a new one.
func (s *Service) issue(ctx context.Context, i *identity.Identity, sessionID id.SessionID) (ports.Tokens, error) {
	if sessionID.IsZero() {
		sessionID = id.New[id.Session]()
	}
	ses := session.Begin(sessionID, i.ID(), i.AccountID(), i.GameID(), s.d.Now(), s.d.Lifetimes)
	refresh := newSecret()
	// The player slice refuses a session of a banned player in the
	// transaction that creates it (it hears of session.created).
	if err := s.d.Sessions.Create(ctx, ses, s.d.Hasher.Hash(refresh)); err != nil {
		return ports.Tokens{}, fmt.Errorf("create session: %w", err)
	}
	return s.tokens(ses, i, i.PlayerID(), refresh)
}

func (s *Service) tokens(ses *session.Session, i *identity.Identity, playerID id.PlayerID, refresh string) (ports.Tokens, error) {
	access, err := s.d.Tokens.Issue(ports.AccessClaims{
		SessionID: ses.ID(), IdentityID: ses.IdentityID(), AccountID: ses.AccountID(), GameID: ses.GameID(),
		PlayerID: playerID, ExpiresAt: ses.ExpiresAt(),
	})
	if err != nil {
		return ports.Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	accessTTL, refreshTTL := ses.TokenLifetimes()
	return ports.Tokens{Session: ses, Identity: i, AccessToken: access, RefreshToken: refresh,
		AccessTTL: accessTTL, RefreshTTL: refreshTTL}, nil
}

// SignIn validates the body (422), finds the game (404), verifies a Steam
// ticket with Steam (400, 401, 403, 503), asks the sign-up gate if the
// identity is new, gets or creates the identity and starts a session.
// CUSTOM identities sign in through the studio's backend
// (POST /v1/identity-sessions), never by themselves.
func (s *Service) SignIn(ctx context.Context, c ports.SignIn) (ports.Tokens, error) {
	var problems []error
	kind, err := identity.ParseKind(c.Kind)
	problems = append(problems, err)
	if c.GameID.IsZero() {
		problems = append(problems, domain.Missing("game_id"))
	}
	if c.DisplayName != nil {
		_, err := identity.ParseDisplayName(*c.DisplayName)
		problems = append(problems, err)
	}
	switch kind {
	case identity.KindDevice:
		if c.ExternalKey == nil {
			problems = append(problems, domain.Missing("external_key"))
		} else if _, err := identity.NewExternalKey(kind, *c.ExternalKey); err != nil {
			problems = append(problems, hideInput(err))
		}
	case identity.KindSteam:
		problems = append(problems, checkTicket(c.SteamTicket))
	case identity.KindCustom:
		problems = append(problems, domain.Rejected("kind",
			"CUSTOM identities sign in through the studio's backend (POST /v1/identity-sessions)", c.Kind))
	}
	if err := errors.Join(problems...); err != nil {
		return ports.Tokens{}, err
	}

	g, err := s.d.Games.Get(ctx, c.GameID)
	if err != nil {
		return ports.Tokens{}, err
	}
	if kind == identity.KindDevice && !g.DeviceSignIn() {
		return ports.Tokens{}, game.ErrDeviceSignInDisabled
	}
	key := c.ExternalKey
	if kind == identity.KindSteam {
		steamID, err := s.steamID(ctx, g, *c.SteamTicket)
		if err != nil {
			return ports.Tokens{}, err
		}
		key = &steamID
	}
	if err := s.signUp(ctx, c.SignUp, c.DisplayName != nil, g, kind, *key); err != nil {
		return ports.Tokens{}, err
	}
	// A client signing in has no credential yet: what it changes is the
	// doing of the session it is about to start.
	sessionID := id.New[id.Session]()
	ctx = event.WithActor(ctx, event.Actor{Kind: event.ActorSession, ID: sessionID.String()})
	i, _, err := s.d.GetOrCreate.GetOrCreate(ctx, tenancy.Principal{AccountID: g.AccountID()}, ports.CreateIdentity{
		AccountID: g.AccountID(), GameID: g.ID(), Kind: kind.String(), ExternalKey: *key, DisplayName: c.DisplayName,
	})
	if err != nil {
		return ports.Tokens{}, err
	}
	return s.issue(ctx, i, sessionID)
}

// signUp asks gate, if any, whether the sign-in may create its identity,
// unless the identity exists: signing in again costs nothing of what gate
// counts. Two sign-ins that race to create one identity may both ask. A
// sign-in that renames an existing identity is refused first if its player
// is banned, so that the refusal renames nothing (the session's creation
// refuses the others, atomically with the ban).
func (s *Service) signUp(ctx context.Context, gate func(context.Context) error, renames bool, g *game.Game, kind identity.Kind, key string) error {
	if gate == nil && !renames {
		return nil
	}
	found, err := s.d.Identities.List(ctx,
		ports.IdentityFilter{AccountID: g.AccountID(), GameID: g.ID(), Kind: kind, ExternalKey: key},
		paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 1})
	if err != nil {
		return fmt.Errorf("find the identity: %w", err)
	}
	if len(found.Items) > 0 {
		if renames && s.d.PlayerRepository != nil {
			return s.d.PlayerRepository.CheckSessionStart(ctx, found.Items[0].ID(), s.d.Now())
		}
		return nil
	}
	if gate == nil {
		return nil
	}
	return gate(ctx)
}

// redacted stands in for a credential that a problem would echo: a 422
// shows its input, and must not hand a secret back (to a log or a proxy on
// the way).
const redacted = "[redacted]"

// hideInput is err with its input redacted: a device ID is a credential.
func hideInput(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	hidden := *de
	hidden.Input = redacted
	return &hidden
}

// checkTicket: a Steam session ticket is 2–4096 hexadecimal characters.
func checkTicket(ticket *string) error {
	switch {
	case ticket == nil:
		return domain.Missing("steam_ticket")
	case len(*ticket) < 2 || len(*ticket) > 4096 || strings.Trim(*ticket, "0123456789abcdefABCDEF") != "":
		return domain.Rejected("steam_ticket", "A Steam ticket is 2–4096 hexadecimal characters", redacted)
	}
	return nil
}

// steamID asks Steam whose ticket this is, with the game's own settings;
// the SteamID64 Steam answers is the identity's key, never one the client
// gave.
func (s *Service) steamID(ctx context.Context, g *game.Game, ticket string) (string, error) {
	if !g.SteamConfigured() {
		return "", session.ErrSteamNotConfigured
	}
	webAPIKey, err := s.d.Cipher.Open(g.SealedSteamKey(), []byte(g.ID().String()))
	if err != nil {
		// Sealed under another LEADR_ENCRYPTION_KEY: the studio must set it again.
		return "", session.ErrSteamNotConfigured
	}
	player, err := s.d.Steam.Authenticate(ctx, g.SteamAppID().String(), string(webAPIKey), ticket)
	if err != nil {
		return "", err
	}
	if player.PublisherBanned {
		return "", session.ErrSteamBanned
	}
	if _, err := identity.NewExternalKey(identity.KindSteam, player.SteamID); err != nil {
		return "", session.ErrSteamTicketInvalid
	}
	return player.SteamID, nil
}

// Refresh rotates the refresh token: the one presented stops working, and
// presenting it again revokes the whole session.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (ports.Tokens, error) {
	if refreshToken == "" {
		return ports.Tokens{}, session.ErrRefreshInvalid
	}
	fresh, now := newSecret(), s.d.Now()
	hash := s.d.Hasher.Hash(refreshToken)
	ses, err := s.d.Sessions.Rotate(ctx, hash, s.d.Hasher.Hash(fresh), now, func(ses *session.Session) error {
		return ses.Refresh(now, s.d.Lifetimes)
	})
	if errors.Is(err, session.ErrRefreshInvalid) && s.d.PlayerRepository != nil {
		// A ban revoked the session: the game can tell its player why.
		if banned := s.d.PlayerRepository.RefreshBan(ctx, hash, now); banned != nil {
			return ports.Tokens{}, banned
		}
	}
	if err != nil {
		return ports.Tokens{}, err
	}
	// The identity's player now, which a merge may have changed since the
	// last token.
	i, err := s.d.Identities.Get(ctx, ses.IdentityID())
	if errors.Is(err, identity.ErrNotFound) {
		// Deleted since the rotation, which its deletion's revocation will
		// have followed: the session is over, as a refresh a moment later
		// would say.
		return ports.Tokens{}, session.ErrRefreshInvalid
	}
	if err != nil {
		return ports.Tokens{}, err
	}
	return s.tokens(ses, nil, i.PlayerID(), fresh)
}

// CacheCounts are the token lookups served from the cache and the others.
func (s *Service) CacheCounts() (hits, misses uint64) { return s.live.Counts() }

// Authenticate checks the token's signature and expiry, then that its
// session is live: a revoked session is refused on its next request, on
// every replica.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (ports.ClientPrincipal, error) {
	if accessToken == "" {
		return ports.ClientPrincipal{}, session.ErrAccessRequired
	}
	now := s.d.Now()
	// Keyed by the token's digest, not the token: no secret kept in memory.
	digest := sha256.Sum256([]byte(accessToken))
	key := string(digest[:])
	cached, ok, ticket := s.live.Get(key, now)
	// The key is asked again on every use: revoking it refuses its tokens
	// at once, cached or not, and costs a lookup in memory.
	if ok && s.d.Tokens.Trusted(cached.key, now) {
		return cached.principal, nil
	}
	claims, err := s.d.Tokens.Verify(accessToken, now)
	if err != nil {
		return ports.ClientPrincipal{}, session.ErrAccessInvalid
	}
	ses, err := s.d.Sessions.Access(ctx, claims.SessionID, now)
	if err != nil {
		return ports.ClientPrincipal{}, err
	}
	// A token that outlives its session's newest was forged with the
	// signing secret, however validly signed.
	if ses.IdentityID() != claims.IdentityID || ses.AccountID() != claims.AccountID || ses.GameID() != claims.GameID ||
		!ses.Issued(claims.ExpiresAt) {
		return ports.ClientPrincipal{}, session.ErrAccessInvalid
	}
	p := ports.ClientPrincipal{SessionID: ses.ID(), IdentityID: ses.IdentityID(), AccountID: ses.AccountID(), GameID: ses.GameID()}
	until := claims.ExpiresAt
	if ses.RefreshExpiresAt().Before(until) {
		until = ses.RefreshExpiresAt()
	}
	s.live.Put(ticket, key, verified{principal: p, key: claims.KeyID}, now, until,
		ports.Change{ID: p.SessionID.String()},
		ports.Change{ID: p.IdentityID.String()},
		ports.Change{ID: p.GameID.String()})
	return p, nil
}

func (s *Service) Me(ctx context.Context, p ports.ClientPrincipal) (*identity.Identity, error) {
	return s.d.Identities.Get(ctx, p.IdentityID)
}

func (s *Service) Nonce(ctx context.Context, p ports.ClientPrincipal) (string, time.Time, error) {
	nonce := newSecret()
	expires := domain.Timestamp(s.d.Now().Add(NonceTTL))
	if err := s.d.Sessions.CreateNonce(ctx, p.SessionID, s.d.Hasher.Hash(nonce), expires); err != nil {
		return "", time.Time{}, fmt.Errorf("create nonce: %w", err)
	}
	return nonce, expires, nil
}

// Rename validates the name (422), consumes the nonce (412), then renames
// if precondition holds for the identity under its row lock (412).
func (s *Service) Rename(ctx context.Context, p ports.ClientPrincipal, nonce string, displayName *string, precondition func(*identity.Identity) bool) (*identity.Identity, error) {
	if displayName == nil {
		return nil, domain.Missing("display_name")
	}
	name, err := identity.ParseDisplayName(*displayName)
	if err != nil {
		return nil, err
	}
	if err := s.consumeNonce(ctx, p, nonce); err != nil {
		return nil, err
	}
	return s.d.Identities.Update(ctx, p.IdentityID, func(i *identity.Identity) error {
		if precondition != nil && !precondition(i) {
			return identity.ErrPreconditionFailed
		}
		_, err := i.Rename(name, s.d.Now())
		return err
	})
}

// consumeNonce spends the session's nonce (412 when it is not good).
func (s *Service) consumeNonce(ctx context.Context, p ports.ClientPrincipal, nonce string) error {
	if nonce == "" {
		return session.ErrNonceRequired
	}
	return s.d.Sessions.ConsumeNonce(ctx, p.SessionID, s.d.Hasher.Hash(nonce), s.d.Now())
}

// LinkIdentity validates the body (422), spends the nonce (412), proves
// the credential (a device ID as at sign-in, a Steam ticket with Steam) and
// links it into the player of the session's identity.
func (s *Service) LinkIdentity(ctx context.Context, p ports.ClientPrincipal, nonce string, c ports.ClientLink) (*identity.Identity, bool, error) {
	kind, err := identity.ParseKind(c.Kind)
	if err != nil {
		return nil, false, err
	}
	switch kind {
	case identity.KindDevice:
		if c.ExternalKey == nil {
			return nil, false, domain.Missing("external_key")
		}
		if _, err := identity.NewExternalKey(kind, *c.ExternalKey); err != nil {
			return nil, false, hideInput(err)
		}
	case identity.KindSteam:
		if err := checkTicket(c.SteamTicket); err != nil {
			return nil, false, err
		}
	case identity.KindCustom:
		return nil, false, domain.Rejected("kind", "CUSTOM identities are linked by the studio's backend (POST /v1/players/{player_id}/identities)", c.Kind)
	}
	if err := s.consumeNonce(ctx, p, nonce); err != nil {
		return nil, false, err
	}
	g, err := s.d.Games.Get(ctx, p.GameID)
	if err != nil {
		return nil, false, err
	}
	key := c.ExternalKey
	switch kind {
	case identity.KindDevice:
		if !g.DeviceSignIn() {
			return nil, false, game.ErrDeviceSignInDisabled
		}
	case identity.KindSteam:
		steamID, err := s.steamID(ctx, g, *c.SteamTicket)
		if err != nil {
			return nil, false, err
		}
		key = &steamID
	}
	if err := s.signUp(ctx, c.SignUp, false, g, kind, *key); err != nil {
		return nil, false, err
	}
	return s.d.Players.LinkCredential(ctx, ports.LinkCredential{PlayerOf: p.IdentityID, Kind: kind, Key: *key, Merge: c.Merge})
}

func (s *Service) UnlinkIdentity(ctx context.Context, p ports.ClientPrincipal, nonce string, identityID id.IdentityID) (*identity.Identity, error) {
	if err := s.consumeNonce(ctx, p, nonce); err != nil {
		return nil, err
	}
	return s.d.Players.UnlinkOwn(ctx, p.IdentityID, identityID)
}

// DeletePlayer is in-app account deletion: the player and every identity
// go, and so do their sessions, this one included.
func (s *Service) DeletePlayer(ctx context.Context, p ports.ClientPrincipal, nonce string) (*player.Player, error) {
	if err := s.consumeNonce(ctx, p, nonce); err != nil {
		return nil, err
	}
	return s.d.Players.DeleteOwn(ctx, p.IdentityID)
}

func (s *Service) SignOut(ctx context.Context, p ports.ClientPrincipal) error {
	_, err := s.d.Sessions.Update(ctx, p.SessionID, func(ses *session.Session) error {
		ses.Revoke(s.d.Now())
		return nil
	})
	return err
}

// Create signs an identity in for a studio's backend: the identity must be
// live, of an account the key may act on (403), in a live game (404).
func (s *Service) Create(ctx context.Context, p tenancy.Principal, identityID id.IdentityID) (ports.Tokens, error) {
	i, err := s.d.Identities.Get(ctx, identityID)
	if err != nil {
		return ports.Tokens{}, err
	}
	if err := auth.CheckOwner(p, i.AccountID(), identity.ErrForbidden); err != nil {
		return ports.Tokens{}, err
	}
	if _, err := s.d.Games.Get(ctx, i.GameID()); err != nil {
		return ports.Tokens{}, err
	}
	return s.issue(ctx, i, id.SessionID{})
}

func (s *Service) Get(ctx context.Context, p tenancy.Principal, q ports.GetSession) (*session.Session, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	ses, err := s.d.Sessions.Get(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckAccess(p, q.AccountID, ses.AccountID(), session.ErrForbidden, session.ErrNotFound); err != nil {
		return nil, err
	}
	return ses, nil
}

func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListSessions) (paging.Page[*session.Session], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*session.Session]{}, err
	}
	f := ports.SessionFilter{AccountID: scope, IdentityID: q.IdentityID}
	return cursor.List(s.d.Cursors, ports.SessionSchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*session.Session], error) { return s.d.Sessions.List(ctx, f, r) })
}

// Revoke ends a session; revoking it again answers it unchanged. The owner
// check runs under the row lock, so a refused revocation writes nothing.
func (s *Service) Revoke(ctx context.Context, p tenancy.Principal, q ports.GetSession) (*session.Session, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	return s.d.Sessions.Update(ctx, q.ID, func(ses *session.Session) error {
		if err := auth.CheckAccess(p, q.AccountID, ses.AccountID(), session.ErrForbidden, session.ErrNotFound); err != nil {
			return err
		}
		ses.Revoke(s.d.Now())
		return nil
	})
}
