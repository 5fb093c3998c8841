package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi"
	appidentity "github.com/leadr-oss/identity/application/identity"
)

var (
	identityIDPattern = regexp.MustCompile(`^ide_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestampPattern  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$`)
)

func init() {
	sliceRoutes = append(sliceRoutes, func(e *env) httpapi.Routes {
		if e.opts.identities != nil {
			return httpapi.IdentityRoutes(e.opts.identities)
		}
		return httpapi.IdentityRoutes(appidentity.NewService(e.mem.Identities(), e.mem.Tenancy(), e.codec, e.now))
	})
}

func TestCreateIdentity(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")

	r := e.do("POST", "/v1/identities", acme.key, map[string]any{
		"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": "  Zoe\u0308  ",
	}).want(t, http.StatusCreated)
	if !identityIDPattern.MatchString(r.str("id")) {
		t.Fatalf("id %q is not a prefixed UUIDv7", r.str("id"))
	}
	if loc := r.header.Get("Location"); loc != "/v1/identities/"+r.str("id") {
		t.Fatalf("Location %q", loc)
	}
	want := map[string]any{"account_id": acme.account, "game_id": acme.game, "kind": "DEVICE",
		"external_key": "device-0001", "display_name": "Zoë"} // trimmed and NFC-normalised
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
	if len(r.body) != 9 {
		t.Errorf("body has %d fields, want the 9 of IdentityResponse: %s", len(r.body), r.raw)
	}

	t.Run("same key again answers 200 with the same identity", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		again := e.do("POST", "/v1/identities", acme.key, map[string]any{
			"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001",
		}).want(t, http.StatusOK)
		if again.str("id") != r.str("id") || again.str("display_name") != "Zoë" || again.str("updated_at") != r.str("updated_at") {
			t.Fatalf("got %s", again.raw)
		}
		renamed := e.do("POST", "/v1/identities", acme.key, map[string]any{
			"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": "Renamed",
		}).want(t, http.StatusOK)
		if renamed.str("display_name") != "Renamed" || renamed.str("updated_at") == r.str("updated_at") ||
			renamed.str("created_at") != r.str("created_at") {
			t.Fatalf("a different display name was not applied: %s", renamed.raw)
		}
	})

	t.Run("a superadmin must name the account", func(t *testing.T) {
		e.do("POST", "/v1/identities", e.super, map[string]any{"game_id": acme.game, "kind": "STEAM", "external_key": "76561197960287930"}).
			wantProblem(t, "missing", "body", "account_id")
		created := e.do("POST", "/v1/identities", e.super, map[string]any{
			"account_id": acme.account, "game_id": acme.game, "kind": "STEAM", "external_key": "76561197960287930",
		}).want(t, http.StatusCreated)
		if created.str("account_id") != acme.account || created.body["display_name"] != nil {
			t.Fatalf("got %s", created.raw)
		}
		// A superadmin who names an account that does not exist is told so,
		// rather than that the game (of another account) is unknown.
		e.do("POST", "/v1/identities", e.super, map[string]any{
			"account_id": "acc_0195f2a0-0000-7000-8000-00000000dead", "game_id": acme.game, "kind": "STEAM", "external_key": "76561197960287930",
		}).want(t, http.StatusNotFound, "Account not found")
		if r := e.do("GET", "/v1/identities?account_id=acc_0195f2a0-0000-7000-8000-00000000dead", e.super, nil).want(t, http.StatusOK); len(column(r, "id")) != 0 {
			t.Fatalf("an identity of an unknown account was stored: %s", r.raw)
		}
	})

	t.Run("a regular user may not name another account", func(t *testing.T) {
		other := e.newTenant("other")
		e.do("POST", "/v1/identities", acme.key, map[string]any{
			"account_id": other.account, "game_id": acme.game, "kind": "DEVICE", "external_key": "device-0002",
		}).want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("POST", "/v1/identities", acme.key, map[string]any{
			"account_id": acme.account, "game_id": acme.game, "kind": "DEVICE", "external_key": "device-0002",
		}).want(t, http.StatusCreated)
	})

	t.Run("validation comes before access", func(t *testing.T) {
		other := e.newTenant("other2")
		e.do("POST", "/v1/identities", acme.key, map[string]any{
			"account_id": other.account, "game_id": acme.game, "kind": "DEVICE", "external_key": "short",
		}).wantProblem(t, "value_error", "body", "external_key")
	})
}

