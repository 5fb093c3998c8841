package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/application/sealing"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

func init() {
	sliceRoutes = append(sliceRoutes, func(e *env) httpapi.Routes {
		svc := newSessionService(e)
		return httpapi.SessionRoutes(svc, svc)
	})
}

// testSigningKey signs every test service's tokens.
var testSigningKey = apptest.NewSigningKey()

// The contract's default lifetimes, so that expires_in is its 900.
var testLifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}

func newSessionService(e *env) *appsession.Service {
	signer := tokens.New(testSigningKey, tokens.DefaultIssuer, tokens.WithClock(e.now))
	return appsession.NewService(appsession.Deps{
		Sessions:    e.mem.Sessions(),
		Identities:  e.mem.Identities(),
		GetOrCreate: appidentity.NewService(e.mem.Identities(), e.mem.Tenancy(), e.codec, e.now),
		Games:       e.mem.Games(),
		Cipher:      sealing.NewCipher([]byte(testEncryptionKey)),
		Steam:       steamTickets{},
		Tokens:      signer,
		Hasher:      e.hasher,
		Cursors:     e.codec,
		Now:         e.now,
		Lifetimes:   testLifetimes,
		// The player use cases behind the client's links and in-app
		// deletion, and the repository that tells whom a ban keeps out.
		Players:          newPlayerService(e),
		PlayerRepository: e.mem.Players(),
	})
}

// Steam tickets the fake Steam knows; any other is refused.
const (
	ticketOK          = "a0b1c2d3"
	ticketBanned      = "bad0bad0"
	ticketUnavailable = "5107"
	steamPlayerID     = "76561197960287930"
)

// steamTickets is Steam's Web API as the use cases see it: each ticket has
// one answer, so that no test needs state of its own.
type steamTickets struct{}

func (steamTickets) Authenticate(_ context.Context, appID, webAPIKey, ticket string) (ports.SteamPlayer, error) {
	if appID != "480" || !strings.EqualFold(webAPIKey, steamKey) {
		return ports.SteamPlayer{}, fmt.Errorf("steam fake: app %s and its key were not the game's", appID)
	}
	switch ticket {
	case ticketOK:
		return ports.SteamPlayer{SteamID: steamPlayerID}, nil
	case ticketBanned:
		return ports.SteamPlayer{SteamID: steamPlayerID, PublisherBanned: true}, nil
	case ticketUnavailable:
		return ports.SteamPlayer{}, session.ErrSteamUnavailable
	}
	return ports.SteamPlayer{}, session.ErrSteamTicketInvalid
}

