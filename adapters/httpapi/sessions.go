package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed sessions.openapi.json
var sessionsOpenAPI []byte

// sessionsFragment is the part of the document of client sign-in, the
// client endpoints and the admin view of sessions, its schemas generated
// from the wire types.
var sessionsFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(sessionsOpenAPI, map[string]any{
		"ClientSignIn":          wire.SignInRequest{},
		"ClientSession":         wire.SignInResponse{},
		"ClientRefresh":         wire.RefreshRequest{},
		"ClientTokens":          wire.RefreshResponse{},
		"ClientNonce":           wire.Nonce{},
		"ClientMeUpdate":        wire.UpdateMeRequest{},
		"IdentitySession":       wire.IdentitySession{},
		"IdentitySessionPage":   wire.Page[wire.IdentitySession]{},
		"IdentitySessionCreate": wire.CreateIdentitySessionRequest{},
		"ClientLink":            wire.ClientLinkRequest{},
		"Player":                wire.Player{},
		"PlayerBanned":          wire.PlayerBanned{},
		"IdentityOfOtherPlayer": wire.IdentityOfOtherPlayer{},
	})
})

// Context key of a client endpoint's caller.
const clientPrincipalKey = "leadr.client_principal"

// Write-only body fields: no answer echoes them, 422s included. A Steam
// ticket, a device ID (a sign-in's external key) and a refresh token are
// credentials.
const (
	steamTicketField  = "steam_ticket"
	externalKeyField  = "external_key"
	refreshTokenField = "refresh_token"
)

// SessionRoutes are the endpoints of sessions: sign-in and what a signed-in
// game client may do, under /v1/client; and the admin view, under the API
// key.
func SessionRoutes(clients ports.ClientSessions, admin ports.IdentitySessions) Routes {
	h := sessionHandlers{clients: clients, admin: admin}
	return Routes{
		OpenAPI: sessionsFragment(),
		Mount: func(api gin.IRoutes) {
			api.POST("/identity-sessions", h.create)
			api.GET("/identity-sessions", h.list)
			api.GET("/identity-sessions/:session_id", h.get)
			api.DELETE("/identity-sessions/:session_id", h.revoke)
		},
		MountClient: func(api gin.IRoutes) {
			// Sign-in and refresh are the authentication: no bearer.
			// Limited per client address: nothing else stops a client
			// that guesses refresh tokens or mints identities.
			api.POST("/sessions", limitClientIP, limitBody(), h.signIn)
			api.POST("/sessions/refresh", limitClientIP, limitBody(), h.refresh)
			// The bearer check goes per route rather than api.Use: the group
			// is shared with other slices' client endpoints.
			api.GET("/me", h.bearer, limitBody(), h.me)
			api.PATCH("/me", h.bearer, limitBody(), h.rename)
			api.GET("/nonce", h.bearer, limitBody(), h.nonce)
			api.DELETE("/sessions/current", h.bearer, limitBody(), h.signOut)
			api.POST("/me/identities", h.bearer, limitBody(), h.link)
			api.DELETE("/me/identities/:identity_id", h.bearer, limitBody(), h.unlink)
			api.DELETE("/me/player", h.bearer, limitBody(), h.deletePlayer)
		},
	}
}

type sessionHandlers struct {
	clients ports.ClientSessions
	admin   ports.IdentitySessions
}

// bearer requires an access token (authorization: Bearer …) and stores its
// principal. Any other scheme, or none, is no access token.
func (h sessionHandlers) bearer(c *gin.Context) {
	token := bearerToken(c.GetHeader("Authorization"))
	if token == "" {
		fail(c, session.ErrAccessRequired)
		c.Abort()
		return
	}
	p, err := h.clients.Authenticate(c.Request.Context(), token)
	if err != nil {
		fail(c, err)
		c.Abort()
		return
	}
	c.Set(clientPrincipalKey, p)
	if !allowRate(c, scopeSession, p.SessionID.String()) {
		return
	}
	actAs(c, event.Actor{Kind: event.ActorSession, ID: p.SessionID.String()})
	c.Next()
}

// bearerToken is the token of an authorization header of the Bearer
// scheme, whose name is case-insensitive (RFC 9110, section 11.1), or "".
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func clientPrincipal(c *gin.Context) ports.ClientPrincipal {
	return c.MustGet(clientPrincipalKey).(ports.ClientPrincipal)
}

