package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi"
	appplayer "github.com/leadr-oss/identity/application/player"
	appsession "github.com/leadr-oss/identity/application/session"
)

func init() {
	sliceRoutes = append(sliceRoutes, func(e *env) httpapi.Routes {
		subscribeReactions(e)
		return httpapi.PlayerRoutes(newPlayerService(e))
	})
}

// testDeletionGrace is the contract's default LEADR_DELETION_GRACE.
const testDeletionGrace = 30 * 24 * time.Hour

func newPlayerService(e *env) *appplayer.Service {
	return appplayer.NewService(appplayer.Deps{
		Players: e.mem.Players(), Identities: e.mem.Identities(), Cursors: e.codec, Now: e.now, Grace: testDeletionGrace,
	})
}

// subscribed holds the fakes whose outbox has the slices' reactions: an
// env builds its routes more than once, and a second subscription would
// create every new identity's player twice.
var subscribed sync.Map // *apptest.Memory → struct{}

// subscribeReactions makes the env's fakes react as the service does: a
// new identity comes with its player, no session starts for a banned one,
// and a ban or a deletion ends the sessions it concerns.
func subscribeReactions(e *env) {
	if _, done := subscribed.LoadOrStore(e.mem, struct{}{}); done {
		return
	}
	e.t.Cleanup(func() { subscribed.Delete(e.mem) })
	for _, s := range slices.Concat(appplayer.Reactions(e.mem.Players(), e.now), appsession.Reactions(e.mem.Sessions())) {
		e.mem.Outbox().Subscribe(s)
	}
}

