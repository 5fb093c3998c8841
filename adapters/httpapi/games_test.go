package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi"
	appgame "github.com/leadr-oss/identity/application/game"
	"github.com/leadr-oss/identity/application/sealing"
)

func init() {
	sliceRoutes = append(sliceRoutes, func(e *env) httpapi.Routes {
		return httpapi.GameRoutes(appgame.NewService(e.mem.Games(), sealing.NewCipher([]byte(testEncryptionKey)), e.codec, e.now))
	})
}

const testEncryptionKey = "encryption-encryption-encryption!"

// steamKey is a well-formed Steam Web API key. Mixed case, so that a test
// searching answers for it also finds it lower- or upper-cased.
const steamKey = "5f4dcc3b5aa765d61d8327deB882CF99"

var gameIDPattern = regexp.MustCompile(`^gam_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// newGame creates a game with the tenant's key.
func (e *env) newGame(t tenant, body map[string]any) response {
	e.t.Helper()
	return e.do("POST", "/v1/games", t.key, body).want(e.t, http.StatusCreated)
}

// column is one field of every item of a list answer, in order.
func column(r response, field string) []string {
	var out []string
	for _, d := range r.body["data"].([]any) {
		s, _ := d.(map[string]any)[field].(string)
		out = append(out, s)
	}
	return out
}

// wantNoSteamKey fails when an answer holds the Steam Web API key in any
// case: it is write-only, whatever the status.
func wantNoSteamKey(t *testing.T, r response) {
	t.Helper()
	raw := strings.ToLower(r.raw)
	if strings.Contains(raw, strings.ToLower(steamKey)) {
		t.Fatalf("the Steam Web API key is in a %d answer: %s", r.status, r.raw)
	}
}

func TestCreateGame(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")

	r := e.do("POST", "/v1/games", acme.key, map[string]any{"name": "  Zoe\u0308's Quest  "}).want(t, http.StatusCreated)
	if !gameIDPattern.MatchString(r.str("id")) {
		t.Fatalf("id %q is not a prefixed UUIDv7", r.str("id"))
	}
	if loc := r.header.Get("Location"); loc != "/v1/games/"+r.str("id") {
		t.Fatalf("Location %q", loc)
	}
	keys := make([]string, 0, len(r.body))
	for k := range r.body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"account_id", "created_at", "device_sign_in", "id", "name", "slug", "steam_app_id", "steam_configured", "updated_at"}; !slices.Equal(keys, want) {
		t.Fatalf("fields %v, want the GameResponse's %v", keys, want)
	}
	// The name is trimmed and NFC-normalised; the slug derives from it.
	want := map[string]any{"account_id": acme.account, "name": "Zoë's Quest", "slug": "zoe-s-quest", "steam_app_id": nil, "steam_configured": false, "device_sign_in": true}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if !timestampPattern.MatchString(r.str(k)) {
			t.Errorf("%s = %q is not RFC 3339 UTC", k, r.str(k))
		}
	}
	if got := e.do("GET", "/v1/games/"+r.str("id"), acme.key, nil).want(t, http.StatusOK); got.raw != r.raw {
		t.Fatalf("GET differs from POST:\n%s\n%s", got.raw, r.raw)
	}

	t.Run("steam settings", func(t *testing.T) {
		for _, c := range []struct {
			name       string
			body       map[string]any
			appID      any
			configured bool
		}{
			{"both", map[string]any{"steam_app_id": "480", "steam_web_api_key": steamKey}, "480", true},
			{"app ID only", map[string]any{"steam_app_id": "1234567890"}, "1234567890", false},
			{"key only", map[string]any{"steam_web_api_key": strings.ToLower(steamKey)}, nil, false},
			{"both null", map[string]any{"steam_app_id": nil, "steam_web_api_key": nil}, nil, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.body["name"] = "Steam " + c.name
				g := e.newGame(acme, c.body)
				if g.body["steam_app_id"] != c.appID || g.body["steam_configured"] != c.configured {
					t.Fatalf("steam_app_id %v, steam_configured %v: %s", g.body["steam_app_id"], g.body["steam_configured"], g.raw)
				}
				if _, ok := g.body["steam_web_api_key"]; ok || len(g.body) != 9 {
					t.Fatalf("the answer has more than the GameResponse: %s", g.raw)
				}
				wantNoSteamKey(t, g)
				wantNoSteamKey(t, e.do("GET", "/v1/games/"+g.str("id"), acme.key, nil).want(t, http.StatusOK))
			})
		}
		wantNoSteamKey(t, e.do("GET", "/v1/games?limit=100", e.super, nil).want(t, http.StatusOK))
	})

	t.Run("device sign-in", func(t *testing.T) {
		for _, c := range []struct {
			given, want any
		}{{false, false}, {true, true}, {nil, true}} {
			r := e.newGame(acme, map[string]any{"name": fmt.Sprint("Device ", c.given), "device_sign_in": c.given})
			if r.body["device_sign_in"] != c.want {
				t.Errorf("device_sign_in %v: answered %v, want %v", c.given, r.body["device_sign_in"], c.want)
			}
		}
		e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Bad", "device_sign_in": "maybe"}).wantProblem(t, "bool_parsing", "body", "device_sign_in")
		e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Bad", "device_sign_in": []int{}}).wantProblem(t, "bool_type", "body", "device_sign_in")
	})

	t.Run("a superadmin must name an account that exists", func(t *testing.T) {
		e.do("POST", "/v1/games", e.super, map[string]any{"name": "Nowhere"}).wantProblem(t, "missing", "body", "account_id")
		g := e.do("POST", "/v1/games", e.super, map[string]any{"account_id": other.account, "name": "For Other"}).want(t, http.StatusCreated)
		if g.str("account_id") != other.account {
			t.Fatalf("got %s", g.raw)
		}
		before := e.do("GET", "/v1/games?limit=100", e.super, nil).want(t, http.StatusOK).body["pagination"].(map[string]any)["count"]
		e.do("POST", "/v1/games", e.super, map[string]any{"account_id": "acc_0195f2a0-0000-7000-8000-00000000dead", "name": "Orphan"}).
			want(t, http.StatusNotFound, "Account not found")
		after := e.do("GET", "/v1/games?limit=100", e.super, nil).want(t, http.StatusOK).body["pagination"].(map[string]any)["count"]
		if after != before {
			t.Fatalf("a game of an unknown account was stored: %v games, then %v", before, after)
		}
	})

	t.Run("a regular user may not name another account", func(t *testing.T) {
		e.do("POST", "/v1/games", acme.key, map[string]any{"account_id": other.account, "name": "Theirs"}).
			want(t, http.StatusForbidden, "Access denied to the specified account")
		// Validation comes before access.
		e.do("POST", "/v1/games", acme.key, map[string]any{"account_id": other.account, "name": " "}).
			wantProblem(t, "string_too_short", "body", "name")
		g := e.do("POST", "/v1/games", acme.key, map[string]any{"account_id": acme.account, "name": "Mine"}).want(t, http.StatusCreated)
		if g.str("account_id") != acme.account {
			t.Fatalf("got %s", g.raw)
		}
		if r := e.do("GET", "/v1/games?slug=theirs", e.super, nil).want(t, http.StatusOK); len(column(r, "id")) != 0 {
			t.Fatalf("a refused create stored a game: %s", r.raw)
		}
	})
}

func TestGameSlugs(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")

	t.Run("derived from the name", func(t *testing.T) {
		for name, slug := range map[string]string{
			"Space Race":                "space-race",
			"Émile's  Game!":            "emile-s-game",
			"--Hello, World--":          "hello-world",
			"R2D2":                      "r2d2",
			"X":                         "game-x",
			"!!!":                       "game",
			"日本のゲーム 2":                  "game-2",
			strings.Repeat("ab ", 33):   strings.TrimSuffix(strings.Repeat("ab-", 20), "-"), // cut to 59, leaving room for "-N"
			strings.Repeat("a", 100):    strings.Repeat("a", 59),
			"Ångström  Über  Straße 42": "angstrom-uber-stra-e-42",
		} {
			if got := e.newGame(acme, map[string]any{"name": name}).str("slug"); got != slug {
				t.Errorf("%q: slug %q, want %q", name, got, slug)
			}
		}
		if got := e.newGame(acme, map[string]any{"name": "Null Slug", "slug": nil}).str("slug"); got != "null-slug" {
			t.Errorf("a null slug is not derived: %q", got)
		}
	})

	t.Run("a taken derived slug counts up within its account", func(t *testing.T) {
		for _, want := range []string{"galaxy", "galaxy-2", "galaxy-3"} {
			if got := e.newGame(acme, map[string]any{"name": "Galaxy"}).str("slug"); got != want {
				t.Fatalf("slug %q, want %q", got, want)
			}
		}
		// Another account's slugs are not in the way.
		for _, want := range []string{"galaxy", "galaxy-2"} {
			if got := e.newGame(other, map[string]any{"name": "GALAXY"}).str("slug"); got != want {
				t.Fatalf("another account's game: slug %q, want %q", got, want)
			}
		}
	})

	t.Run("a given slug that is taken is a conflict", func(t *testing.T) {
		g := e.newGame(acme, map[string]any{"name": "Chosen", "slug": "my-slug"})
		if g.str("slug") != "my-slug" {
			t.Fatalf("a given slug was changed: %s", g.raw)
		}
		e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Again", "slug": "my-slug"}).
			want(t, http.StatusConflict, "Game slug already exists")
		e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Numbered", "slug": "galaxy-2"}).
			want(t, http.StatusConflict, "Game slug already exists")
		if r := e.do("GET", "/v1/games?slug=my-slug", e.super, nil).want(t, http.StatusOK); len(column(r, "id")) != 1 {
			t.Fatalf("a conflict stored a game: %s", r.raw)
		}
	})

	t.Run("another account's slug is free", func(t *testing.T) {
		mine := e.newGame(acme, map[string]any{"name": "Probe", "slug": "probe-me"})
		theirs := e.newGame(other, map[string]any{"name": "Probe", "slug": "probe-me"})
		if theirs.str("slug") != "probe-me" || theirs.str("account_id") != other.account {
			t.Fatalf("got %s", theirs.raw)
		}
		for tc, want := range map[tenant]string{acme: mine.str("id"), other: theirs.str("id")} {
			if r := e.do("GET", "/v1/games?slug=probe-me", tc.key, nil).want(t, http.StatusOK); !slices.Equal(column(r, "id"), []string{want}) {
				t.Errorf("%s lists by slug: %s", tc.account, r.raw)
			}
		}
		if r := e.do("GET", "/v1/games?slug=probe-me&sort=id:asc", e.super, nil).want(t, http.StatusOK); len(column(r, "id")) != 2 {
			t.Errorf("a superadmin lists by slug across accounts: %s", r.raw)
		}
	})

	t.Run("a deleted game keeps its slug", func(t *testing.T) {
		g := e.newGame(acme, map[string]any{"name": "Retired", "slug": "retired"})
		e.do("PATCH", "/v1/games/"+g.str("id"), acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
		e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Retired", "slug": "retired"}).
			want(t, http.StatusConflict, "Game slug already exists")
		if got := e.newGame(acme, map[string]any{"name": "Retired"}).str("slug"); got != "retired-2" {
			t.Fatalf("slug %q, want retired-2", got)
		}
	})

	t.Run("boundaries", func(t *testing.T) {
		for _, slug := range []string{"abc", "a-b", "0-9", strings.Repeat("z", 64), "x1-y2-z3"} {
			if got := e.newGame(acme, map[string]any{"name": "Edge", "slug": slug}).str("slug"); got != slug {
				t.Errorf("slug %q answered as %q", slug, got)
			}
		}
	})
}

func TestCreateGameValidation(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	cases := []struct {
		name  string
		body  any
		typ   string
		loc   []any // nil: json_invalid, whose loc is body and the error's offset
		input any
	}{
		{"name missing", map[string]any{"slug": "abc"}, "missing", []any{"body", "name"}, map[string]any{"slug": "abc"}},
		{"name null", map[string]any{"name": nil}, "string_type", []any{"body", "name"}, nil},
		{"name not a string", map[string]any{"name": 5}, "string_type", []any{"body", "name"}, float64(5)},
		{"name blank", map[string]any{"name": " \t\u3000 "}, "string_too_short", []any{"body", "name"}, " \t\u3000 "},
		{"name too long", map[string]any{"name": strings.Repeat("é", 101)}, "string_too_long", []any{"body", "name"}, strings.Repeat("é", 101)},
		{"name with a control character", map[string]any{"name": "a\u0007b"}, "value_error", []any{"body", "name"}, "a\u0007b"},
		{"slug upper-case", map[string]any{"name": "G", "slug": "Abc"}, "value_error", []any{"body", "slug"}, "Abc"},
		{"slug leading hyphen", map[string]any{"name": "G", "slug": "-abc"}, "value_error", []any{"body", "slug"}, "-abc"},
		{"slug trailing hyphen", map[string]any{"name": "G", "slug": "abc-"}, "value_error", []any{"body", "slug"}, "abc-"},
		{"slug double hyphen", map[string]any{"name": "G", "slug": "ab--c"}, "value_error", []any{"body", "slug"}, "ab--c"},
		{"slug too short", map[string]any{"name": "G", "slug": "ab"}, "value_error", []any{"body", "slug"}, "ab"},
		{"slug too long", map[string]any{"name": "G", "slug": strings.Repeat("a", 65)}, "value_error", []any{"body", "slug"}, strings.Repeat("a", 65)},
		{"slug empty", map[string]any{"name": "G", "slug": ""}, "value_error", []any{"body", "slug"}, ""},
		{"slug with an underscore", map[string]any{"name": "G", "slug": "a_bc"}, "value_error", []any{"body", "slug"}, "a_bc"},
		{"slug with a space", map[string]any{"name": "G", "slug": "ab c"}, "value_error", []any{"body", "slug"}, "ab c"},
		{"slug not ASCII", map[string]any{"name": "G", "slug": "café"}, "value_error", []any{"body", "slug"}, "café"},
		{"slug not a string", map[string]any{"name": "G", "slug": 123}, "string_type", []any{"body", "slug"}, float64(123)},
		{"steam app ID empty", map[string]any{"name": "G", "steam_app_id": ""}, "value_error", []any{"body", "steam_app_id"}, ""},
		{"steam app ID too long", map[string]any{"name": "G", "steam_app_id": "12345678901"}, "value_error", []any{"body", "steam_app_id"}, "12345678901"},
		{"steam app ID not digits", map[string]any{"name": "G", "steam_app_id": "48a"}, "value_error", []any{"body", "steam_app_id"}, "48a"},
		{"steam app ID negative", map[string]any{"name": "G", "steam_app_id": "-480"}, "value_error", []any{"body", "steam_app_id"}, "-480"},
		{"steam app ID padded", map[string]any{"name": "G", "steam_app_id": " 480"}, "value_error", []any{"body", "steam_app_id"}, " 480"},
		{"steam app ID a number", map[string]any{"name": "G", "steam_app_id": 480}, "string_type", []any{"body", "steam_app_id"}, float64(480)},
		// The key is never echoed, not even when it is rejected.
		{"steam key too short", map[string]any{"name": "G", "steam_web_api_key": steamKey[1:]}, "value_error", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"steam key too long", map[string]any{"name": "G", "steam_web_api_key": steamKey + "0"}, "value_error", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"steam key not hex", map[string]any{"name": "G", "steam_web_api_key": "g" + steamKey[1:]}, "value_error", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"steam key empty", map[string]any{"name": "G", "steam_web_api_key": ""}, "value_error", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"steam key a number", `{"name":"G","steam_web_api_key":12345678901234567890123456789012}`, "string_type", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"steam key in an array", map[string]any{"name": "G", "steam_web_api_key": []string{steamKey}}, "string_type", []any{"body", "steam_web_api_key"}, "[redacted]"},
		{"malformed JSON", `{"name": "G",`, "json_invalid", nil, nil},
		{"trailing data", `{"name": "G"} {}`, "json_invalid", nil, nil},
		{"a stray closing brace", `{"name": "G"}}`, "json_invalid", nil, nil},
		{"a stray closing bracket", `{"name": "G"} ]`, "json_invalid", nil, nil},
		{"body is an array", []any{"G"}, "model_attributes_type", []any{"body"}, "[redacted]"},
		{"empty body", "", "missing", []any{"body"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/games", acme.key, c.body)
			wantNoSteamKey(t, r)
			if c.loc == nil {
				p := r.problems(t)[0]
				if p["type"] != c.typ || p["loc"].([]any)[0] != "body" || len(p["loc"].([]any)) != 2 {
					t.Fatalf("got %s", r.raw)
				}
				return
			}
			p := r.wantProblem(t, c.typ, c.loc...)
			if fmt.Sprint(p["input"]) != fmt.Sprint(c.input) {
				t.Fatalf("input %v, want %v", p["input"], c.input)
			}
		})
	}
	// Nothing above created anything: the tenant's own game is its only one.
	if list := e.do("GET", "/v1/games", acme.key, nil).want(t, http.StatusOK); !slices.Equal(column(list, "id"), []string{acme.game}) {
		t.Fatalf("rejected requests created games: %s", list.raw)
	}

	t.Run("every problem is reported at once", func(t *testing.T) {
		r := e.do("POST", "/v1/games", e.super, map[string]any{"name": "", "slug": "A", "steam_app_id": "x", "steam_web_api_key": "y"})
		if n := len(r.problems(t)); n != 5 {
			t.Fatalf("%d problems, want 5 (name, slug, steam_app_id, steam_web_api_key, account_id): %s", n, r.raw)
		}
	})
	t.Run("a form body is not JSON", func(t *testing.T) {
		r := e.do("POST", "/v1/games", acme.key, "name=G&steam_web_api_key="+steamKey, "Content-Type", "application/x-www-form-urlencoded")
		wantNoSteamKey(t, r)
		r.wantProblem(t, "model_attributes_type", "body")
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		g := e.do("POST", "/v1/games", acme.key, map[string]any{"name": "Colourful", "colour": "red", "deleted": true}).want(t, http.StatusCreated)
		e.do("GET", "/v1/games/"+g.str("id"), acme.key, nil).want(t, http.StatusOK)
	})
	t.Run("the widest valid values", func(t *testing.T) {
		g := e.newGame(acme, map[string]any{"name": strings.Repeat("é", 100), "steam_app_id": "4294967295", "steam_web_api_key": strings.ToUpper(steamKey)})
		if g.str("name") != strings.Repeat("é", 100) || g.str("steam_app_id") != "4294967295" || g.body["steam_configured"] != true {
			t.Fatalf("got %s", g.raw)
		}
	})
}

// TestSteamKeyIsNeverAnswered sends the key in every way a request can
// carry it, and searches every answer and the log for it: a 422 echoes its
// input, and a missing field's input is the whole body.
func TestSteamKeyIsNeverAnswered(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	g := e.newGame(acme, map[string]any{"name": "Secretive", "steam_app_id": "480", "steam_web_api_key": steamKey})
	path := "/v1/games/" + g.str("id")
	requests := []struct {
		method, path, key string
		body              any
		headers           []string
	}{
		{"POST", "/v1/games", acme.key, map[string]any{"steam_web_api_key": steamKey}, nil},
		{"POST", "/v1/games", e.super, map[string]any{"name": "No account", "steam_web_api_key": steamKey}, nil},
		{"POST", "/v1/games", acme.key, map[string]any{"name": "", "slug": "A", "steam_web_api_key": steamKey}, nil},
		{"POST", "/v1/games", acme.key, map[string]any{"name": "Typed", "steam_web_api_key": map[string]any{"key": steamKey}}, nil},
		{"POST", "/v1/games", acme.key, []any{map[string]any{"name": "Array", "steam_web_api_key": steamKey}}, nil},
		{"POST", "/v1/games", acme.key, `"` + steamKey + `"`, nil},
		{"POST", "/v1/games", acme.key, `{"name":"Broken","steam_web_api_key":"` + steamKey + `"`, nil},
		{"POST", "/v1/games", acme.key, "steam_web_api_key=" + steamKey, []string{"Content-Type", "text/plain"}},
		{"POST", "/v1/games", acme.key, map[string]any{"name": "Secretive", "slug": g.str("slug"), "steam_web_api_key": steamKey}, nil},
		{"POST", "/v1/games", acme.key, map[string]any{"account_id": "x", "name": "Bad account", "steam_web_api_key": steamKey}, nil},
		{"PATCH", path, acme.key, map[string]any{"name": " ", "steam_web_api_key": steamKey}, nil},
		{"PATCH", path, acme.key, map[string]any{"steam_web_api_key": []string{steamKey}}, nil},
		{"PATCH", path, acme.key, `[{"steam_web_api_key":"` + steamKey + `"}]`, nil},
		{"PATCH", path, acme.key, map[string]any{"steam_web_api_key": strings.ToLower(steamKey)}, nil},
		{"PATCH", path + "x", acme.key, map[string]any{"steam_web_api_key": steamKey}, nil},
		{"GET", path, acme.key, nil, nil},
		{"GET", "/v1/games?limit=100", e.super, nil, nil},
	}
	for _, rq := range requests {
		r := e.do(rq.method, rq.path, rq.key, rq.body, rq.headers...)
		if r.status >= 500 {
			t.Fatalf("%s %s: %s", rq.method, rq.path, r.raw)
		}
		wantNoSteamKey(t, r)
	}
	if strings.Contains(strings.ToLower(e.logs.String()), strings.ToLower(steamKey)) {
		t.Fatal("the Steam Web API key is in the log")
	}
	if strings.Contains(e.logs.String(), testEncryptionKey) {
		t.Fatal("the encryption key is in the log")
	}
}

func TestGetGame(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	g := e.newGame(acme, map[string]any{"name": "Findable"})
	path := "/v1/games/" + g.str("id")

	if got := e.do("GET", path, acme.key, nil).want(t, http.StatusOK); got.raw != g.raw {
		t.Fatalf("GET differs from POST:\n%s\n%s", got.raw, g.raw)
	}
	e.do("GET", path, e.super, nil).want(t, http.StatusOK)
	e.do("GET", path+"?account_id="+acme.account, e.super, nil).want(t, http.StatusOK)
	e.do("GET", path+"?account_id="+acme.account, acme.key, nil).want(t, http.StatusOK)
	e.do("GET", path+"?account_id="+other.account, e.super, nil).want(t, http.StatusNotFound, "Game not found")
	upper := e.do("GET", "/v1/games/gam_"+strings.ToUpper(g.str("id")[4:]), acme.key, nil).want(t, http.StatusOK)
	if upper.str("id") != g.str("id") {
		t.Fatal("an upper-case UUID found another game")
	}

	e.do("GET", path, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this game's account")
	e.do("GET", path+"?account_id="+acme.account, other.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
	e.do("GET", "/v1/games/gam_0195f2a0-0000-7000-8000-000000000000", acme.key, nil).want(t, http.StatusNotFound, "Game not found")
	e.do("GET", "/v1/games/gam_0195f2a0-0000-7000-8000-000000000000?account_id="+other.account, acme.key, nil).
		want(t, http.StatusForbidden, "Access denied to the specified account")
	for _, bad := range []string{"nope", "gam_123", "GAM_" + g.str("id")[4:], "ide_0195f2a0-0000-7000-8000-000000000000", "gam_00000000-0000-0000-0000-000000000000"} {
		e.do("GET", "/v1/games/"+bad, acme.key, nil).wantProblem(t, "value_error", "path", "game_id")
	}
	e.do("GET", path+"?account_id=x", acme.key, nil).wantProblem(t, "value_error", "query", "account_id")
	e.do("GET", path, "", nil).want(t, http.StatusUnauthorized, "API key required")
}

func TestUpdateGame(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	g := e.newGame(acme, map[string]any{"name": "Before", "slug": "before"})
	path := "/v1/games/" + g.str("id")

	e.clock.Advance(time.Second)
	for _, body := range []any{map[string]any{}, map[string]any{"name": nil, "deleted": false}, map[string]any{"deleted": nil}, map[string]any{"slug": "after"}} {
		// The slug never changes: a PATCH does not take one.
		if same := e.do("PATCH", path, acme.key, body).want(t, http.StatusOK); same.raw != g.raw {
			t.Fatalf("%v changed the game: %s", body, same.raw)
		}
	}

	// Trimmed, and NFC-normalised: r and a combining acute are one ŕ.
	renamed := e.do("PATCH", path, acme.key, map[string]any{"name": "  After\u0301  "}).want(t, http.StatusOK)
	if renamed.str("name") != "Afte\u0155" || renamed.str("slug") != "before" || renamed.str("created_at") != g.str("created_at") || renamed.str("updated_at") <= g.str("updated_at") {
		t.Fatalf("rename: %s", renamed.raw)
	}
	if got := e.do("GET", path, acme.key, nil); got.raw != renamed.raw {
		t.Fatalf("rename not stored: %s", got.raw)
	}

	t.Run("steam settings are set and cleared", func(t *testing.T) {
		steps := []struct {
			body       map[string]any
			appID      any
			configured bool
		}{
			{map[string]any{"steam_app_id": "480"}, "480", false},
			{map[string]any{"steam_web_api_key": steamKey}, "480", true},
			{map[string]any{"name": "Renamed again"}, "480", true},
			{map[string]any{"steam_app_id": nil}, nil, false},
			{map[string]any{"steam_app_id": "570"}, "570", true},
			{map[string]any{"steam_web_api_key": nil}, "570", false},
			{map[string]any{"steam_app_id": "730", "steam_web_api_key": strings.ToLower(steamKey)}, "730", true},
			{map[string]any{"steam_app_id": nil, "steam_web_api_key": nil}, nil, false},
		}
		for i, s := range steps {
			e.clock.Advance(time.Second)
			before := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
			r := e.do("PATCH", path, acme.key, s.body).want(t, http.StatusOK)
			wantNoSteamKey(t, r)
			if r.body["steam_app_id"] != s.appID || r.body["steam_configured"] != s.configured || len(r.body) != 9 {
				t.Fatalf("step %d %v: %s", i, s.body, r.raw)
			}
			if r.str("updated_at") <= before.str("updated_at") {
				t.Fatalf("step %d %v: updated_at did not advance: %s", i, s.body, r.raw)
			}
			if got := e.do("GET", path, acme.key, nil); got.raw != r.raw {
				t.Fatalf("step %d not stored: %s", i, got.raw)
			}
		}
	})

	current := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
	t.Run("refused", func(t *testing.T) {
		e.do("PATCH", path, acme.key, map[string]any{"name": ""}).wantProblem(t, "string_too_short", "body", "name")
		e.do("PATCH", path, acme.key, map[string]any{"name": strings.Repeat("n", 101)}).wantProblem(t, "string_too_long", "body", "name")
		e.do("PATCH", path, acme.key, map[string]any{"name": 1}).wantProblem(t, "string_type", "body", "name")
		e.do("PATCH", path, acme.key, map[string]any{"steam_app_id": "x"}).wantProblem(t, "value_error", "body", "steam_app_id")
		e.do("PATCH", path, acme.key, map[string]any{"steam_app_id": 480}).wantProblem(t, "string_type", "body", "steam_app_id")
		p := e.do("PATCH", path, acme.key, map[string]any{"steam_web_api_key": "abc"}).wantProblem(t, "value_error", "body", "steam_web_api_key")
		if p["input"] != "[redacted]" {
			t.Fatalf("a rejected key is echoed: %v", p["input"])
		}
		e.do("PATCH", path, acme.key, map[string]any{"deleted": "maybe"}).wantProblem(t, "bool_parsing", "body", "deleted")
		e.do("PATCH", path, acme.key, map[string]any{"deleted": []int{}}).wantProblem(t, "bool_type", "body", "deleted")
		e.do("PATCH", path, acme.key, "{").problems(t)
		e.do("PATCH", path+"?account_id=x", acme.key, map[string]any{}).wantProblem(t, "value_error", "query", "account_id")
		e.do("PATCH", "/v1/games/nope", acme.key, map[string]any{}).wantProblem(t, "value_error", "path", "game_id")
		// Validation comes before access.
		e.do("PATCH", path, other.key, map[string]any{"name": ""}).wantProblem(t, "string_too_short", "body", "name")
		e.do("PATCH", path, other.key, map[string]any{"name": "Mallory"}).want(t, http.StatusForbidden, "You do not have access to this game's account")
		e.do("PATCH", path, other.key, map[string]any{"steam_web_api_key": nil}).want(t, http.StatusForbidden, "You do not have access to this game's account")
		e.do("PATCH", path, other.key, map[string]any{"deleted": true}).want(t, http.StatusForbidden, "You do not have access to this game's account")
		e.do("PATCH", path, other.key, map[string]any{}).want(t, http.StatusForbidden, "You do not have access to this game's account")
		e.do("PATCH", path+"?account_id="+acme.account, other.key, map[string]any{"deleted": true}).
			want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("PATCH", path+"?account_id="+other.account, e.super, map[string]any{"name": "Elsewhere"}).want(t, http.StatusNotFound, "Game not found")
		e.do("PATCH", "/v1/games/gam_0195f2a0-0000-7000-8000-000000000000", acme.key, map[string]any{"name": "Ghost"}).
			want(t, http.StatusNotFound, "Game not found")
		e.do("PATCH", path, "", map[string]any{"name": "Anonymous"}).want(t, http.StatusUnauthorized, "API key required")
		if got := e.do("GET", path, acme.key, nil); got.raw != current.raw {
			t.Fatalf("refused requests changed the game: %s", got.raw)
		}
	})

	t.Run("device sign-in is turned off and on", func(t *testing.T) {
		for _, s := range []struct {
			body    map[string]any
			want    bool
			changed bool
		}{
			{map[string]any{"device_sign_in": false}, false, true},
			{map[string]any{"device_sign_in": nil}, false, false},
			{map[string]any{"name": current.str("name")}, false, false},
			{map[string]any{"device_sign_in": true}, true, true},
		} {
			e.clock.Advance(time.Second)
			before := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
			r := e.do("PATCH", path, acme.key, s.body).want(t, http.StatusOK)
			if r.body["device_sign_in"] != s.want || (r.str("updated_at") != before.str("updated_at")) != s.changed {
				t.Fatalf("%v: %s (before %s)", s.body, r.raw, before.raw)
			}
		}
		e.do("PATCH", path, acme.key, map[string]any{"device_sign_in": "maybe"}).wantProblem(t, "bool_parsing", "body", "device_sign_in")
		e.do("PATCH", path, other.key, map[string]any{"device_sign_in": false}).want(t, http.StatusForbidden, "You do not have access to this game's account")
		current = e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
		if current.body["device_sign_in"] != true {
			t.Fatalf("refused requests changed the game: %s", current.raw)
		}
	})

	t.Run("a superadmin may update any account's game", func(t *testing.T) {
		r := e.do("PATCH", path+"?account_id="+acme.account, e.super, map[string]any{"name": "By the admin"}).want(t, http.StatusOK)
		if r.str("name") != "By the admin" || r.str("account_id") != acme.account {
			t.Fatalf("got %s", r.raw)
		}
		current = r
	})

	t.Run("deletion wins and is final", func(t *testing.T) {
		e.clock.Advance(time.Second)
		deleted := e.do("PATCH", path, acme.key, map[string]any{"deleted": true, "name": "Ignored", "steam_app_id": "1"}).want(t, http.StatusOK)
		if deleted.str("id") != g.str("id") || deleted.str("name") != current.str("name") || deleted.body["steam_app_id"] != current.body["steam_app_id"] {
			t.Fatalf("deletion should win over the other changes and return the game: %s", deleted.raw)
		}
		for _, key := range []string{acme.key, e.super} {
			e.do("GET", path, key, nil).want(t, http.StatusNotFound, "Game not found")
		}
		for _, body := range []map[string]any{{"name": "Back"}, {"deleted": true}, {}, {"steam_app_id": nil}} {
			e.do("PATCH", path, acme.key, body).want(t, http.StatusNotFound, "Game not found")
		}
		// Validation still comes first.
		e.do("PATCH", path, acme.key, map[string]any{"name": ""}).wantProblem(t, "string_too_short", "body", "name")
		for _, q := range []string{"", "?slug=before", "?account_id=" + acme.account} {
			if r := e.do("GET", "/v1/games"+q, acme.key, nil).want(t, http.StatusOK); slices.Contains(column(r, "id"), g.str("id")) {
				t.Fatalf("a deleted game is listed (%q): %s", q, r.raw)
			}
		}
		if r := e.do("GET", "/v1/games?limit=100", e.super, nil).want(t, http.StatusOK); slices.Contains(column(r, "id"), g.str("id")) {
			t.Fatalf("a deleted game is listed to a superadmin: %s", r.raw)
		}
	})
}

func TestGameBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	pad := strings.Repeat("a", 1<<20)
	e.do("POST", "/v1/games", acme.key, `{"name":"Huge","x":"`+pad+`"}`).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	e.do("PATCH", "/v1/games/"+acme.game, acme.key, `{"name":"Huge","x":"`+pad+`"}`).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	if list := e.do("GET", "/v1/games", acme.key, nil).want(t, http.StatusOK); !slices.Equal(column(list, "name"), []string{"Game acme"}) {
		t.Fatalf("an oversized request changed the games: %s", list.raw)
	}
	// The limit itself is accepted.
	prefix := `{"name":"Big","x":"`
	e.do("POST", "/v1/games", acme.key, prefix+pad[:1<<20-len(prefix)-2]+`"}`).want(t, http.StatusCreated)
}

func TestListGames(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	// Names whose byte order differs from a case-insensitive one.
	ids := []string{acme.game}
	for _, name := range []string{"beta", "Alpha", "alpha", "Gamma", "Zeta"} {
		e.clock.Advance(time.Millisecond)
		ids = append(ids, e.newGame(acme, map[string]any{"name": name}).str("id"))
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)

	first := e.do("GET", "/v1/games?limit=4", acme.key, nil).want(t, http.StatusOK)
	pg := first.body["pagination"].(map[string]any)
	if pg["count"] != float64(4) || pg["has_next"] != true || pg["has_prev"] != false || pg["prev_cursor"] != nil || pg["next_cursor"] == nil {
		t.Fatalf("first page pagination: %v", pg)
	}
	if got := column(first, "id"); !slices.Equal(got, newest[:4]) {
		t.Fatal("default order is not created_at descending")
	}

	t.Run("walk forward and back", func(t *testing.T) {
		var seen []string
		var pages []response
		cursor := ""
		for {
			path := "/v1/games?limit=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
			pages = append(pages, r)
			seen = append(seen, column(r, "id")...)
			pg := r.body["pagination"].(map[string]any)
			if (pg["next_cursor"] != nil) != pg["has_next"] || (pg["prev_cursor"] != nil) != pg["has_prev"] {
				t.Fatalf("cursors and flags disagree: %v", pg)
			}
			if pg["has_next"] != true {
				break
			}
			cursor = pg["next_cursor"].(string)
		}
		if !slices.Equal(seen, newest) || len(pages) != 3 {
			t.Fatalf("forward walk saw %v, want %v", seen, newest)
		}
		last := pages[2].body["pagination"].(map[string]any)
		prev := e.do("GET", "/v1/games?limit=2&cursor="+url.QueryEscape(last["prev_cursor"].(string)), acme.key, nil).want(t, http.StatusOK)
		if !slices.Equal(column(prev, "id"), column(pages[1], "id")) {
			t.Fatalf("going back from the last page did not give the second page: %s", prev.raw)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for q, want := range map[string][]string{
			// "Alpha" came first and derived "alpha"; "alpha" got "alpha-2".
			"?slug=alpha":                           {ids[2]},
			"?slug=alpha-2":                         {ids[3]},
			"?slug=alph":                            nil, // exact, not a prefix
			"?slug=ALPHA":                           nil,
			"?slug=game-other":                      nil, // another account's
			"?slug=":                                nil, // exact: no game has an empty slug
			"?account_id=" + acme.account:           newest,
			"?slug=beta&account_id=" + acme.account: {ids[1]},
		} {
			r := e.do("GET", "/v1/games"+q, acme.key, nil).want(t, http.StatusOK)
			if got := column(r, "id"); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
		r := e.do("GET", "/v1/games?limit=100", e.super, nil).want(t, http.StatusOK)
		if n := len(column(r, "id")); n != 7 {
			t.Fatalf("a superadmin sees every account: %d games", n)
		}
		r = e.do("GET", "/v1/games?account_id="+other.account, e.super, nil).want(t, http.StatusOK)
		if got := column(r, "id"); !slices.Equal(got, []string{other.game}) {
			t.Fatalf("superadmin with account_id: %v", got)
		}
		r = e.do("GET", "/v1/games?slug=game-other", e.super, nil).want(t, http.StatusOK)
		if got := column(r, "id"); !slices.Equal(got, []string{other.game}) {
			t.Fatalf("superadmin with slug: %v", got)
		}
		e.do("GET", "/v1/games?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("GET", "/v1/games?account_id=x", acme.key, nil).wantProblem(t, "value_error", "query", "account_id")
		e.do("GET", "/v1/games?account_id="+other.account+"&limit=0", acme.key, nil).wantProblem(t, "greater_than_equal", "query", "limit")
		e.do("GET", "/v1/games", "", nil).want(t, http.StatusUnauthorized, "API key required")
	})

	t.Run("sort", func(t *testing.T) {
		for _, c := range []struct {
			sort, field string
			want        []string
		}{
			// Byte order: upper case before lower case.
			{"name:asc", "name", []string{"Alpha", "Game acme", "Gamma", "Zeta", "alpha", "beta"}},
			{"name:desc", "name", []string{"beta", "alpha", "Zeta", "Gamma", "Game acme", "Alpha"}},
			{"slug:desc", "slug", []string{"zeta", "gamma", "game-acme", "beta", "alpha-2", "alpha"}},
			{"slug:ASC", "slug", []string{"alpha", "alpha-2", "beta", "game-acme", "gamma", "zeta"}},
			{"created_at:asc", "id", ids},
			{"updated_at:desc,name:asc", "id", newest},
		} {
			r := e.do("GET", "/v1/games?sort="+url.QueryEscape(c.sort), acme.key, nil).want(t, http.StatusOK)
			if got := column(r, c.field); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.sort, got, c.want)
			}
		}
		valid := "Valid fields: created_at, id, name, slug, updated_at"
		for sort, msg := range map[string]string{
			"display_name:asc":   "Unknown sort field: display_name. " + valid,
			"kind:asc":           "Unknown sort field: kind. " + valid,
			"name":               "Invalid sort specification: name. Expected 'field:asc' or 'field:desc'. " + valid,
			"name:up":            `Invalid sort direction: "up" in name:up. Expected 'asc' or 'desc'. ` + valid,
			"name:asc,":          `Invalid sort specification: empty element in "name:asc,". Expected 'field:asc' or 'field:desc'. ` + valid,
			"slug:asc,slug:desc": "Sort field named twice: slug. " + valid,
		} {
			e.do("GET", "/v1/games?sort="+url.QueryEscape(sort), acme.key, nil).want(t, http.StatusBadRequest, msg)
		}
	})

	t.Run("cursor misuse", func(t *testing.T) {
		next := first.body["pagination"].(map[string]any)["next_cursor"].(string)
		e.do("GET", "/v1/games?limit=1&cursor="+url.QueryEscape(next), acme.key, nil).want(t, http.StatusOK) // limit may change
		swapped := next[:len(next)-2] + "AA"
		if strings.HasSuffix(next, "AA") {
			swapped = next[:len(next)-2] + "BB"
		}
		for _, bad := range []string{"abc", "!!!", swapped, "A" + next[1:], strings.Repeat("A", 40)} {
			e.do("GET", "/v1/games?cursor="+url.QueryEscape(bad), acme.key, nil).want(t, http.StatusBadRequest, "Invalid pagination cursor")
		}
		mismatch := "Query parameters don't match cursor state. Start a new pagination sequence."
		for _, q := range []string{"&sort=id:asc", "&slug=alpha", "&sort=created_at:asc"} {
			e.do("GET", "/v1/games?cursor="+url.QueryEscape(next)+q, acme.key, nil).want(t, http.StatusBadRequest, mismatch)
		}
		e.do("GET", "/v1/games?cursor="+url.QueryEscape(next), other.key, nil).want(t, http.StatusBadRequest, mismatch)
		e.do("GET", "/v1/games?cursor="+url.QueryEscape(next), e.super, nil).want(t, http.StatusBadRequest, mismatch)
		// A cursor of another resource is foreign.
		e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
		e.newIdentity(acme, map[string]any{"external_key": "device-0002"})
		identities := e.do("GET", "/v1/identities?limit=1", acme.key, nil).want(t, http.StatusOK)
		foreign := identities.body["pagination"].(map[string]any)["next_cursor"].(string)
		e.do("GET", "/v1/games?cursor="+url.QueryEscape(foreign), acme.key, nil).want(t, http.StatusBadRequest, "Invalid pagination cursor")
	})

	t.Run("limit", func(t *testing.T) {
		for q, typ := range map[string]string{"0": "greater_than_equal", "101": "less_than_equal", "x": "int_parsing"} {
			e.do("GET", "/v1/games?limit="+q, acme.key, nil).wantProblem(t, typ, "query", "limit")
		}
	})
}

// TestIdentitiesBelongToALiveGame: an identity is created only in a live
// game of its own account; a game's deletion hides none of its identities.
func TestIdentitiesBelongToALiveGame(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	retired := e.newGame(acme, map[string]any{"name": "Retired"}).str("id")
	kept := e.newIdentity(acme, map[string]any{"game_id": retired, "external_key": "device-kept", "display_name": "Kept"})
	e.do("PATCH", "/v1/games/"+retired, acme.key, map[string]any{"deleted": true}).want(t, http.StatusOK)
	count := func() any {
		return e.do("GET", "/v1/identities?limit=100", e.super, nil).want(t, http.StatusOK).body["pagination"].(map[string]any)["count"]
	}
	before := count()

	for _, c := range []struct {
		name, key string
		body      map[string]any
	}{
		{"unknown game", acme.key, map[string]any{"game_id": unknownGame}},
		{"another account's game", acme.key, map[string]any{"game_id": other.game}},
		{"another account's game, own account named", acme.key, map[string]any{"game_id": other.game, "account_id": acme.account}},
		{"deleted game", acme.key, map[string]any{"game_id": retired}},
		// Even the identity that exists there is not got any more.
		{"deleted game, existing identity", acme.key, map[string]any{"game_id": retired, "external_key": "device-kept"}},
		{"superadmin, game of another account than named", e.super, map[string]any{"game_id": other.game, "account_id": acme.account}},
		{"superadmin, deleted game", e.super, map[string]any{"game_id": retired, "account_id": acme.account}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.body["kind"] = "DEVICE"
			if _, ok := c.body["external_key"]; !ok {
				c.body["external_key"] = "device-0001"
			}
			e.do("POST", "/v1/identities", c.key, c.body).want(t, http.StatusNotFound, "Game not found")
		})
	}
	if after := count(); after != before {
		t.Fatalf("refused requests created identities: %v, then %v", before, after)
	}

	t.Run("validation and access come before the game", func(t *testing.T) {
		e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "device", "external_key": "device-0001"}).
			wantProblem(t, "enum", "body", "kind")
		e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": retired, "kind": "DEVICE", "external_key": "short"}).
			wantProblem(t, "value_error", "body", "external_key")
		e.do("POST", "/v1/identities", acme.key, map[string]any{"account_id": other.account, "game_id": unknownGame, "kind": "DEVICE", "external_key": "device-0001"}).
			want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("POST", "/v1/identities", "", map[string]any{"game_id": unknownGame}).want(t, http.StatusUnauthorized, "API key required")
	})

	t.Run("a superadmin creates in the game's account", func(t *testing.T) {
		r := e.do("POST", "/v1/identities", e.super, map[string]any{"account_id": other.account, "game_id": other.game, "kind": "CUSTOM", "external_key": "player-1"}).
			want(t, http.StatusCreated)
		if r.str("account_id") != other.account || r.str("game_id") != other.game {
			t.Fatalf("got %s", r.raw)
		}
	})

	t.Run("a deleted game's identities stay readable and listable", func(t *testing.T) {
		path := "/v1/identities/" + kept.str("id")
		if got := e.do("GET", path, acme.key, nil).want(t, http.StatusOK); got.raw != kept.raw {
			t.Fatalf("got %s, want %s", got.raw, kept.raw)
		}
		for _, q := range []string{"", "?game_id=" + retired, "?external_key=device-kept"} {
			r := e.do("GET", "/v1/identities"+q, acme.key, nil).want(t, http.StatusOK)
			if !slices.Contains(column(r, "id"), kept.str("id")) {
				t.Fatalf("%q does not list the identity of a deleted game: %s", q, r.raw)
			}
		}
		if r := e.do("GET", "/v1/identities?game_id="+retired, acme.key, nil); len(column(r, "id")) != 1 {
			t.Fatalf("game filter: %s", r.raw)
		}
	})
}