var sessionIDPattern = regexp.MustCompile(`^ses_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// signedIn is a game client's session as its sign-in answered it.
type signedIn struct {
	response
	access, refresh, id string
}

// signIn signs a DEVICE in to the tenant's game.
func (e *env) signIn(t tenant, device string) signedIn {
	e.t.Helper()
	r := e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": t.game, "kind": "DEVICE", "external_key": device}).
		want(e.t, http.StatusCreated)
	return signedIn{response: r, access: r.str("access_token"), refresh: r.str("refresh_token"), id: r.str("session_id")}
}

// as sends a request with an access token.
func (e *env) as(token, method, path string, body any, headers ...string) response {
	e.t.Helper()
	return e.do(method, path, "", body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// raw sends a request to h and returns the answer whatever its content.
func raw(t *testing.T, h http.Handler, method, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wantBearerChallenge checks a 401 of the bearer check.
func wantBearerChallenge(t *testing.T, r response, detail string) {
	t.Helper()
	r.want(t, http.StatusUnauthorized, detail)
	if got := r.header.Get("WWW-Authenticate"); got != "Bearer" {
		t.Fatalf("WWW-Authenticate %q on a bearer 401", got)
	}
}

// wantNoChallenge checks an error that no bearer token would change.
func wantNoChallenge(t *testing.T, r response) {
	t.Helper()
	if got := r.header.Get("WWW-Authenticate"); got != "" {
		t.Fatalf("WWW-Authenticate %q on a %d that is not the bearer check's: %s", got, r.status, r.raw)
	}
}

func TestClientSignIn(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	name := "Ada"
	r := e.do("POST", "/v1/client/sessions", "", map[string]any{
		"game_id": acme.game, "kind": "DEVICE", "external_key": "3f2a9c1e-device", "display_name": name,
	}).want(t, http.StatusCreated)

	if want := []string{"access_token", "expires_in", "identity", "refresh_expires_in", "refresh_token", "session_id", "token_type"}; !slices.Equal(keysOf(r.body), want) {
		t.Fatalf("fields %v, want %v", keysOf(r.body), want)
	}
	if !sessionIDPattern.MatchString(r.str("session_id")) || r.str("token_type") != "Bearer" ||
		r.body["expires_in"] != 900.0 || r.body["refresh_expires_in"] != 2592000.0 ||
		r.str("access_token") == "" || r.str("refresh_token") == "" || r.str("access_token") == r.str("refresh_token") {
		t.Fatalf("sign-in answer: %s", r.raw)
	}
	// The keys in the contract's order: clients that read it as a stream
	// find the session first.
	if i, j := strings.Index(r.raw, `"session_id"`), strings.Index(r.raw, `"identity"`); i != 1 || j < i {
		t.Fatalf("key order: %s", r.raw)
	}
	ident := r.body["identity"].(map[string]any)
	if ident["kind"] != "DEVICE" || ident["external_key"] != "3f2a9c1e-device" || ident["display_name"] != name || ident["game_id"] != acme.game || ident["account_id"] != acme.account {
		t.Fatalf("identity: %v", ident)
	}
	if loc := r.header.Get("Location"); loc != "/v1/identity-sessions/"+r.str("session_id") {
		t.Fatalf("Location %q", loc)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q on an answer with tokens", cc)
	}
	wantNoChallenge(t, r)
	// The identity is the one POST /v1/identities would have made, and the
	// Location names the session for admins.
	got := e.do("GET", "/v1/identities/"+ident["id"].(string), acme.key, nil).want(t, http.StatusOK)
	if len(got.body) != len(ident) || got.str("id") != ident["id"] || got.str("display_name") != name {
		t.Fatalf("GET identity %s, sign-in's %v", got.raw, ident)
	}
	s := e.do("GET", r.header.Get("Location"), acme.key, nil).want(t, http.StatusOK)
	if s.str("identity_id") != ident["id"] || s.str("game_id") != acme.game {
		t.Fatalf("the session at Location: %s", s.raw)
	}

	t.Run("again: the same identity, a new session", func(t *testing.T) {
		again := e.signIn(acme, "3f2a9c1e-device")
		if again.id == r.str("session_id") || again.body["identity"].(map[string]any)["id"] != ident["id"] {
			t.Fatalf("second sign-in: %s", again.raw)
		}
	})

	t.Run("an API key is neither needed nor used", func(t *testing.T) {
		other := e.newTenant("other")
		e.do("POST", "/v1/client/sessions", other.key, map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "keyed-device-1"}).
			want(t, http.StatusCreated)
		e.do("POST", "/v1/client/sessions", "ldr_not-a-key", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "keyed-device-2"}).
			want(t, http.StatusCreated)
	})

	t.Run("422", func(t *testing.T) {
		e.do("POST", "/v1/client/sessions", "", nil).wantProblem(t, "missing", "body")
		e.do("POST", "/v1/client/sessions", "", "[1]").wantProblem(t, "model_attributes_type", "body")
		r := e.do("POST", "/v1/client/sessions", "", map[string]any{})
		r.wantProblem(t, "missing", "body", "game_id")
		r.wantProblem(t, "missing", "body", "kind")
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": "ide_0195f2a0-0000-7000-8000-000000000001", "kind": "DEVICE", "external_key": "3f2a9c1e-device"}).
			problems(t)
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "PHONE", "external_key": "3f2a9c1e-device"}).problems(t)
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE"}).wantProblem(t, "missing", "body", "external_key")
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "short"}).problems(t)
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "3f2a9c1e-device", "display_name": " "}).problems(t)
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "STEAM"}).wantProblem(t, "missing", "body", "steam_ticket")
		// CUSTOM identities get sessions from the studio's backend only.
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "CUSTOM", "external_key": "player-42"}).problems(t)
		// Validation comes before existence: an unknown game with a bad
		// body is a 422.
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": unknownGame, "kind": "DEVICE"}).problems(t)
	})

	t.Run("a Steam ticket is never echoed", func(t *testing.T) {
		secret := "fedcba9876543210fedcba9876543210zz" // not hex: refused
		for _, body := range []any{
			map[string]any{"game_id": acme.game, "kind": "STEAM", "steam_ticket": secret},
			map[string]any{"game_id": acme.game, "kind": "STEAM", "steam_ticket": []any{secret}},
			map[string]any{"game_id": "nope", "kind": "STEAM", "steam_ticket": secret},
		} {
			r := e.do("POST", "/v1/client/sessions", "", body)
			r.problems(t)
			if strings.Contains(r.raw, secret) {
				t.Fatalf("the ticket is in the 422: %s", r.raw)
			}
		}
	})

	t.Run("a device ID is never echoed", func(t *testing.T) {
		// A device ID is the credential of a DEVICE sign-in: whoever reads
		// a 422 (a proxy's log) must not be able to sign in with it.
		secret := "sEcReT-dEvIcE"
		for name, body := range map[string]any{
			"too short":            map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": secret[:6]},
			"with a space":         map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": secret + " 1"},
			"not a string":         map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": []any{secret}},
			"another field wrong":  map[string]any{"game_id": "nope", "kind": "DEVICE", "external_key": secret},
			"a field missing":      map[string]any{"kind": "DEVICE", "external_key": secret},
			"with a bad name":      map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": secret, "display_name": ""},
			"of an unknown kind":   map[string]any{"game_id": acme.game, "kind": "PHONE", "external_key": secret},
			"not a JSON object":    `["` + secret + `"]`,
			"of an unknown game":   map[string]any{"game_id": unknownGame, "kind": "DEVICE", "external_key": secret[:6]},
			"a Steam sign-in's":    map[string]any{"game_id": acme.game, "kind": "STEAM", "external_key": secret},
			"beside a bad ticket":  map[string]any{"game_id": acme.game, "kind": "STEAM", "steam_ticket": "zz", "external_key": secret},
			"with a missing field": map[string]any{"game_id": acme.game, "external_key": secret},
		} {
			r := e.do("POST", "/v1/client/sessions", "", body)
			r.problems(t)
			if strings.Contains(strings.ToLower(r.raw), "secret") {
				t.Fatalf("%s: the device ID is in the 422: %s", name, r.raw)
			}
		}
		// Where the device ID itself is refused, the problem says so.
		r := e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": secret[:6]})
		if p := r.wantProblem(t, "value_error", "body", "external_key"); p["input"] != "[redacted]" {
			t.Fatalf("problem %v, want its input redacted", p)
		}
	})

	t.Run("404", func(t *testing.T) {
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": unknownGame, "kind": "DEVICE", "external_key": "3f2a9c1e-device"}).
			want(t, http.StatusNotFound, "Game not found")
		g := e.newGame(acme, map[string]any{"name": "Gone"})
		e.do("PATCH", "/v1/games/"+g.str("id"), acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": g.str("id"), "kind": "DEVICE", "external_key": "3f2a9c1e-device"}).
			want(t, http.StatusNotFound, "Game not found")
	})

	t.Run("413", func(t *testing.T) {
		big := `{"game_id": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
		e.do("POST", "/v1/client/sessions", "", big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	})

	t.Run("Steam", func(t *testing.T) {
		steam := func(game, ticket string) response {
			return e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": game, "kind": "STEAM", "steam_ticket": ticket})
		}
		wantNoChallenge(t, steam(acme.game, ticketOK).want(t, http.StatusBadRequest, "Steam sign-in is not configured for this game"))
		g := e.newGame(acme, map[string]any{"name": "Steamy", "steam_app_id": "480", "steam_web_api_key": steamKey}).str("id")
		r := steam(g, ticketOK).want(t, http.StatusCreated)
		// The SteamID64 is Steam's answer, never the client's word.
		if i := r.body["identity"].(map[string]any); i["kind"] != "STEAM" || i["external_key"] != steamPlayerID {
			t.Fatalf("Steam identity: %s", r.raw)
		}
		e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": g, "kind": "STEAM", "steam_ticket": ticketOK, "external_key": "76561197960287931"}).
			want(t, http.StatusCreated)
		wantNoChallenge(t, steam(g, "0123abcd").want(t, http.StatusUnauthorized, "Invalid Steam ticket"))
		steam(g, ticketBanned).want(t, http.StatusForbidden, "Steam account is banned")
		steam(g, ticketUnavailable).want(t, http.StatusServiceUnavailable, "Steam is unavailable")
	})
}