var (
	playerIDPattern = regexp.MustCompile(`^ply_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	banIDPattern    = regexp.MustCompile(`^ban_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	playerFields    = []string{"account_id", "ban", "created_at", "deleted_at", "game_id", "id", "identities", "purge_after", "updated_at"}
	tombstoneFields = []string{"account_id", "game_id", "id", "purged_at"}
	banFields       = []string{"actor", "created_at", "expires_at", "id", "lifted_at", "player_id", "reason", "updated_at"}
)

// Well-formed IDs that name nothing.
const (
	unknownPlayer   = "ply_0195f2a0-0000-7000-8000-000000000001"
	unknownIdentity = "ide_0195f2a0-0000-7000-8000-000000000001"
	unknownBan      = "ban_0195f2a0-0000-7000-8000-000000000001"
)

// playerOf creates a DEVICE identity and returns it and its player's ID.
func (e *env) playerOf(t tenant, device string) (identityID, playerID string) {
	e.t.Helper()
	r := e.newIdentity(t, map[string]any{"external_key": device})
	return r.str("id"), r.str("player_id")
}

// identityIDs lists the IDs of a player answer's identities.
func identityIDs(r response) []string {
	var out []string
	for _, i := range r.body["identities"].([]any) {
		out = append(out, i.(map[string]any)["id"].(string))
	}
	return out
}

// wantFields fails unless the object has exactly these fields.
func wantFields(t *testing.T, what string, obj map[string]any, want []string) {
	t.Helper()
	if got := keysOf(obj); !slices.Equal(got, want) {
		t.Fatalf("%s has fields %v, want %v", what, got, want)
	}
}

// stamp is a time as the API writes it.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func TestPlayerComesWithItsIdentity(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	i := e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
	playerID := i.str("player_id")
	// A new identity's player shares its UUID: the two come to exist together.
	if !playerIDPattern.MatchString(playerID) || strings.TrimPrefix(playerID, "ply_") != strings.TrimPrefix(i.str("id"), "ide_") {
		t.Fatalf("player_id %q of identity %q", playerID, i.str("id"))
	}
	if len(i.body) != 9 {
		t.Fatalf("IdentityResponse has %d fields, want 9: %s", len(i.body), i.raw)
	}
	p := e.do("GET", "/v1/players/"+playerID, acme.key, nil).want(t, http.StatusOK)
	wantFields(t, "PlayerResponse", p.body, playerFields)
	if p.str("id") != playerID || p.str("account_id") != acme.account || p.str("game_id") != acme.game ||
		p.body["ban"] != nil || p.body["deleted_at"] != nil || p.body["purge_after"] != nil ||
		p.str("created_at") != i.str("created_at") || !timestampPattern.MatchString(p.str("updated_at")) {
		t.Fatalf("player %s", p.raw)
	}
	if ids := identityIDs(p); !slices.Equal(ids, []string{i.str("id")}) {
		t.Fatalf("identities %v", ids)
	}
	// Its identities are the identity's answer exactly.
	ident, _ := p.body["identities"].([]any)[0].(map[string]any)
	if ident["external_key"] != "device-0001" || ident["player_id"] != playerID || len(ident) != len(i.body) {
		t.Fatalf("the player's identity %v", ident)
	}

	t.Run("refusals", func(t *testing.T) {
		other := e.newTenant("other")
		e.do("GET", "/v1/players/"+playerID, "", nil).want(t, http.StatusUnauthorized, "API key required")
		e.do("GET", "/v1/players/"+playerID, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this player's account")
		e.do("GET", "/v1/players/"+playerID+"?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("GET", "/v1/players/"+unknownPlayer, acme.key, nil).want(t, http.StatusNotFound, "Player not found")
		e.do("GET", "/v1/players/ply_nope", acme.key, nil).wantProblem(t, "value_error", "path", "player_id")
		e.do("GET", "/v1/players/"+i.str("id"), acme.key, nil).wantProblem(t, "value_error", "path", "player_id")
		e.do("GET", "/v1/players/"+playerID+"?account_id=acc_nope", acme.key, nil).wantProblem(t, "value_error", "query", "account_id")
		// A superadmin sees every account's.
		e.do("GET", "/v1/players/"+playerID, e.super, nil).want(t, http.StatusOK)
	})
}

func TestListPlayers(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	var players []string
	for _, d := range []string{"device-000a", "device-000b", "device-000c"} {
		_, p := e.playerOf(acme, d)
		players = append(players, p)
		e.clock.Advance(time.Second)
	}
	e.playerOf(other, "device-000a")

	list := func(query string, key string) response {
		t.Helper()
		return e.do("GET", "/v1/players"+query, key, nil)
	}
	r := list("", acme.key).want(t, http.StatusOK)
	// Newest first, by default.
	if got := column(r, "id"); !slices.Equal(got, []string{players[2], players[1], players[0]}) {
		t.Fatalf("listed %v, want %v", got, players)
	}
	wantFields(t, "a listed player", r.body["data"].([]any)[0].(map[string]any), playerFields)
	if n := list("", e.super).want(t, http.StatusOK).body["pagination"].(map[string]any)["count"]; n != 4.0 {
		t.Fatalf("a superadmin lists %v players of every account", n)
	}

	t.Run("pages", func(t *testing.T) {
		first := list("?limit=2&sort=created_at:asc", acme.key).want(t, http.StatusOK)
		pg := first.body["pagination"].(map[string]any)
		if got := column(first, "id"); !slices.Equal(got, players[:2]) || pg["has_next"] != true {
			t.Fatalf("first page %s", first.raw)
		}
		next := list("?limit=2&sort=created_at:asc&cursor="+pg["next_cursor"].(string), acme.key).want(t, http.StatusOK)
		if got := column(next, "id"); !slices.Equal(got, players[2:]) {
			t.Fatalf("second page %v", got)
		}
	})

	t.Run("filters", func(t *testing.T) {
		e.do("POST", "/v1/players/"+players[0]+"/bans", acme.key, map[string]any{"reason": "cheating"}).want(t, http.StatusCreated)
		e.do("DELETE", "/v1/players/"+players[1], acme.key, nil).want(t, http.StatusOK)
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"?game_id=" + acme.game, []string{players[2], players[0]}},
			{"?game_id=" + unknownGame, nil},
			{"?kind=DEVICE&external_key=device-000c", []string{players[2]}},
			{"?kind=STEAM&external_key=device-000c", nil},
			{"?banned=true", []string{players[0]}},
			{"?banned=false", []string{players[2]}},
			{"?deleted=true", []string{players[1]}},
			{"?deleted=false", []string{players[2], players[0]}},
		} {
			if got := column(list(c.query, acme.key).want(t, http.StatusOK), "id"); !slices.Equal(got, c.want) {
				t.Errorf("%s: listed %v, want %v", c.query, got, c.want)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		list("", "").want(t, http.StatusUnauthorized, "API key required")
		list("?account_id="+other.account, acme.key).want(t, http.StatusForbidden, "Access denied to the specified account")
		list("?kind=PHONE&external_key=x", acme.key).want(t, http.StatusBadRequest, "Invalid kind: PHONE. Must be one of: DEVICE, STEAM, CUSTOM")
		list("?external_key=device-000c", acme.key).want(t, http.StatusBadRequest)
		list("?sort=name:asc", acme.key).want(t, http.StatusBadRequest)
		list("?banned=maybe", acme.key).wantProblem(t, "bool_parsing", "query", "banned")
		list("?deleted=2", acme.key).wantProblem(t, "bool_parsing", "query", "deleted")
		list("?limit=0", acme.key).wantProblem(t, "greater_than_equal", "query", "limit")
		list("?game_id=gam_nope", acme.key).wantProblem(t, "value_error", "query", "game_id")
	})
}

func TestLinkIdentityToPlayer(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	a, playerA := e.playerOf(acme, "device-000a")
	b, playerB := e.playerOf(acme, "device-000b")
	link := func(playerID string, body any, key ...string) response {
		t.Helper()
		k := acme.key
		if len(key) > 0 {
			k = key[0]
		}
		return e.do("POST", "/v1/players/"+playerID+"/identities", k, body)
	}

	t.Run("one of its own already", func(t *testing.T) {
		r := link(playerA, map[string]any{"identity_id": a}).want(t, http.StatusOK)
		wantFields(t, "PlayerResponse", r.body, playerFields)
		if !slices.Equal(identityIDs(r), []string{a}) {
			t.Fatalf("linked %s", r.raw)
		}
	})

	t.Run("another player's without merge", func(t *testing.T) {
		r := link(playerA, map[string]any{"identity_id": b}).want(t, http.StatusConflict, "Identity belongs to another player")
		if r.raw != `{"detail":"Identity belongs to another player","player_id":"`+playerB+`"}` {
			t.Fatalf("409 body %s", r.raw)
		}
		if got := e.do("GET", "/v1/identities/"+b, acme.key, nil).want(t, http.StatusOK).str("player_id"); got != playerB {
			t.Fatalf("a refused link moved the identity to %s", got)
		}
	})

	t.Run("merge", func(t *testing.T) {
		r := link(playerA, map[string]any{"identity_id": b, "merge": true}).want(t, http.StatusOK)
		if ids := identityIDs(r); !slices.Equal(ids, []string{a, b}) || r.str("id") != playerA {
			t.Fatalf("merged %s", r.raw)
		}
		e.do("GET", "/v1/players/"+playerB, acme.key, nil).want(t, http.StatusNotFound, "Player not found")
		if got := e.do("GET", "/v1/identities/"+b, acme.key, nil).want(t, http.StatusOK).str("player_id"); got != playerA {
			t.Fatalf("the merged identity's player is %s", got)
		}
	})

	t.Run("not found", func(t *testing.T) {
		link(playerA, map[string]any{"identity_id": unknownIdentity}).want(t, http.StatusNotFound, "Identity not found")
		g := e.newGame(acme, map[string]any{"name": "Another game"})
		elsewhere := e.newIdentity(acme, map[string]any{"game_id": g.str("id"), "external_key": "device-000e"})
		link(playerA, map[string]any{"identity_id": elsewhere.str("id"), "merge": true}).want(t, http.StatusNotFound, "Identity not found")
		link(unknownPlayer, map[string]any{"identity_id": a}).want(t, http.StatusNotFound, "Player not found")
	})

	t.Run("refusals", func(t *testing.T) {
		link(playerA, map[string]any{"identity_id": a}, "").want(t, http.StatusUnauthorized, "API key required")
		link(playerA, map[string]any{"identity_id": a}, other.key).want(t, http.StatusForbidden, "You do not have access to this player's account")
		link(playerA, map[string]any{}).wantProblem(t, "missing", "body", "identity_id")
		link(playerA, map[string]any{"identity_id": "ide_nope"}).wantProblem(t, "value_error", "body", "identity_id")
		link(playerA, map[string]any{"identity_id": a, "merge": "maybe"}).wantProblem(t, "bool_parsing", "body", "merge")
		link("ply_nope", map[string]any{"identity_id": a}).wantProblem(t, "value_error", "path", "player_id")
		link(playerA, padded(`{}`, httpapi.MaxBodyBytes+1)).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	})

	t.Run("a banned player", func(t *testing.T) {
		c, _ := e.playerOf(acme, "device-000c")
		until := e.clock.Now().Add(48*time.Hour + 123456789*time.Nanosecond)
		e.do("POST", "/v1/players/"+playerA+"/bans", acme.key, map[string]any{"reason": "cheating", "expires_at": stamp(until)}).
			want(t, http.StatusCreated)
		r := link(playerA, map[string]any{"identity_id": c, "merge": true}).want(t, http.StatusForbidden, "Player is banned")
		// The fact is a timestamp as the API writes every one: UTC, to
		// the microsecond.
		if want := `{"detail":"Player is banned","expires_at":"` + stamp(until.Truncate(time.Microsecond)) + `"}`; r.raw != want {
			t.Fatalf("403 body %s, want %s", r.raw, want)
		}
	})

	t.Run("a deleted player", func(t *testing.T) {
		_, playerD := e.playerOf(acme, "device-000d")
		f, _ := e.playerOf(acme, "device-000f")
		e.do("DELETE", "/v1/players/"+playerD, acme.key, nil).want(t, http.StatusOK)
		link(playerD, map[string]any{"identity_id": f, "merge": true}).want(t, http.StatusConflict, "Player is deleted")
	})
}

func TestUnlinkIdentityFromPlayer(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	a, playerA := e.playerOf(acme, "device-000a")
	b, _ := e.playerOf(acme, "device-000b")
	e.do("POST", "/v1/players/"+playerA+"/identities", acme.key, map[string]any{"identity_id": b, "merge": true}).want(t, http.StatusOK)
	unlink := func(playerID, identityID string, key ...string) response {
		t.Helper()
		k := acme.key
		if len(key) > 0 {
			k = key[0]
		}
		return e.do("DELETE", "/v1/players/"+playerID+"/identities/"+identityID, k, nil)
	}

	t.Run("refusals", func(t *testing.T) {
		unlink(playerA, b, "").want(t, http.StatusUnauthorized, "API key required")
		unlink(playerA, b, other.key).want(t, http.StatusForbidden, "You do not have access to this player's account")
		unlink(playerA, "ide_nope").wantProblem(t, "value_error", "path", "identity_id")
		unlink("ply_nope", b).wantProblem(t, "value_error", "path", "player_id")
		unlink(playerA, unknownIdentity).want(t, http.StatusNotFound, "Identity not found")
		unlink(unknownPlayer, b).want(t, http.StatusNotFound, "Player not found")
	})

	r := unlink(playerA, b).want(t, http.StatusOK)
	alone := r.str("player_id")
	if r.str("id") != b || !playerIDPattern.MatchString(alone) || alone == playerA || len(r.body) != 9 || r.header.Get("ETag") == "" {
		t.Fatalf("unlinked %s (ETag %q)", r.raw, r.header.Get("ETag"))
	}
	if p := e.do("GET", "/v1/players/"+alone, acme.key, nil).want(t, http.StatusOK); !slices.Equal(identityIDs(p), []string{b}) {
		t.Fatalf("the new player %s", p.raw)
	}
	if p := e.do("GET", "/v1/players/"+playerA, acme.key, nil).want(t, http.StatusOK); !slices.Equal(identityIDs(p), []string{a}) {
		t.Fatalf("the player it left %s", p.raw)
	}
	unlink(playerA, b).want(t, http.StatusNotFound, "Identity not found")
	unlink(playerA, a).want(t, http.StatusConflict, "Cannot unlink the last identity")

	t.Run("a banned player", func(t *testing.T) {
		e.do("POST", "/v1/players/"+alone+"/identities", acme.key, map[string]any{"identity_id": a, "merge": true}).want(t, http.StatusOK)
		e.do("POST", "/v1/players/"+alone+"/bans", acme.key, map[string]any{"reason": "cheating"}).want(t, http.StatusCreated)
		r := unlink(alone, a).want(t, http.StatusForbidden, "Player is banned")
		if r.raw != `{"detail":"Player is banned","expires_at":null}` {
			t.Fatalf("403 body %s", r.raw)
		}
	})
}

func TestBans(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	device := "device-000a"
	_, playerID := e.playerOf(acme, device)
	bans := "/v1/players/" + playerID + "/bans"

	t.Run("refusals", func(t *testing.T) {
		e.do("POST", bans, "", map[string]any{"reason": "x"}).want(t, http.StatusUnauthorized, "API key required")
		e.do("POST", bans, other.key, map[string]any{"reason": "x"}).want(t, http.StatusForbidden, "You do not have access to this player's account")
		e.do("POST", "/v1/players/"+unknownPlayer+"/bans", acme.key, map[string]any{"reason": "x"}).want(t, http.StatusNotFound, "Player not found")
		e.do("POST", bans, acme.key, map[string]any{}).wantProblem(t, "missing", "body", "reason")
		e.do("POST", bans, acme.key, map[string]any{"reason": "   "}).wantProblem(t, "string_too_short", "body", "reason")
		e.do("POST", bans, acme.key, map[string]any{"reason": strings.Repeat("x", 501)}).wantProblem(t, "string_too_long", "body", "reason")
		e.do("POST", bans, acme.key, map[string]any{"reason": 7}).wantProblem(t, "string_type", "body", "reason")
		e.do("POST", bans, acme.key, map[string]any{"reason": "x", "expires_at": "tomorrow"}).wantProblem(t, "datetime_parsing", "body", "expires_at")
		e.do("POST", bans, acme.key, map[string]any{"reason": "x", "expires_at": stamp(e.clock.Now().Add(-time.Second))}).
			wantProblem(t, "value_error", "body", "expires_at")
		e.do("POST", "/v1/players/ply_nope/bans", acme.key, map[string]any{"reason": "x"}).wantProblem(t, "value_error", "path", "player_id")
		e.do("GET", bans, "", nil).want(t, http.StatusUnauthorized, "API key required")
		e.do("GET", bans, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this player's account")
		e.do("GET", "/v1/players/"+unknownPlayer+"/bans", acme.key, nil).want(t, http.StatusNotFound, "Player not found")
		e.do("GET", "/v1/players/ply_nope/bans", acme.key, nil).wantProblem(t, "value_error", "path", "player_id")
	})

	r := e.do("POST", bans, acme.key, map[string]any{"reason": "  cheating  "}).want(t, http.StatusCreated)
	wantFields(t, "BanResponse", r.body, banFields)
	actor, _ := r.body["actor"].(map[string]any)
	if !banIDPattern.MatchString(r.str("id")) || r.str("player_id") != playerID || r.str("reason") != "cheating" ||
		r.body["expires_at"] != nil || r.body["lifted_at"] != nil || r.str("created_at") != stamp(e.clock.Now()) ||
		actor["type"] != "api_key" || !strings.HasPrefix(actor["id"].(string), "key_") {
		t.Fatalf("ban %s", r.raw)
	}
	banID := r.str("id")
	if loc := r.header.Get("Location"); loc != bans+"/"+banID {
		t.Fatalf("Location %q", loc)
	}
	if p := e.do("GET", "/v1/players/"+playerID, acme.key, nil).want(t, http.StatusOK); p.body["ban"].(map[string]any)["id"] != banID {
		t.Fatalf("the player's ban %s", p.raw)
	}
	e.do("POST", bans, acme.key, map[string]any{"reason": "again"}).want(t, http.StatusConflict, "Player is already banned")

	t.Run("banned players cannot sign in", func(t *testing.T) {
		r := e.do("POST", "/v1/client/sessions", "", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": device}).
			want(t, http.StatusForbidden, "Player is banned")
		if r.raw != `{"detail":"Player is banned","expires_at":null}` {
			t.Fatalf("403 body %s", r.raw)
		}
	})

	ban := "/v1/players/" + playerID + "/bans/" + banID
	t.Run("change", func(t *testing.T) {
		until := e.clock.Now().Add(time.Hour)
		r := e.do("PATCH", ban, acme.key, map[string]any{"expires_at": stamp(until)}).want(t, http.StatusOK)
		if r.str("expires_at") != stamp(until) || r.body["lifted_at"] != nil {
			t.Fatalf("new expiry %s", r.raw)
		}
		if r := e.do("PATCH", ban, acme.key, map[string]any{}).want(t, http.StatusOK); r.str("expires_at") != stamp(until) {
			t.Fatalf("{} changed the ban: %s", r.raw)
		}
		if r := e.do("PATCH", ban, acme.key, map[string]any{"expires_at": nil}).want(t, http.StatusOK); r.body["expires_at"] != nil {
			t.Fatalf("null left an expiry: %s", r.raw)
		}
		e.do("PATCH", ban, acme.key, map[string]any{"expires_at": "soon"}).wantProblem(t, "datetime_parsing", "body", "expires_at")
		e.do("PATCH", ban, acme.key, map[string]any{"lifted": "maybe"}).wantProblem(t, "bool_parsing", "body", "lifted")
		e.do("PATCH", "/v1/players/"+playerID+"/bans/ban_nope", acme.key, map[string]any{}).wantProblem(t, "value_error", "path", "ban_id")
		e.do("PATCH", ban, "", map[string]any{}).want(t, http.StatusUnauthorized, "API key required")
		e.do("PATCH", ban, other.key, map[string]any{}).want(t, http.StatusForbidden, "You do not have access to this player's account")
		e.do("PATCH", "/v1/players/"+playerID+"/bans/"+unknownBan, acme.key, map[string]any{"lifted": true}).want(t, http.StatusNotFound, "Ban not found")
		e.do("PATCH", "/v1/players/"+unknownPlayer+"/bans/"+banID, acme.key, map[string]any{"lifted": true}).want(t, http.StatusNotFound, "Player not found")
	})

	t.Run("lift", func(t *testing.T) {
		r := e.do("PATCH", ban, acme.key, map[string]any{"lifted": true}).want(t, http.StatusOK)
		if r.str("lifted_at") != stamp(e.clock.Now()) {
			t.Fatalf("lifted %s", r.raw)
		}
		if p := e.do("GET", "/v1/players/"+playerID, acme.key, nil).want(t, http.StatusOK); p.body["ban"] != nil {
			t.Fatalf("a lifted ban is in force: %s", p.raw)
		}
		e.do("PATCH", ban, acme.key, map[string]any{"expires_at": stamp(e.clock.Now().Add(time.Hour))}).want(t, http.StatusConflict, "Ban is not active")
		e.signIn(acme, device)
	})

	t.Run("history", func(t *testing.T) {
		e.clock.Advance(time.Second)
		until := e.clock.Now().Add(time.Hour)
		second := e.do("POST", bans, acme.key, map[string]any{"reason": "again", "expires_at": stamp(until)}).want(t, http.StatusCreated)
		r := e.do("GET", bans, acme.key, nil).want(t, http.StatusOK)
		wantFields(t, "the ban list", r.body, []string{"data"})
		if got := column(r, "id"); !slices.Equal(got, []string{second.str("id"), banID}) {
			t.Fatalf("history %v", got)
		}
		// A ban ends by itself at its expiry.
		e.clock.Advance(time.Hour)
		e.signIn(acme, device)
		if p := e.do("GET", "/v1/players/"+playerID, acme.key, nil).want(t, http.StatusOK); p.body["ban"] != nil {
			t.Fatalf("an expired ban is in force: %s", p.raw)
		}
	})
}

func TestDeleteAndRestorePlayer(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	a, playerA := e.playerOf(acme, "device-000a")

	t.Run("refusals", func(t *testing.T) {
		for _, path := range []string{"/v1/players/" + playerA, "/v1/players/" + playerA + "/restore"} {
			method := map[bool]string{true: "DELETE", false: "POST"}[!strings.HasSuffix(path, "/restore")]
			e.do(method, path, "", nil).want(t, http.StatusUnauthorized, "API key required")
			e.do(method, path, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this player's account")
			e.do(method, strings.Replace(path, playerA, unknownPlayer, 1), acme.key, nil).want(t, http.StatusNotFound, "Player not found")
			e.do(method, strings.Replace(path, playerA, "ply_nope", 1), acme.key, nil).wantProblem(t, "value_error", "path", "player_id")
		}
		e.do("DELETE", "/v1/players/"+playerA+"?erase=maybe", acme.key, nil).wantProblem(t, "bool_parsing", "query", "erase")
	})

	r := e.do("DELETE", "/v1/players/"+playerA, acme.key, nil).want(t, http.StatusOK)
	wantFields(t, "PlayerResponse", r.body, playerFields)
	now := e.clock.Now()
	if r.str("deleted_at") != stamp(now) || r.str("purge_after") != stamp(now.Add(testDeletionGrace)) || !slices.Equal(identityIDs(r), []string{a}) {
		t.Fatalf("deleted %s", r.raw)
	}
	e.do("GET", "/v1/identities/"+a, acme.key, nil).want(t, http.StatusNotFound, "Identity not found")
	if again := e.do("DELETE", "/v1/players/"+playerA, acme.key, nil).want(t, http.StatusOK); again.raw != r.raw {
		t.Fatalf("deleted again: %s, then %s", r.raw, again.raw)
	}
	if got := e.do("GET", "/v1/players/"+playerA, acme.key, nil).want(t, http.StatusOK); got.raw != r.raw {
		t.Fatalf("GET of a deleted player %s", got.raw)
	}

	t.Run("restore", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		r := e.do("POST", "/v1/players/"+playerA+"/restore", acme.key, nil).want(t, http.StatusOK)
		if r.body["deleted_at"] != nil || r.body["purge_after"] != nil || !slices.Equal(identityIDs(r), []string{a}) {
			t.Fatalf("restored %s", r.raw)
		}
		e.do("GET", "/v1/identities/"+a, acme.key, nil).want(t, http.StatusOK)
		// Restoring a live player changes nothing.
		if again := e.do("POST", "/v1/players/"+playerA+"/restore", acme.key, nil).want(t, http.StatusOK); again.raw != r.raw {
			t.Fatalf("restored again %s", again.raw)
		}
	})

	t.Run("a key taken meanwhile", func(t *testing.T) {
		e.do("DELETE", "/v1/players/"+playerA, acme.key, nil).want(t, http.StatusOK)
		// Signing in with its credential creates a new player.
		s := e.signIn(acme, "device-000a")
		if s.body["identity"].(map[string]any)["player_id"] == playerA {
			t.Fatalf("signed in to the deleted player: %s", s.raw)
		}
		e.do("POST", "/v1/players/"+playerA+"/restore", acme.key, nil).want(t, http.StatusConflict, "Identity key is in use")
	})

	t.Run("past purge_after", func(t *testing.T) {
		_, playerB := e.playerOf(acme, "device-000b")
		e.do("DELETE", "/v1/players/"+playerB, acme.key, nil).want(t, http.StatusOK)
		e.clock.Advance(testDeletionGrace)
		e.do("POST", "/v1/players/"+playerB+"/restore", acme.key, nil).want(t, http.StatusNotFound, "Player not found")
	})

	t.Run("erase", func(t *testing.T) {
		c, playerC := e.playerOf(acme, "device-000c")
		r := e.do("DELETE", "/v1/players/"+playerC+"?erase=true", acme.key, nil).want(t, http.StatusOK)
		wantFields(t, "the tombstone", r.body, tombstoneFields)
		if r.str("id") != playerC || r.str("account_id") != acme.account || r.str("game_id") != acme.game || r.str("purged_at") != stamp(e.clock.Now()) {
			t.Fatalf("tombstone %s", r.raw)
		}
		if got := e.do("GET", "/v1/players/"+playerC, acme.key, nil).want(t, http.StatusOK); got.raw != r.raw {
			t.Fatalf("GET of a purged player %s", got.raw)
		}
		if again := e.do("DELETE", "/v1/players/"+playerC+"?erase=true", acme.key, nil).want(t, http.StatusOK); again.raw != r.raw {
			t.Fatalf("erased again %s", again.raw)
		}
		e.do("DELETE", "/v1/players/"+playerC, acme.key, nil).want(t, http.StatusNotFound, "Player not found")
		e.do("POST", "/v1/players/"+playerC+"/restore", acme.key, nil).want(t, http.StatusNotFound, "Player not found")
		e.do("GET", "/v1/identities/"+c, acme.key, nil).want(t, http.StatusNotFound, "Identity not found")
		e.do("GET", "/v1/players/"+playerC, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this player's account")
	})
}

func TestExportPlayer(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	a, playerID := e.playerOf(acme, "device-000a")
	b, _ := e.playerOf(acme, "device-000b")
	e.do("POST", "/v1/players/"+playerID+"/identities", acme.key, map[string]any{"identity_id": b, "merge": true}).want(t, http.StatusOK)
	s := e.signIn(acme, "device-000a")
	e.do("PATCH", "/v1/identities/"+b, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
	e.do("POST", "/v1/players/"+playerID+"/bans", acme.key, map[string]any{"reason": "cheating"}).want(t, http.StatusCreated)
	export := "/v1/players/" + playerID + "/export"

	r := e.do("GET", export, acme.key, nil).want(t, http.StatusOK)
	wantFields(t, "the export", r.body, []string{"bans", "events", "identities", "player", "sessions"})
	wantFields(t, "its player", r.body["player"].(map[string]any), playerFields)
	deletedAt := map[string]any{}
	for _, i := range r.body["identities"].([]any) {
		i := i.(map[string]any)
		deletedAt[i["id"].(string)] = i["deleted_at"]
		if len(i) != 10 {
			t.Fatalf("an exported identity %v", i)
		}
	}
	if len(deletedAt) != 2 || deletedAt[a] != nil || deletedAt[b] == nil {
		t.Fatalf("exported identities %v", r.body["identities"])
	}
	if bans := r.body["bans"].([]any); len(bans) != 1 {
		t.Fatalf("bans %v", bans)
	}
	sessions := r.body["sessions"].([]any)
	if len(sessions) != 1 || sessions[0].(map[string]any)["id"] != s.id || strings.Contains(r.raw, s.access) || strings.Contains(r.raw, s.refresh) {
		t.Fatalf("sessions %v", sessions)
	}
	subjects := map[string]bool{}
	for _, ev := range r.body["events"].([]any) {
		subjects[ev.(map[string]any)["subject"].(map[string]any)["id"].(string)] = true
	}
	if !subjects[playerID] || !subjects[a] || !subjects[b] {
		t.Fatalf("the events' subjects %v", subjects)
	}

	e.do("GET", export, "", nil).want(t, http.StatusUnauthorized, "API key required")
	e.do("GET", export, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this player's account")
	e.do("GET", "/v1/players/"+unknownPlayer+"/export", acme.key, nil).want(t, http.StatusNotFound, "Player not found")
	e.do("GET", "/v1/players/ply_nope/export", acme.key, nil).wantProblem(t, "value_error", "path", "player_id")
}

func TestRestoreIdentity(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	restore := func(identityID string, key string) response {
		t.Helper()
		return e.do("POST", "/v1/identities/"+identityID+"/restore", key, nil)
	}
	x := e.newIdentity(acme, map[string]any{"external_key": "device-000x"}).str("id")
	restore(x, acme.key).want(t, http.StatusNotFound, "Identity not found") // live
	e.do("PATCH", "/v1/identities/"+x, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)

	restore(x, "").want(t, http.StatusUnauthorized, "API key required")
	restore(x, other.key).want(t, http.StatusForbidden, "You do not have access to this identity's account")
	restore("ide_nope", acme.key).wantProblem(t, "value_error", "path", "identity_id")
	restore(unknownIdentity, acme.key).want(t, http.StatusNotFound, "Identity not found")

	e.clock.Advance(time.Minute)
	r := restore(x, acme.key).want(t, http.StatusOK)
	if r.str("id") != x || r.str("updated_at") != stamp(e.clock.Now()) || len(r.body) != 9 || r.header.Get("ETag") == "" {
		t.Fatalf("restored %s", r.raw)
	}
	if got := e.do("GET", "/v1/identities/"+x, acme.key, nil).want(t, http.StatusOK); got.raw != r.raw {
		t.Fatalf("GET %s, restore %s", got.raw, r.raw)
	}

	t.Run("a key taken meanwhile", func(t *testing.T) {
		e.do("PATCH", "/v1/identities/"+x, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
		e.newIdentity(acme, map[string]any{"external_key": "device-000x"})
		restore(x, acme.key).want(t, http.StatusConflict, "Identity key is in use")
	})

	t.Run("past the grace period", func(t *testing.T) {
		y := e.newIdentity(acme, map[string]any{"external_key": "device-000y"}).str("id")
		e.do("PATCH", "/v1/identities/"+y, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
		e.clock.Advance(testDeletionGrace)
		restore(y, acme.key).want(t, http.StatusNotFound, "Identity not found")
	})
}

// clientNonce gets a nonce of the session.
func (e *env) clientNonce(s signedIn) string {
	e.t.Helper()
	return e.as(s.access, "GET", "/v1/client/nonce", nil).want(e.t, http.StatusOK).str("nonce_value")
}

func TestClientLinkIdentity(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "client-device-1")
	playerID := s.body["identity"].(map[string]any)["player_id"].(string)
	link := func(body any, nonce ...string) response {
		t.Helper()
		var headers []string
		if len(nonce) > 0 {
			headers = []string{"leadr-client-nonce", nonce[0]}
		}
		return e.as(s.access, "POST", "/v1/client/me/identities", body, headers...)
	}
	device := func(key string) map[string]any { return map[string]any{"kind": "DEVICE", "external_key": key} }

	r := link(device("client-device-2"), e.clientNonce(s)).want(t, http.StatusCreated)
	if r.str("player_id") != playerID || r.str("external_key") != "client-device-2" || len(r.body) != 9 ||
		r.header.Get("Location") != "/v1/client/me/identities/"+r.str("id") || r.header.Get("ETag") == "" {
		t.Fatalf("linked %s", r.raw)
	}
	if again := link(device("client-device-2"), e.clientNonce(s)).want(t, http.StatusOK); again.str("id") != r.str("id") {
		t.Fatalf("linked again %s", again.raw)
	}

	t.Run("another player's", func(t *testing.T) {
		theirs := e.signIn(acme, "client-device-3")
		their := theirs.body["identity"].(map[string]any)
		r := link(device("client-device-3"), e.clientNonce(s)).want(t, http.StatusConflict, "Identity belongs to another player")
		if r.raw != `{"detail":"Identity belongs to another player","player_id":"`+their["player_id"].(string)+`"}` {
			t.Fatalf("409 body %s", r.raw)
		}
		body := device("client-device-3")
		body["merge"] = true
		merged := link(body, e.clientNonce(s)).want(t, http.StatusOK)
		if merged.str("id") != their["id"] || merged.str("player_id") != playerID {
			t.Fatalf("merged %s", merged.raw)
		}
		e.do("GET", "/v1/players/"+their["player_id"].(string), acme.key, nil).want(t, http.StatusNotFound, "Player not found")
	})

	t.Run("refusals", func(t *testing.T) {
		wantBearerChallenge(t, e.do("POST", "/v1/client/me/identities", "", device("client-device-4")), "Access token required")
		link(device("client-device-4")).want(t, http.StatusPreconditionFailed, "Nonce required")
		link(device("client-device-4"), "not-a-nonce").want(t, http.StatusPreconditionFailed, "Invalid nonce")
		link(map[string]any{"external_key": "client-device-4"}, e.clientNonce(s)).wantProblem(t, "missing", "body", "kind")
		// The credential is never echoed, whatever its problem.
		for _, body := range []map[string]any{
			{"kind": "DEVICE", "external_key": 1234567890123},
			{"kind": "DEVICE", "external_key": "short-1"},
			{"kind": "STEAM", "steam_ticket": []string{"secret-ticket"}},
		} {
			r := link(body, e.clientNonce(s)).want(t, http.StatusUnprocessableEntity)
			for _, secret := range []string{"1234567890123", "short-1", "secret-ticket"} {
				if strings.Contains(r.raw, secret) {
					t.Fatalf("a 422 echoes the credential: %s", r.raw)
				}
			}
		}
		link(map[string]any{"kind": "STEAM", "steam_ticket": ticketOK}, e.clientNonce(s)).
			want(t, http.StatusBadRequest, "Steam sign-in is not configured for this game")
		link(padded(`{}`, httpapi.MaxClientBodyBytes+1), e.clientNonce(s)).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	})

	t.Run("a banned player", func(t *testing.T) {
		e.do("POST", "/v1/players/"+playerID+"/bans", acme.key, map[string]any{"reason": "cheating"}).want(t, http.StatusCreated)
		// Its refresh tokens are refused with the reason, so that the
		// game can tell the player why.
		r := e.do("POST", "/v1/client/sessions/refresh", "", map[string]any{"refresh_token": s.refresh}).want(t, http.StatusForbidden, "Player is banned")
		if r.raw != `{"detail":"Player is banned","expires_at":null}` {
			t.Fatalf("403 body %s", r.raw)
		}
	})
}

func TestClientUnlinkIdentity(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "client-device-1")
	own := s.body["identity"].(map[string]any)
	second := e.as(s.access, "POST", "/v1/client/me/identities", map[string]any{"kind": "DEVICE", "external_key": "client-device-2"},
		"leadr-client-nonce", e.clientNonce(s)).want(t, http.StatusCreated).str("id")
	unlink := func(identityID string, nonce ...string) response {
		t.Helper()
		var headers []string
		if len(nonce) > 0 {
			headers = []string{"leadr-client-nonce", nonce[0]}
		}
		return e.as(s.access, "DELETE", "/v1/client/me/identities/"+identityID, nil, headers...)
	}

	wantBearerChallenge(t, e.do("DELETE", "/v1/client/me/identities/"+second, "", nil), "Access token required")
	unlink(second).want(t, http.StatusPreconditionFailed, "Nonce required")
	n := e.clientNonce(s)
	unlink("ide_nope", n).wantProblem(t, "value_error", "path", "identity_id")
	// A malformed path spends no nonce.
	r := unlink(second, n).want(t, http.StatusOK)
	if r.str("id") != second || r.str("player_id") == own["player_id"] || !playerIDPattern.MatchString(r.str("player_id")) || r.header.Get("ETag") == "" {
		t.Fatalf("unlinked %s", r.raw)
	}
	unlink(second, e.clientNonce(s)).want(t, http.StatusNotFound, "Identity not found")
	unlink(own["id"].(string), e.clientNonce(s)).want(t, http.StatusConflict, "Cannot unlink the identity of this session")
}

func TestClientDeletePlayer(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "client-device-1")
	own := s.body["identity"].(map[string]any)

	wantBearerChallenge(t, e.do("DELETE", "/v1/client/me/player", "", nil), "Access token required")
	e.as(s.access, "DELETE", "/v1/client/me/player", nil).want(t, http.StatusPreconditionFailed, "Nonce required")
	r := e.as(s.access, "DELETE", "/v1/client/me/player", nil, "leadr-client-nonce", e.clientNonce(s)).want(t, http.StatusOK)
	wantFields(t, "PlayerResponse", r.body, playerFields)
	now := e.clock.Now()
	if r.str("id") != own["player_id"] || r.str("deleted_at") != stamp(now) || r.str("purge_after") != stamp(now.Add(testDeletionGrace)) {
		t.Fatalf("deleted %s", r.raw)
	}
	e.do("GET", "/v1/identities/"+own["id"].(string), acme.key, nil).want(t, http.StatusNotFound, "Identity not found")
	// The studio can still restore it, within the grace period.
	e.do("POST", "/v1/players/"+r.str("id")+"/restore", acme.key, nil).want(t, http.StatusOK)
}