func TestCreateIdentityValidation(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	long := strings.Repeat("x", 129)
	cases := []struct {
		name  string
		body  any
		typ   string
		loc   []any
		input any
	}{
		{"kind not in the set", map[string]any{"game_id": acme.game, "kind": "device", "external_key": "device-0001"}, "enum", []any{"body", "kind"}, "device"},
		{"device key too short", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "123456789"}, "value_error", []any{"body", "external_key"}, "123456789"},
		{"device key too long", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": long}, "value_error", []any{"body", "external_key"}, long},
		{"device key with a space", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device 0001"}, "value_error", []any{"body", "external_key"}, "device 0001"},
		{"custom key too short", map[string]any{"game_id": acme.game, "kind": "CUSTOM", "external_key": "abcde"}, "value_error", []any{"body", "external_key"}, "abcde"},
		{"steam key wrong prefix", map[string]any{"game_id": acme.game, "kind": "STEAM", "external_key": "12345678901234567"}, "value_error", []any{"body", "external_key"}, "12345678901234567"},
		{"steam key too short", map[string]any{"game_id": acme.game, "kind": "STEAM", "external_key": "7656119796028793"}, "value_error", []any{"body", "external_key"}, "7656119796028793"},
		{"display name blank", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": " \t "}, "string_too_short", []any{"body", "display_name"}, " \t "},
		{"display name too long", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": strings.Repeat("é", 65)}, "string_too_long", []any{"body", "display_name"}, strings.Repeat("é", 65)},
		{"display name with a control character", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": "a\u0007b"}, "value_error", []any{"body", "display_name"}, "a\u0007b"},
		{"display name not a string", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": 5}, "string_type", []any{"body", "display_name"}, float64(5)},
		{"game id with the wrong prefix", map[string]any{"game_id": "acc_0195f2a0-0000-7000-8000-000000000001", "kind": "DEVICE", "external_key": "device-0001"}, "value_error", []any{"body", "game_id"}, "acc_0195f2a0-0000-7000-8000-000000000001"},
		{"game id with a bad uuid", map[string]any{"game_id": "gam_0195f2a0-0000-7000-8000-00000000000g", "kind": "DEVICE", "external_key": "device-0001"}, "value_error", []any{"body", "game_id"}, "gam_0195f2a0-0000-7000-8000-00000000000g"},
		{"game id missing", map[string]any{"kind": "DEVICE", "external_key": "device-0001"}, "missing", []any{"body", "game_id"}, map[string]any{"kind": "DEVICE", "external_key": "device-0001"}},
		{"external key missing", map[string]any{"game_id": acme.game, "kind": "DEVICE"}, "missing", []any{"body", "external_key"}, map[string]any{"game_id": acme.game, "kind": "DEVICE"}},
		{"external key null", map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": nil}, "string_type", []any{"body", "external_key"}, nil},
		{"body is an array", []any{1}, "model_attributes_type", []any{"body"}, []any{float64(1)}},
		{"body is empty", "", "missing", []any{"body"}, nil},
		{"body is not JSON", `{"game_id": `, "json_invalid", nil, map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/identities", acme.key, c.body)
			if c.loc == nil { // json_invalid: loc is body and the error's offset
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
	// Nothing above created anything.
	list := e.do("GET", "/v1/identities", acme.key, nil).want(t, http.StatusOK)
	if n := list.body["pagination"].(map[string]any)["count"]; n != float64(0) {
		t.Fatalf("rejected requests created %v identities", n)
	}

	t.Run("every problem is reported at once", func(t *testing.T) {
		r := e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": 7, "external_key": []int{}, "display_name": false})
		if n := len(r.problems(t)); n != 4 {
			t.Fatalf("%d problems, want 4 (game_id, kind, external_key, display_name): %s", n, r.raw)
		}
	})
	t.Run("a form body is not JSON", func(t *testing.T) {
		r := e.do("POST", "/v1/identities", acme.key, "game_id=x", "Content-Type", "application/x-www-form-urlencoded")
		r.wantProblem(t, "model_attributes_type", "body")
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": acme.game, "kind": "CUSTOM", "external_key": "custom-1", "colour": "red"}).
			want(t, http.StatusCreated)
	})
	t.Run("upper-case UUIDs are accepted and answered in lower case", func(t *testing.T) {
		r := e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": strings.ToUpper(acme.game[4:]), "kind": "CUSTOM", "external_key": "custom-2"})
		r.wantProblem(t, "value_error", "body", "game_id") // the prefix is case-sensitive
		r = e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": "gam_" + strings.ToUpper(acme.game[4:]), "kind": "CUSTOM", "external_key": "custom-2"}).
			want(t, http.StatusCreated)
		if r.str("game_id") != acme.game {
			t.Fatalf("game_id %q, want %q", r.str("game_id"), acme.game)
		}
	})
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	big := `{"game_id":"` + acme.game + `","kind":"DEVICE","external_key":"device-0001","x":"` + strings.Repeat("a", 1<<20) + `"}`
	e.do("POST", "/v1/identities", acme.key, big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	if n := len(e.do("GET", "/v1/identities", acme.key, nil).body["data"].([]any)); n != 0 {
		t.Fatalf("an oversized request created %d identities", n)
	}
}

func TestConcurrentGetOrCreate(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	const n = 20
	statuses := make([]int, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-race"})
			statuses[i], ids[i] = r.status, r.str("id")
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if statuses[i] == http.StatusCreated {
			created++
		} else if statuses[i] != http.StatusOK {
			t.Fatalf("status %d", statuses[i])
		}
		if ids[i] != ids[0] {
			t.Fatal("racers got different identities")
		}
	}
	if created != 1 {
		t.Fatalf("%d answers were 201, want exactly 1", created)
	}
}

func TestGetIdentity(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	i := e.newIdentity(acme, map[string]any{"external_key": "device-0001", "display_name": "Ann"})
	path := "/v1/identities/" + i.str("id")

	got := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
	if got.raw != i.raw {
		t.Fatalf("GET differs from POST:\n%s\n%s", got.raw, i.raw)
	}
	e.do("GET", path, e.super, nil).want(t, http.StatusOK)
	e.do("GET", path+"?account_id="+acme.account, e.super, nil).want(t, http.StatusOK)
	e.do("GET", path+"?account_id="+other.account, e.super, nil).want(t, http.StatusNotFound, "Identity not found")
	e.do("GET", strings.ToUpper(path[:4])+path[4:], acme.key, nil).want(t, http.StatusNotFound, "Not Found")
	e.do("GET", "/v1/identities/IDE_"+i.str("id")[4:], acme.key, nil).wantProblem(t, "value_error", "path", "identity_id")
	upper := e.do("GET", "/v1/identities/ide_"+strings.ToUpper(i.str("id")[4:]), acme.key, nil).want(t, http.StatusOK)
	if upper.str("id") != i.str("id") {
		t.Fatal("an upper-case UUID found another identity")
	}

	e.do("GET", path, other.key, nil).want(t, http.StatusForbidden, "You do not have access to this identity's account")
	e.do("GET", path+"?account_id="+acme.account, other.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
	e.do("GET", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000", acme.key, nil).want(t, http.StatusNotFound, "Identity not found")
	e.do("GET", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000?account_id="+other.account, acme.key, nil).
		want(t, http.StatusForbidden, "Access denied to the specified account")
	for _, bad := range []string{"nope", "ide_123", "acc_0195f2a0-0000-7000-8000-000000000000", "ide_00000000-0000-0000-0000-000000000000"} {
		e.do("GET", "/v1/identities/"+bad, acme.key, nil).wantProblem(t, "value_error", "path", "identity_id")
	}
	e.do("GET", path+"?account_id=x", acme.key, nil).wantProblem(t, "value_error", "query", "account_id")
}

func TestUpdateIdentity(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	i := e.newIdentity(acme, map[string]any{"external_key": "device-0001", "display_name": "Ann"})
	path := "/v1/identities/" + i.str("id")

	e.clock.Advance(time.Second)
	same := e.do("PATCH", path, acme.key, map[string]any{}).want(t, http.StatusOK)
	if same.raw != i.raw {
		t.Fatalf("{} changed the identity: %s", same.raw)
	}
	same = e.do("PATCH", path, acme.key, map[string]any{"display_name": nil, "deleted": false}).want(t, http.StatusOK)
	if same.raw != i.raw {
		t.Fatalf("null name and deleted=false changed the identity: %s", same.raw)
	}

	renamed := e.do("PATCH", path, acme.key, map[string]any{"display_name": " Bea "}).want(t, http.StatusOK)
	if renamed.str("display_name") != "Bea" || renamed.str("created_at") != i.str("created_at") || renamed.str("updated_at") <= i.str("updated_at") {
		t.Fatalf("rename: %s", renamed.raw)
	}
	if got := e.do("GET", path, acme.key, nil); got.raw != renamed.raw {
		t.Fatalf("rename not stored: %s", got.raw)
	}

	e.do("PATCH", path, acme.key, map[string]any{"display_name": ""}).wantProblem(t, "string_too_short", "body", "display_name")
	e.do("PATCH", path, acme.key, map[string]any{"deleted": "maybe"}).wantProblem(t, "bool_parsing", "body", "deleted")
	e.do("PATCH", path, acme.key, map[string]any{"deleted": []int{}}).wantProblem(t, "bool_type", "body", "deleted")
	e.do("PATCH", path, acme.key, map[string]any{"display_name": 1}).wantProblem(t, "string_type", "body", "display_name")
	e.do("PATCH", path, acme.key, "{").problems(t)
	e.do("PATCH", path, other.key, map[string]any{"display_name": ""}).wantProblem(t, "string_too_short", "body", "display_name")
	e.do("PATCH", path, other.key, map[string]any{"display_name": "Mallory"}).want(t, http.StatusForbidden, "You do not have access to this identity's account")
	e.do("PATCH", path, other.key, map[string]any{"deleted": true}).want(t, http.StatusForbidden)
	e.do("PATCH", path+"?account_id="+acme.account, other.key, map[string]any{"deleted": true}).want(t, http.StatusForbidden, "Access denied to the specified account")
	if got := e.do("GET", path, acme.key, nil); got.raw != renamed.raw {
		t.Fatalf("refused requests changed the identity: %s", got.raw)
	}
	e.do("PATCH", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000", acme.key, map[string]any{"display_name": "x y"}).
		want(t, http.StatusNotFound, "Identity not found")

	e.clock.Advance(time.Second)
	deleted := e.do("PATCH", path, acme.key, map[string]any{"deleted": "true", "display_name": "Ignored"}).want(t, http.StatusOK)
	if deleted.str("display_name") != "Bea" || deleted.str("id") != i.str("id") {
		t.Fatalf("deletion should win over the rename and return the identity: %s", deleted.raw)
	}
	e.do("GET", path, acme.key, nil).want(t, http.StatusNotFound, "Identity not found")
	e.do("PATCH", path, acme.key, map[string]any{"display_name": "Back"}).want(t, http.StatusNotFound, "Identity not found")
	e.do("PATCH", path, acme.key, map[string]any{"deleted": true}).want(t, http.StatusNotFound, "Identity not found")
	list := e.do("GET", "/v1/identities", acme.key, nil).want(t, http.StatusOK)
	if n := len(list.body["data"].([]any)); n != 0 {
		t.Fatalf("a deleted identity is listed")
	}
	again := e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
	if again.str("id") == i.str("id") {
		t.Fatal("get-or-create resurrected a deleted identity")
	}
}

func TestConcurrentPatches(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	i := e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
	path := "/v1/identities/" + i.str("id")
	var wg sync.WaitGroup
	for n := range 10 {
		wg.Go(func() {
			e.do("PATCH", path, acme.key, map[string]any{"display_name": fmt.Sprintf("name %d", n)}).want(t, http.StatusOK)
		})
	}
	wg.Wait()
	got := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
	if !strings.HasPrefix(got.str("display_name"), "name ") {
		t.Fatalf("got %s", got.raw)
	}
}

func TestListIdentities(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	var ids []string
	for n := range 7 {
		kind, key := "DEVICE", fmt.Sprintf("device-%04d", n)
		if n%3 == 1 {
			kind, key = "STEAM", fmt.Sprintf("765611979602879%02d", n)
		}
		ids = append(ids, e.newIdentity(acme, map[string]any{"kind": kind, "external_key": key, "display_name": fmt.Sprintf("p%d", n%3)}).str("id"))
		e.clock.Advance(time.Millisecond)
	}
	e.newIdentity(other, map[string]any{"external_key": "device-other"})

	first := e.do("GET", "/v1/identities?limit=3", acme.key, nil).want(t, http.StatusOK)
	pg := first.body["pagination"].(map[string]any)
	if pg["count"] != float64(3) || pg["has_next"] != true || pg["has_prev"] != false || pg["prev_cursor"] != nil || pg["next_cursor"] == nil {
		t.Fatalf("first page pagination: %v", pg)
	}
	data := first.body["data"].([]any)
	if data[0].(map[string]any)["id"] != ids[6] || data[2].(map[string]any)["id"] != ids[4] {
		t.Fatal("default order is not created_at descending")
	}

	t.Run("walk forward and back", func(t *testing.T) {
		var seen []string
		cursor := ""
		var pages []response
		for {
			path := "/v1/identities?limit=3"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.do("GET", path, acme.key, nil).want(t, http.StatusOK)
			pages = append(pages, r)
			for _, d := range r.body["data"].([]any) {
				seen = append(seen, d.(map[string]any)["id"].(string))
			}
			pg := r.body["pagination"].(map[string]any)
			if (pg["next_cursor"] != nil) != pg["has_next"] || (pg["prev_cursor"] != nil) != pg["has_prev"] {
				t.Fatalf("cursors and flags disagree: %v", pg)
			}
			if pg["has_next"] != true {
				break
			}
			cursor = pg["next_cursor"].(string)
		}
		if len(seen) != 7 || seen[0] != ids[6] || seen[6] != ids[0] {
			t.Fatalf("forward walk saw %v", seen)
		}
		last := pages[len(pages)-1].body["pagination"].(map[string]any)
		prev := e.do("GET", "/v1/identities?limit=3&cursor="+url.QueryEscape(last["prev_cursor"].(string)), acme.key, nil).want(t, http.StatusOK)
		if prev.raw[:strings.Index(prev.raw, `"pagination"`)] != pages[1].raw[:strings.Index(pages[1].raw, `"pagination"`)] {
			t.Fatalf("going back from the last page did not give the second page:\n%s\n%s", prev.raw, pages[1].raw)
		}
		pp := prev.body["pagination"].(map[string]any)
		back := e.do("GET", "/v1/identities?limit=3&cursor="+url.QueryEscape(pp["prev_cursor"].(string)), acme.key, nil).want(t, http.StatusOK)
		bp := back.body["pagination"].(map[string]any)
		if bp["has_prev"] != false || bp["prev_cursor"] != nil || bp["has_next"] != true {
			t.Fatalf("the first page reached backward: %v", bp)
		}
		// limit may change between pages
		e.do("GET", "/v1/identities?limit=5&cursor="+url.QueryEscape(first.body["pagination"].(map[string]any)["next_cursor"].(string)), acme.key, nil).
			want(t, http.StatusOK)
	})

	t.Run("filters", func(t *testing.T) {
		r := e.do("GET", "/v1/identities?kind=STEAM", acme.key, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 2 {
			t.Fatalf("kind=STEAM: %d identities", n)
		}
		r = e.do("GET", "/v1/identities?game_id=gam_0195f2a0-0000-7000-8000-0000000000ff", acme.key, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 0 {
			t.Fatalf("another game: %d identities", n)
		}
		r = e.do("GET", "/v1/identities?limit=100", e.super, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 8 {
			t.Fatalf("a superadmin sees every account: %d identities", n)
		}
		r = e.do("GET", "/v1/identities?account_id="+other.account, e.super, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 1 {
			t.Fatalf("superadmin with account_id: %d identities", n)
		}
		r = e.do("GET", "/v1/identities?account_id="+acme.account, acme.key, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 7 {
			t.Fatalf("own account_id: %d identities", n)
		}
		e.do("GET", "/v1/identities?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
		e.do("GET", "/v1/identities?kind=steam", acme.key, nil).want(t, http.StatusBadRequest, "Invalid kind: steam. Must be one of: DEVICE, STEAM, CUSTOM")
		e.do("GET", "/v1/identities?game_id=acc_0195f2a0-0000-7000-8000-0000000000ff", acme.key, nil).wantProblem(t, "value_error", "query", "game_id")
	})

	t.Run("sort", func(t *testing.T) {
		r := e.do("GET", "/v1/identities?sort=display_name:asc,created_at:DESC", acme.key, nil).want(t, http.StatusOK)
		var names []string
		for _, d := range r.body["data"].([]any) {
			names = append(names, d.(map[string]any)["display_name"].(string))
		}
		if strings.Join(names, ",") != "p0,p0,p0,p1,p1,p2,p2" {
			t.Fatalf("sorted names: %v", names)
		}
		valid := "Valid fields: created_at, display_name, id, kind, updated_at"
		for sort, msg := range map[string]string{
			"name:asc":                          "Unknown sort field: name. " + valid,
			"display_name":                      "Invalid sort specification: display_name. Expected 'field:asc' or 'field:desc'. " + valid,
			"display_name:up":                   `Invalid sort direction: "up" in display_name:up. Expected 'asc' or 'desc'. ` + valid,
			"display_name:asc,,id:asc":          `Invalid sort specification: empty element in "display_name:asc,,id:asc". Expected 'field:asc' or 'field:desc'. ` + valid,
			"":                                  `Invalid sort specification: empty element in "". Expected 'field:asc' or 'field:desc'. ` + valid,
			"kind:asc,kind:desc":                "Sort field named twice: kind. " + valid,
			"display_name:asc,display_name:asc": "Sort field named twice: display_name. " + valid,
		} {
			e.do("GET", "/v1/identities?sort="+url.QueryEscape(sort), acme.key, nil).want(t, http.StatusBadRequest, msg)
		}
	})

	t.Run("cursor misuse", func(t *testing.T) {
		next := first.body["pagination"].(map[string]any)["next_cursor"].(string)
		swapped := next[:len(next)-2] + "AA"
		if strings.HasSuffix(next, "AA") {
			swapped = next[:len(next)-2] + "BB"
		}
		for _, bad := range []string{"abc", "!!!", swapped, "A" + next[1:], strings.Repeat("A", 40)} {
			e.do("GET", "/v1/identities?cursor="+url.QueryEscape(bad), acme.key, nil).want(t, http.StatusBadRequest, "Invalid pagination cursor")
		}
		mismatch := "Query parameters don't match cursor state. Start a new pagination sequence."
		for _, q := range []string{"&sort=id:asc", "&kind=DEVICE", "&game_id=" + acme.game} {
			e.do("GET", "/v1/identities?cursor="+url.QueryEscape(next)+q, acme.key, nil).want(t, http.StatusBadRequest, mismatch)
		}
		// Another tenant's cursor continues nothing for this tenant.
		e.do("GET", "/v1/identities?cursor="+url.QueryEscape(next), other.key, nil).want(t, http.StatusBadRequest, mismatch)
		// A cursor of another resource is foreign.
		accounts := e.do("GET", "/v1/accounts?limit=1", e.super, nil).want(t, http.StatusOK)
		foreign := accounts.body["pagination"].(map[string]any)["next_cursor"].(string)
		e.do("GET", "/v1/identities?cursor="+url.QueryEscape(foreign), e.super, nil).want(t, http.StatusBadRequest, "Invalid pagination cursor")
	})

	t.Run("limit", func(t *testing.T) {
		for q, typ := range map[string]string{"0": "greater_than_equal", "101": "less_than_equal", "-1": "greater_than_equal", "x": "int_parsing", "1.5": "int_parsing"} {
			p := e.do("GET", "/v1/identities?limit="+q, acme.key, nil).wantProblem(t, typ, "query", "limit")
			if p["input"] != q {
				t.Fatalf("input %v, want %q", p["input"], q)
			}
		}
		r := e.do("GET", "/v1/identities", acme.key, nil).want(t, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 7 {
			t.Fatalf("default limit: %d", n)
		}
		r = e.do("GET", "/v1/identities?limit=100", acme.key, nil).want(t, http.StatusOK)
		if r.body["pagination"].(map[string]any)["count"] != float64(7) {
			t.Fatal("count is not the page's size")
		}
	})
}