func TestClientRefresh(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	e.clock.Advance(time.Minute)

	r := e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).want(t, http.StatusOK)
	if want := []string{"access_token", "expires_in", "refresh_expires_in", "refresh_token", "session_id", "token_type"}; !slices.Equal(keysOf(r.body), want) {
		t.Fatalf("fields %v, want the sign-in's without identity %v", keysOf(r.body), want)
	}
	if r.str("session_id") != s.id || r.str("token_type") != "Bearer" || r.body["expires_in"] != 900.0 || r.body["refresh_expires_in"] != 2592000.0 ||
		r.str("refresh_token") == s.refresh || r.str("access_token") == s.access {
		t.Fatalf("refresh answer: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Location") != "" {
		t.Fatalf("headers %v", r.header)
	}
	e.as(r.str("access_token"), "GET", "/v1/client/me", nil).want(t, http.StatusOK)
	// The session's expiry moved with the new access token.
	adm := e.do("GET", "/v1/identity-sessions/"+s.id, acme.key, nil).want(t, http.StatusOK)
	if adm.str("expires_at") != e.clock.Now().Add(15*time.Minute).Format(time.RFC3339) {
		t.Fatalf("expires_at %s", adm.str("expires_at"))
	}

	t.Run("reuse of a rotated token revokes the session", func(t *testing.T) {
		wantNoChallenge(t, e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).
			want(t, http.StatusUnauthorized, "Invalid or expired refresh token"))
		wantBearerChallenge(t, e.as(r.str("access_token"), "GET", "/v1/client/me", nil), "Invalid or expired access token")
		e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": r.str("refresh_token")}).
			want(t, http.StatusUnauthorized, "Invalid or expired refresh token")
		if e.do("GET", "/v1/identity-sessions/"+s.id, acme.key, nil).want(t, http.StatusOK).body["revoked_at"] == nil {
			t.Fatal("the session is not revoked")
		}
	})

	t.Run("401", func(t *testing.T) {
		for _, token := range []string{"", "unknown", s.access} {
			e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": token}).
				want(t, http.StatusUnauthorized, "Invalid or expired refresh token")
		}
		// An expired refresh token.
		old := e.signIn(acme, "3f2a9c1e-device")
		e.clock.Advance(721 * time.Hour)
		e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": old.refresh}).
			want(t, http.StatusUnauthorized, "Invalid or expired refresh token")
	})

	t.Run("422, without echoing the token", func(t *testing.T) {
		e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{}).wantProblem(t, "missing", "body", "refresh_token")
		e.do("POST", "/v1/client/sessions/refresh", "", nil).wantProblem(t, "missing", "body")
		fresh := e.signIn(acme, "3f2a9c1e-device")
		for _, body := range []any{
			map[string]any{"refresh_token": []any{fresh.refresh}},
			map[string]any{"refresh_token": map[string]any{"t": fresh.refresh}},
			`"` + fresh.refresh + `"`,
		} {
			r := e.do("POST", "/v1/client/sessions/refresh", "", body)
			r.problems(t)
			if strings.Contains(r.raw, fresh.refresh) {
				t.Fatalf("the refresh token is in the 422: %s", r.raw)
			}
		}
	})
}