func TestListIdentitiesByExternalKey(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	second := e.newGame(acme, map[string]any{"name": "Second"}).str("id")
	device := e.newIdentity(acme, map[string]any{"external_key": "device-0001"}).str("id")
	custom := e.newIdentity(acme, map[string]any{"kind": "CUSTOM", "external_key": "device-0001"}).str("id")
	inSecond := e.newIdentity(acme, map[string]any{"game_id": second, "external_key": "device-0001"}).str("id")
	e.newIdentity(acme, map[string]any{"external_key": "device-00011"})
	e.newIdentity(acme, map[string]any{"external_key": "DEVICE-0001"})
	e.newIdentity(acme, map[string]any{"external_key": "device-000"})
	odd := e.newIdentity(acme, map[string]any{"kind": "CUSTOM", "external_key": "a+b&c=d%20"}).str("id")
	theirs := e.newIdentity(other, map[string]any{"external_key": "device-0001"}).str("id")

	ids := func(q, key string) []string {
		t.Helper()
		got := column(e.do("GET", "/v1/identities"+q, key, nil).want(t, http.StatusOK), "id")
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string {
		slices.Sort(s)
		return s
	}
	for _, c := range []struct {
		q, key string
		want   []string
	}{
		{"?external_key=device-0001", acme.key, sorted(device, custom, inSecond)},
		{"?external_key=device-0001&kind=DEVICE", acme.key, sorted(device, inSecond)},
		{"?external_key=device-0001&kind=CUSTOM", acme.key, sorted(custom)},
		{"?external_key=device-0001&kind=STEAM", acme.key, nil},
		{"?external_key=device-0001&game_id=" + second, acme.key, sorted(inSecond)},
		{"?external_key=device-0001&kind=DEVICE&game_id=" + acme.game, acme.key, sorted(device)},
		{"?external_key=device-0001", e.super, sorted(device, custom, inSecond, theirs)},
		{"?external_key=device-0001&account_id=" + other.account, e.super, sorted(theirs)},
		{"?external_key=" + url.QueryEscape("a+b&c=d%20"), acme.key, sorted(odd)},
		{"?external_key=device-00", acme.key, nil}, // not a prefix match
		{"?external_key=device-0001%20", acme.key, nil},
		{"?external_key=nobody-at-all", acme.key, nil},
	} {
		if got := ids(c.q, c.key); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.q, got, c.want)
		}
	}
	e.do("GET", "/v1/identities?external_key=device-0001&kind=device", acme.key, nil).
		want(t, http.StatusBadRequest, "Invalid kind: device. Must be one of: DEVICE, STEAM, CUSTOM")
	e.do("GET", "/v1/identities?external_key=device-0001&account_id="+other.account, acme.key, nil).
		want(t, http.StatusForbidden, "Access denied to the specified account")

	t.Run("cursors", func(t *testing.T) {
		mismatch := "Query parameters don't match cursor state. Start a new pagination sequence."
		unfiltered := e.do("GET", "/v1/identities?limit=1", acme.key, nil).want(t, http.StatusOK)
		next := unfiltered.body["pagination"].(map[string]any)["next_cursor"].(string)
		e.do("GET", "/v1/identities?limit=1&external_key=device-0001&cursor="+url.QueryEscape(next), acme.key, nil).want(t, http.StatusBadRequest, mismatch)

		var seen []string
		path := "/v1/identities?limit=1&external_key=device-0001"
		r := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
		for {
			seen = append(seen, column(r, "id")...)
			pg := r.body["pagination"].(map[string]any)
			if pg["has_next"] != true {
				break
			}
			c := url.QueryEscape(pg["next_cursor"].(string))
			e.do("GET", "/v1/identities?limit=1&cursor="+c, acme.key, nil).want(t, http.StatusBadRequest, mismatch)
			// Another key is another filter.
			e.do("GET", path+"x&cursor="+c, acme.key, nil).want(t, http.StatusBadRequest, mismatch)
			r = e.do("GET", path+"&cursor="+c, acme.key, nil).want(t, http.StatusOK)
		}
		if !slices.Equal(sorted(seen...), sorted(device, custom, inSecond)) {
			t.Fatalf("walk with external_key saw %v", seen)
		}
	})
}