func (h sessionHandlers) signIn(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps, steamTicketField, externalKeyField)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.SignInRequest
	in := fieldsOf(b, &req)
	cmd := ports.SignIn{
		GameID:      bodyID[id.Game](in, &req.GameID),
		Kind:        deref(bodyString(in, &req.Kind)),
		ExternalKey: bodyString(in, &req.ExternalKey),
		SteamTicket: bodyString(in, &req.SteamTicket),
		DisplayName: bodyString(in, &req.DisplayName),
		SignUp:      signUpGate(c),
	}
	if !parsed(c, &ps) {
		return
	}
	t, err := h.clients.SignIn(c.Request.Context(), cmd)
	var limited *signUpLimited
	if errors.As(err, &limited) {
		allowedOr429(c, false, limited.retryAfter)
		return
	}
	h.created(c, t, err)
}

// signUpLimited is the sign-up gate's refusal: the client's address has
// created as many identities as its limit allows for now.
type signUpLimited struct{ retryAfter time.Duration }

func (*signUpLimited) Error() string { return "too many identities created from this client address" }

// signUpGate counts an identity that a sign-in is about to create against
// its client's address (LEADR_RATE_LIMIT_SIGN_UP), apart from the limit of
// sign-ins: a client signing in again and again as itself is no threat,
// one minting identities fills the database.
// Without the limit there is no gate, and the use case spares the look-up
// that tells a new identity from a known one.
func signUpGate(c *gin.Context) func(context.Context) error {
	if l := requestRuntime(c).limits; l == nil || l.Limiter == nil || l.SignUp.Off() {
		return nil
	}
	return func(context.Context) error {
		if allowed, retryAfter := checkRate(c, scopeSignUp, clientNetwork(c.ClientIP())); !allowed {
			return &signUpLimited{retryAfter: retryAfter}
		}
		return nil
	}
}

// created answers a new session: 201, with the address of the one resource
// that names it (the admin view; client endpoints call it "current").
func (h sessionHandlers) created(c *gin.Context, t ports.Tokens, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	noStore(c)
	c.Header("Location", "/v1/identity-sessions/"+t.Session.ID().String())
	c.JSON(http.StatusCreated, toSignIn(t))
}

// noStore keeps an answer holding tokens out of every cache on the way
// (RFC 6749, section 5.1).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

func (h sessionHandlers) refresh(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps, refreshTokenField)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.RefreshRequest
	token := deref(bodyString(fieldsOf(b, &req), &req.RefreshToken))
	if !parsed(c, &ps) {
		return
	}
	t, err := h.clients.Refresh(c.Request.Context(), token)
	if err != nil {
		fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, toTokens(t))
}

func (h sessionHandlers) me(c *gin.Context) {
	i, err := h.clients.Me(c.Request.Context(), clientPrincipal(c))
	writeIdentity(c, http.StatusOK, i, err)
}

func (h sessionHandlers) nonce(c *gin.Context) {
	value, expires, err := h.clients.Nonce(c.Request.Context(), clientPrincipal(c))
	if err != nil {
		fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, wire.Nonce{NonceValue: value, ExpiresAt: wireTime(expires)})
}

// rename passes the nonce as sent, "" when absent: the use case checks it
// after validating the name, in the contract's order (422 before 412).
func (h sessionHandlers) rename(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.UpdateMeRequest
	name := bodyString(fieldsOf(b, &req), &req.DisplayName)
	if !parsed(c, &ps) {
		return
	}
	i, err := h.clients.Rename(c.Request.Context(), clientPrincipal(c), c.GetHeader(wire.NonceHeader), name, ifMatch(c))
	writeIdentity(c, http.StatusOK, i, err)
}

// link links a credential the client proves into its player: 201 when it
// created the credential's identity, 200 when the identity was the
// player's already or came with a merge. The credential is never echoed,
// as at sign-in.
func (h sessionHandlers) link(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps, steamTicketField, externalKeyField)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.ClientLinkRequest
	in := fieldsOf(b, &req)
	cmd := ports.ClientLink{
		Kind:        deref(bodyString(in, &req.Kind)),
		ExternalKey: bodyString(in, &req.ExternalKey),
		SteamTicket: bodyString(in, &req.SteamTicket),
		Merge:       deref(bodyBool(in, &req.Merge)),
		// A link that creates an identity counts against the client
		// address's sign-ups, as a sign-in that creates one does.
		SignUp: signUpGate(c),
	}
	if !parsed(c, &ps) {
		return
	}
	i, created, err := h.clients.LinkIdentity(c.Request.Context(), clientPrincipal(c), c.GetHeader(wire.NonceHeader), cmd)
	var limited *signUpLimited
	if errors.As(err, &limited) {
		allowedOr429(c, false, limited.retryAfter)
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		// Where the client finds it among its own (and unlinks it).
		c.Header("Location", "/v1/client/me/identities/"+i.ID().String())
	}
	writeIdentity(c, status, i, nil)
}