// The bearer check: every client endpoint but sign-in and refresh wants an
// access token, checked right after the route and before anything else.
func TestClientBearer(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	endpoints := []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/client/me", nil},
		{"PATCH", "/v1/client/me", "not json"},
		{"GET", "/v1/client/nonce", nil},
		{"DELETE", "/v1/client/sessions/current", nil},
	}
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", s.access} {
				r := e.do(ep.method, ep.path, "", ep.body, "Authorization", h)
				wantBearerChallenge(t, r, "Access token required")
			}
			// An API key is not an access token.
			wantBearerChallenge(t, e.do(ep.method, ep.path, acme.key, ep.body), "Access token required")
			for _, token := range []string{"garbage", s.refresh, s.access + "x", strings.ToUpper(s.access)} {
				wantBearerChallenge(t, e.as(token, ep.method, ep.path, ep.body), "Invalid or expired access token")
			}
		})
	}

	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		e.do("GET", "/v1/client/me", "", nil, "Authorization", "bearer "+s.access).want(t, http.StatusOK)
		e.do("GET", "/v1/client/me", "", nil, "Authorization", "BEARER  "+s.access).want(t, http.StatusOK)
	})

	t.Run("routes come first", func(t *testing.T) {
		e.do("GET", "/v1/client/unknown", "", nil).want(t, http.StatusNotFound, "Not Found")
		e.do("PUT", "/v1/client/me", "", nil).want(t, http.StatusMethodNotAllowed, "Method Not Allowed")
		e.do("GET", "/v1/client/sessions", "", nil).want(t, http.StatusMethodNotAllowed, "Method Not Allowed")
	})

	t.Run("an expired token", func(t *testing.T) {
		s := e.signIn(acme, "3f2a9c1e-device")
		e.clock.Advance(15*time.Minute + time.Second)
		wantBearerChallenge(t, e.as(s.access, "GET", "/v1/client/me", nil), "Invalid or expired access token")
		// Its refresh token still works.
		r := e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).want(t, http.StatusOK)
		e.as(r.str("access_token"), "GET", "/v1/client/me", nil).want(t, http.StatusOK)
	})

	t.Run("a deleted identity's token", func(t *testing.T) {
		s := e.signIn(acme, "deleted-device")
		id := s.body["identity"].(map[string]any)["id"].(string)
		e.do("PATCH", "/v1/identities/"+id, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
		wantBearerChallenge(t, e.as(s.access, "GET", "/v1/client/me", nil), "Invalid or expired access token")
	})

	t.Run("admin endpoints take no access token", func(t *testing.T) {
		s := e.signIn(acme, "3f2a9c1e-device")
		r := e.as(s.access, "GET", "/v1/identity-sessions", nil).want(t, http.StatusUnauthorized, "API key required")
		wantNoChallenge(t, r)
		wantNoChallenge(t, e.do("GET", "/v1/identity-sessions", "ldr_nope", nil).want(t, http.StatusUnauthorized, "Invalid or expired API key"))
		// Given both, an admin endpoint uses the key and ignores the token.
		e.as(s.access, "GET", "/v1/identity-sessions/"+s.id, nil, "leadr-api-key", acme.key, "leadr-client-nonce", "x").want(t, http.StatusOK)
	})
}

func TestClientMe(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	id := s.body["identity"].(map[string]any)["id"].(string)
	me := e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK)
	if admin := e.do("GET", "/v1/identities/"+id, acme.key, nil).want(t, http.StatusOK); me.raw != admin.raw {
		t.Fatalf("me %s\nadmin %s", me.raw, admin.raw)
	}
	wantNoChallenge(t, me)
}

func TestClientNonceAndRename(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	nonce := func(s signedIn) string {
		t.Helper()
		r := e.as(s.access, "GET", "/v1/client/nonce", nil).want(t, http.StatusOK)
		if want := []string{"expires_at", "nonce_value"}; !slices.Equal(keysOf(r.body), want) {
			t.Fatalf("fields %v, want %v", keysOf(r.body), want)
		}
		if r.str("expires_at") != e.clock.Now().Add(60*time.Second).Format(time.RFC3339) || r.str("nonce_value") == "" {
			t.Fatalf("nonce %s", r.raw)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatal("a nonce answer may be cached")
		}
		return r.str("nonce_value")
	}
	rename := func(s signedIn, name any, nonce ...string) response {
		t.Helper()
		var headers []string
		if len(nonce) > 0 {
			headers = []string{"leadr-client-nonce", nonce[0]}
		}
		return e.as(s.access, "PATCH", "/v1/client/me", map[string]any{"display_name": name}, headers...)
	}

	n := nonce(s)
	r := rename(s, "  Grace\u0308  ", n).want(t, http.StatusOK)
	if r.str("display_name") != "Gracë" || r.str("kind") != "DEVICE" || len(r.body) != 9 {
		t.Fatalf("renamed: %s", r.raw)
	}
	if me := e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK); me.raw != r.raw {
		t.Fatalf("me after rename %s", me.raw)
	}

	t.Run("412", func(t *testing.T) {
		rename(s, "Ada").want(t, http.StatusPreconditionFailed, "Nonce required")
		rename(s, "Ada", "").want(t, http.StatusPreconditionFailed, "Nonce required")
		rename(s, "Ada", "made-up").want(t, http.StatusPreconditionFailed, "Invalid nonce")
		rename(s, "Ada", n).want(t, http.StatusPreconditionFailed, "Nonce already used")
		other := e.signIn(acme, "another-device")
		rename(s, "Ada", nonce(other)).want(t, http.StatusPreconditionFailed, "Invalid nonce")
		stale := nonce(s)
		e.clock.Advance(61 * time.Second)
		rename(s, "Ada", stale).want(t, http.StatusPreconditionFailed, "Nonce expired")
		wantNoChallenge(t, rename(s, "Ada"))
	})

	t.Run("validation comes before the nonce", func(t *testing.T) {
		s := e.signIn(acme, "3f2a9c1e-device")
		rename(s, "", "").problems(t)
		rename(s, strings.Repeat("x", 65)).problems(t)
		rename(s, nil).wantProblem(t, "string_type", "body", "display_name")
		rename(s, 42).wantProblem(t, "string_type", "body", "display_name")
		e.as(s.access, "PATCH", "/v1/client/me", map[string]any{}).wantProblem(t, "missing", "body", "display_name")
		e.as(s.access, "PATCH", "/v1/client/me", nil).wantProblem(t, "missing", "body")
		// A nonce spent on a refused name would be lost: it is not.
		n := nonce(s)
		rename(s, " ", n).problems(t)
		rename(s, "Ada", n).want(t, http.StatusOK)
	})

	t.Run("413", func(t *testing.T) {
		big := `{"display_name": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
		e.as(s.access, "PATCH", "/v1/client/me", big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	})

	t.Run("one use, under concurrency", func(t *testing.T) {
		s := e.signIn(acme, "3f2a9c1e-device")
		n := nonce(s)
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = e.as(s.access, "PATCH", "/v1/client/me", map[string]any{"display_name": fmt.Sprint("P", i)}, "leadr-client-nonce", n).status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusPreconditionFailed || statuses[len(statuses)-1] != http.StatusPreconditionFailed {
			t.Fatalf("statuses %v: want one 200, the rest 412", statuses)
		}
	})
}

func TestClientSignOut(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	rec := raw(t, e.router, "DELETE", "/v1/client/sessions/current", "Authorization", "Bearer "+s.access)
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("sign-out: %d %q", rec.Code, rec.Body.String())
	}
	wantBearerChallenge(t, e.as(s.access, "GET", "/v1/client/me", nil), "Invalid or expired access token")
	wantBearerChallenge(t, e.as(s.access, "DELETE", "/v1/client/sessions/current", nil), "Invalid or expired access token")
	e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).
		want(t, http.StatusUnauthorized, "Invalid or expired refresh token")
	r := e.do("GET", "/v1/identity-sessions/"+s.id, acme.key, nil).want(t, http.StatusOK)
	if r.str("revoked_at") != e.clock.Now().Format(time.RFC3339) {
		t.Fatalf("revoked_at %v", r.body["revoked_at"])
	}
	// Other sessions of the identity go on.
	other := e.signIn(acme, "3f2a9c1e-device")
	e.as(other.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK)
}

func TestIdentitySessions(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	custom := e.newIdentity(acme, map[string]any{"kind": "CUSTOM", "external_key": "player-42", "display_name": "Grace"})

	created := e.do("POST", "/v1/identity-sessions", acme.key, map[string]any{"identity_id": custom.str("id")}).want(t, http.StatusCreated)
	if want := []string{"access_token", "expires_in", "identity", "refresh_expires_in", "refresh_token", "session_id", "token_type"}; !slices.Equal(keysOf(created.body), want) {
		t.Fatalf("fields %v, want the sign-in's %v", keysOf(created.body), want)
	}
	sid := created.str("session_id")
	if loc := created.header.Get("Location"); loc != "/v1/identity-sessions/"+sid || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", created.header)
	}
	if created.body["identity"].(map[string]any)["id"] != custom.str("id") {
		t.Fatalf("identity %v", created.body["identity"])
	}
	// The studio's backend hands the tokens to its game client.
	if me := e.as(created.str("access_token"), "GET", "/v1/client/me", nil).want(t, http.StatusOK); me.raw != custom.raw {
		t.Fatalf("me %s, want %s", me.raw, custom.raw)
	}

	got := e.do("GET", "/v1/identity-sessions/"+sid, acme.key, nil).want(t, http.StatusOK)
	if want := []string{"account_id", "created_at", "expires_at", "game_id", "id", "identity_id", "refresh_expires_at", "revoked_at", "updated_at"}; !slices.Equal(keysOf(got.body), want) {
		t.Fatalf("fields %v, want %v", keysOf(got.body), want)
	}
	now := e.clock.Now()
	want := map[string]any{
		"id": sid, "identity_id": custom.str("id"), "account_id": acme.account, "game_id": acme.game, "revoked_at": nil,
		"expires_at": now.Add(15 * time.Minute).Format(time.RFC3339), "refresh_expires_at": now.Add(720 * time.Hour).Format(time.RFC3339),
		"created_at": now.Format(time.RFC3339), "updated_at": now.Format(time.RFC3339),
	}
	for k, v := range want {
		if got.body[k] != v {
			t.Errorf("%s = %v, want %v", k, got.body[k], v)
		}
	}
	if strings.Contains(got.raw, created.str("access_token")) || strings.Contains(got.raw, created.str("refresh_token")) {
		t.Fatal("the admin view shows tokens")
	}
	e.do("GET", "/v1/identity-sessions/"+sid, e.super, nil).want(t, http.StatusOK)

	t.Run("create: errors", func(t *testing.T) {
		e.do("POST", "/v1/identity-sessions", "", map[string]any{"identity_id": custom.str("id")}).want(t, http.StatusUnauthorized, "API key required")
		e.do("POST", "/v1/identity-sessions", acme.key, map[string]any{}).wantProblem(t, "missing", "body", "identity_id")
		e.do("POST", "/v1/identity-sessions", acme.key, map[string]any{"identity_id": acme.game}).problems(t)
		e.do("POST", "/v1/identity-sessions", acme.key, map[string]any{"identity_id": "ide_0195f2a0-0000-7000-8000-000000000009"}).
			want(t, http.StatusNotFound, "Identity not found")
		e.do("POST", "/v1/identity-sessions", other.key, map[string]any{"identity_id": custom.str("id")}).
			want(t, http.StatusForbidden, "You do not have access to this identity's account")
		e.do("POST", "/v1/identity-sessions", acme.key, `{"identity_id": "`+strings.Repeat("x", httpapi.MaxBodyBytes)+`"}`).
			want(t, http.StatusRequestEntityTooLarge)
	})

	t.Run("get: errors", func(t *testing.T) {
		e.do("GET", "/v1/identity-sessions/"+sid, "", nil).want(t, http.StatusUnauthorized, "API key required")
		e.do("GET", "/v1/identity-sessions/"+sid, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this session's account")
		e.do("GET", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000009", acme.key, nil).want(t, http.StatusNotFound, "Session not found")
		e.do("GET", "/v1/identity-sessions/"+custom.str("id"), acme.key, nil).wantProblem(t, "value_error", "path", "session_id")
	})

	t.Run("list", func(t *testing.T) {
		second := e.signIn(acme, "3f2a9c1e-device")
		e.clock.Advance(time.Second)
		third := e.signIn(acme, "3f2a9c1e-device")
		e.signIn(other, "3f2a9c1e-device")
		page := e.do("GET", "/v1/identity-sessions", acme.key, nil).want(t, http.StatusOK)
		if got := column(page, "id"); !slices.Equal(got, []string{third.id, second.id, sid}) && !slices.Equal(got, []string{third.id, sid, second.id}) {
			t.Fatalf("acme's sessions, newest first: %v", got)
		}
		deviceIdentity := second.body["identity"].(map[string]any)["id"].(string)
		if got := column(e.do("GET", "/v1/identity-sessions?identity_id="+deviceIdentity, acme.key, nil).want(t, http.StatusOK), "id"); !slices.Equal(got, []string{third.id, second.id}) {
			t.Fatalf("by identity: %v", got)
		}
		if got := column(e.do("GET", "/v1/identity-sessions?account_id="+other.account, e.super, nil).want(t, http.StatusOK), "account_id"); len(got) != 1 || got[0] != other.account {
			t.Fatalf("by account: %v", got)
		}
		if n := len(column(e.do("GET", "/v1/identity-sessions", e.super, nil).want(t, http.StatusOK), "id")); n != 4 {
			t.Fatalf("a superadmin sees %d sessions, want 4", n)
		}
		first := e.do("GET", "/v1/identity-sessions?limit=2&sort=created_at:asc", acme.key, nil).want(t, http.StatusOK)
		pg := first.body["pagination"].(map[string]any)
		if pg["has_next"] != true || pg["count"] != 2.0 {
			t.Fatalf("page 1: %s", first.raw)
		}
		next := e.do("GET", "/v1/identity-sessions?limit=2&sort=created_at:asc&cursor="+pg["next_cursor"].(string), acme.key, nil).want(t, http.StatusOK)
		if got := column(next, "id"); !slices.Equal(got, []string{third.id}) {
			t.Fatalf("page 2: %v", got)
		}
		e.do("GET", "/v1/identity-sessions?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("GET", "/v1/identity-sessions", "", nil).want(t, http.StatusUnauthorized, "API key required")
		e.do("GET", "/v1/identity-sessions?limit=0", acme.key, nil).wantProblem(t, "greater_than_equal", "query", "limit")
		e.do("GET", "/v1/identity-sessions?identity_id=nope", acme.key, nil).wantProblem(t, "value_error", "query", "identity_id")
		e.do("GET", "/v1/identity-sessions?account_id=nope", acme.key, nil).wantProblem(t, "value_error", "query", "account_id")
		e.do("GET", "/v1/identity-sessions?sort=expires_at:asc", acme.key, nil).want(t, http.StatusBadRequest)
	})

	t.Run("revoke", func(t *testing.T) {
		e.do("DELETE", "/v1/identity-sessions/"+sid, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this session's account")
		e.as(created.str("access_token"), "GET", "/v1/client/me", nil).want(t, http.StatusOK)
		e.clock.Advance(time.Minute)
		r := e.do("DELETE", "/v1/identity-sessions/"+sid, acme.key, nil).want(t, http.StatusOK)
		if r.str("revoked_at") != e.clock.Now().Format(time.RFC3339) || r.str("updated_at") != r.str("revoked_at") || r.str("id") != sid {
			t.Fatalf("revoked: %s", r.raw)
		}
		wantBearerChallenge(t, e.as(created.str("access_token"), "GET", "/v1/client/me", nil), "Invalid or expired access token")
		e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": created.str("refresh_token")}).
			want(t, http.StatusUnauthorized, "Invalid or expired refresh token")
		e.clock.Advance(time.Minute)
		if again := e.do("DELETE", "/v1/identity-sessions/"+sid, acme.key, nil).want(t, http.StatusOK); again.raw != r.raw {
			t.Fatalf("revoked again: %s, first %s", again.raw, r.raw)
		}
		if g := e.do("GET", "/v1/identity-sessions/"+sid, acme.key, nil).want(t, http.StatusOK); g.raw != r.raw {
			t.Fatalf("GET after revoke: %s", g.raw)
		}
		e.do("DELETE", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000009", acme.key, nil).want(t, http.StatusNotFound, "Session not found")
		e.do("DELETE", "/v1/identity-sessions/nope", acme.key, nil).wantProblem(t, "value_error", "path", "session_id")
		e.do("DELETE", "/v1/identity-sessions/"+sid, "", nil).want(t, http.StatusUnauthorized, "API key required")
	})
}

// Tokens and nonces are secrets: no log line holds one.
func TestSessionSecretsStayOutOfTheLogs(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	r := e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).want(t, http.StatusOK)
	n := e.as(r.str("access_token"), "GET", "/v1/client/nonce", nil).want(t, http.StatusOK).str("nonce_value")
	e.as(r.str("access_token"), "PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}, "leadr-client-nonce", n).want(t, http.StatusOK)
	e.as("garbage-token", "GET", "/v1/client/me", nil).want(t, http.StatusUnauthorized)
	logs := e.logs.String()
	for _, secret := range []string{s.access, s.refresh, r.str("access_token"), r.str("refresh_token"), n, "garbage-token"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a secret is in the logs:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "/v1/client/me") {
		t.Fatal("no access log of the client endpoints")
	}
}

const (
	allowedOrigin = "https://play.example.com"
	otherOrigin   = "https://evil.example.com"
)

// corsEnv is e with a router that allows allowedOrigin.
func corsEnv(t *testing.T, origins ...string) *env {
	e := newEnv(t)
	e.router = newRouter(t, httpapi.Deps{
		Routes:             e.routes(),
		Authenticator:      auth.NewAuthenticator(e.mem.Tenancy(), e.hasher, e.now),
		Health:             e.pinger,
		Logger:             zap.NewNop(),
		CORSAllowedOrigins: origins,
	})
	return e
}

func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestCORS(t *testing.T) {
	e := corsEnv(t, "HTTPS://Play.Example.com:443")
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	preflight := func(origin, path, method string) *httptest.ResponseRecorder {
		return raw(t, e.router, "OPTIONS", path, "Origin", origin, "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", "authorization, content-type, leadr-client-nonce")
	}

	t.Run("an allowed origin", func(t *testing.T) {
		for _, c := range []struct{ path, methods string }{
			{"/v1/client/me", "GET, PATCH"},
			{"/v1/client/sessions", "POST"},
			{"/v1/client/sessions/refresh", "POST"},
			{"/v1/client/sessions/current", "DELETE"},
			{"/v1/client/nonce", "GET"},
		} {
			rec := preflight(allowedOrigin, c.path, strings.Split(c.methods, ", ")[0])
			h := rec.Header()
			if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
				t.Fatalf("preflight %s: %d %q", c.path, rec.Code, rec.Body.String())
			}
			if h.Get("Access-Control-Allow-Origin") != allowedOrigin || h.Get("Access-Control-Allow-Methods") != c.methods ||
				h.Get("Access-Control-Max-Age") == "" || h.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("preflight %s: %v", c.path, h)
			}
			for _, name := range []string{"authorization", "content-type", "leadr-client-nonce", "if-match", "if-none-match"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), name) {
					t.Fatalf("preflight %s: %s not allowed: %v", c.path, name, h)
				}
			}
			if !slices.Contains(h.Values("Vary"), "Origin") {
				t.Fatalf("preflight %s: Vary %v", c.path, h.Values("Vary"))
			}
		}
		for _, r := range []response{
			e.as(s.access, "GET", "/v1/client/me", nil, "Origin", allowedOrigin).want(t, http.StatusOK),
			// Errors too, so that the page can read them.
			e.do("GET", "/v1/client/me", "", nil, "Origin", allowedOrigin).want(t, http.StatusUnauthorized),
			e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "browser-device"}, "Origin", allowedOrigin).
				want(t, http.StatusCreated),
		} {
			h := r.header
			if h.Get("Access-Control-Allow-Origin") != allowedOrigin || h.Get("Access-Control-Allow-Credentials") != "" || !slices.Contains(h.Values("Vary"), "Origin") {
				t.Fatalf("%d: %v", r.status, h)
			}
			for _, name := range []string{"WWW-Authenticate", "X-Request-ID"} {
				if !strings.Contains(h.Get("Access-Control-Expose-Headers"), name) {
					t.Fatalf("%s is not exposed: %v", name, h)
				}
			}
		}
		// An endpoint that does not exist: the 404 the browser gets is readable.
		rec := preflight(allowedOrigin, "/v1/client/nothing", "GET")
		if rec.Code != http.StatusNotFound || rec.Header().Get("Access-Control-Allow-Origin") != allowedOrigin || rec.Header().Get("Access-Control-Allow-Methods") != "" {
			t.Fatalf("preflight of no endpoint: %d %v", rec.Code, rec.Header())
		}
		// An OPTIONS that is no preflight is an OPTIONS.
		if rec := raw(t, e.router, "OPTIONS", "/v1/client/me", "Origin", allowedOrigin); rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("OPTIONS without Access-Control-Request-Method: %d", rec.Code)
		}
	})

	t.Run("another origin gets no CORS headers", func(t *testing.T) {
		for _, origin := range []string{otherOrigin, "null", "http://play.example.com", "https://play.example.com.evil.example", allowedOrigin + ":8443"} {
			rec := preflight(origin, "/v1/client/me", "GET")
			if rec.Code != http.StatusForbidden || rec.Body.String() != `{"detail":"Origin not allowed"}` || len(corsHeaders(rec.Header())) > 0 {
				t.Fatalf("preflight from %s: %d %v %s", origin, rec.Code, rec.Header(), rec.Body.String())
			}
			r := e.as(s.access, "GET", "/v1/client/me", nil, "Origin", origin).want(t, http.StatusOK)
			if got := corsHeaders(r.header); len(got) > 0 {
				t.Fatalf("from %s: %v", origin, got)
			}
		}
		// Without Origin (not a browser's cross-origin request), nothing changes.
		if got := corsHeaders(e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK).header); len(got) > 0 {
			t.Fatalf("without Origin: %v", got)
		}
	})

	t.Run("admin endpoints never answer cross-origin", func(t *testing.T) {
		for _, path := range []string{"/v1/identities", "/v1/identity-sessions", "/v1/identity-sessions/" + s.id, "/v1/health", "/v1/clients", "/openapi.json"} {
			rec := preflight(allowedOrigin, path, "GET")
			if (rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound) || len(corsHeaders(rec.Header())) > 0 {
				t.Fatalf("preflight of %s: %d %v", path, rec.Code, rec.Header())
			}
			rec = raw(t, e.router, "GET", path, "Origin", allowedOrigin, "leadr-api-key", acme.key)
			if len(corsHeaders(rec.Header())) > 0 || rec.Header().Get("Vary") != "" {
				t.Fatalf("GET %s: %v", path, rec.Header())
			}
		}
	})

	t.Run("none allowed by default", func(t *testing.T) {
		e := newEnv(t)
		for _, origin := range []string{allowedOrigin, otherOrigin} {
			rec := raw(t, e.router, "OPTIONS", "/v1/client/sessions", "Origin", origin, "Access-Control-Request-Method", "POST")
			if rec.Code != http.StatusForbidden || len(corsHeaders(rec.Header())) > 0 {
				t.Fatalf("preflight from %s: %d %v", origin, rec.Code, rec.Header())
			}
		}
	})

	t.Run("origins that are not origins stop the start", func(t *testing.T) {
		for _, o := range []string{"*", "https://*.example.com", "play.example.com", "https://play.example.com/game", "ftp://play.example.com", "https://"} {
			_, err := httpapi.NewRouter(httpapi.Deps{Logger: zap.NewNop(), CORSAllowedOrigins: []string{o}})
			if err == nil {
				t.Fatalf("%q was accepted", o)
			}
		}
	})
}

// A 204 has no body, so the JSON helpers cannot read it; this checks its
// headers as well.
func TestClientSignOutAnswer(t *testing.T) {
	e := corsEnv(t, allowedOrigin)
	s := e.signIn(e.newTenant("acme"), "3f2a9c1e-device")
	rec := raw(t, e.router, "DELETE", "/v1/client/sessions/current", "Authorization", "Bearer "+s.access, "Origin", allowedOrigin)
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != http.StatusNoContent || len(body) != 0 || rec.Header().Get("Access-Control-Allow-Origin") != allowedOrigin {
		t.Fatalf("%d %v %q", rec.Code, rec.Header(), body)
	}
}