// unlink checks the path before the nonce: a malformed ID is a 422, which
// spends no nonce.
func (h sessionHandlers) unlink(c *gin.Context) {
	var ps problems
	identityID := pathID[id.Identity](c, &ps, "identity_id")
	if !parsed(c, &ps) {
		return
	}
	i, err := h.clients.UnlinkIdentity(c.Request.Context(), clientPrincipal(c), c.GetHeader(wire.NonceHeader), identityID)
	writeIdentity(c, http.StatusOK, i, err)
}

// deletePlayer is in-app account deletion: 200 with the player as
// deleted, when it will be erased for good.
func (h sessionHandlers) deletePlayer(c *gin.Context) {
	p, err := h.clients.DeletePlayer(c.Request.Context(), clientPrincipal(c), c.GetHeader(wire.NonceHeader))
	writeOne(c, http.StatusOK, p, err, toPlayer)
}

func (h sessionHandlers) signOut(c *gin.Context) {
	if err := h.clients.SignOut(c.Request.Context(), clientPrincipal(c)); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h sessionHandlers) create(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateIdentitySessionRequest
	identityID := bodyID[id.Identity](fieldsOf(b, &req), &req.IdentityID)
	if !parsed(c, &ps) {
		return
	}
	t, err := h.admin.Create(c.Request.Context(), principal(c), identityID)
	h.created(c, t, err)
}

func (h sessionHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListSessions{
		AccountID:  queryID[id.Account](c, &ps, "account_id"),
		IdentityID: queryID[id.Identity](c, &ps, "identity_id"),
		Page:       pageParams(c, &ps),
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.admin.List(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toIdentitySession)
}

func (h sessionHandlers) get(c *gin.Context) {
	var ps problems
	q := ports.GetSession{
		ID:        pathID[id.Session](c, &ps, "session_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	if !parsed(c, &ps) {
		return
	}
	s, err := h.admin.Get(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, s, err, toIdentitySession)
}

// revoke answers 200 with the session, not 204: the caller sees when it was
// revoked, and revoking it again answers the same.
func (h sessionHandlers) revoke(c *gin.Context) {
	var ps problems
	q := ports.GetSession{
		ID:        pathID[id.Session](c, &ps, "session_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	if !parsed(c, &ps) {
		return
	}
	s, err := h.admin.Revoke(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, s, err, toIdentitySession)
}

// seconds is a lifetime as expires_in counts it, rounded down: a client
// that refreshes when it runs out is never late.
func seconds(d time.Duration) int { return int(d / time.Second) }

func toSignIn(t ports.Tokens) wire.SignInResponse {
	r := wire.SignInResponse{
		SessionID: t.Session.ID().String(), AccessToken: t.AccessToken, TokenType: "Bearer",
		ExpiresIn: seconds(t.AccessTTL), RefreshToken: t.RefreshToken, RefreshExpiresIn: seconds(t.RefreshTTL),
	}
	if t.Identity != nil {
		r.Identity = toIdentity(t.Identity)
	}
	return r
}

func toTokens(t ports.Tokens) wire.RefreshResponse {
	return wire.RefreshResponse{
		SessionID: t.Session.ID().String(), AccessToken: t.AccessToken, TokenType: "Bearer",
		ExpiresIn: seconds(t.AccessTTL), RefreshToken: t.RefreshToken, RefreshExpiresIn: seconds(t.RefreshTTL),
	}
}

// A session's events hold it as the admin answers do: no token.
var _ = eventResource(toIdentitySession)

func toIdentitySession(s *session.Session) wire.IdentitySession {
	return wire.IdentitySession{
		ID: s.ID().String(), IdentityID: s.IdentityID().String(), AccountID: s.AccountID().String(), GameID: s.GameID().String(),
		ExpiresAt: wireTime(s.ExpiresAt()), RefreshExpiresAt: wireTime(s.RefreshExpiresAt()), RevokedAt: optionalWireTime(s.RevokedAt()),
		CreatedAt: wireTime(s.CreatedAt()), UpdatedAt: wireTime(s.UpdatedAt()),
	}
}
