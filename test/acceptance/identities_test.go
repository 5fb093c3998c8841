package acceptance

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

func ptr[T any](v T) *T { return &v }

// compareBy orders identities as the contract says: strings by their bytes,
// NULL display names after every name ascending (before descending), kind
// by its name, times to the microsecond, and id last.
func compareBy(sort string) func(a, b client.Identity) int {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, part := range strings.Split(sort, ",") {
		field, dir, _ := strings.Cut(part, ":")
		keys = append(keys, key{field, dir == "desc"})
	}
	if !slices.ContainsFunc(keys, func(k key) bool { return k.field == "id" }) {
		keys = append(keys, key{"id", false})
	}
	return func(a, b client.Identity) int {
		for _, k := range keys {
			var c int
			switch k.field {
			case "id":
				c = strings.Compare(a.ID, b.ID)
			case "kind":
				c = strings.Compare(a.Kind, b.Kind)
			case "created_at":
				c = a.CreatedAt.Compare(b.CreatedAt)
			case "updated_at":
				c = a.UpdatedAt.Compare(b.UpdatedAt)
			case "display_name":
				switch {
				case a.DisplayName == nil && b.DisplayName == nil:
				case a.DisplayName == nil:
					c = 1
				case b.DisplayName == nil:
					c = -1
				default:
					c = bytes.Compare([]byte(*a.DisplayName), []byte(*b.DisplayName))
				}
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
}

func ids(items []client.Identity) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = x.ID
	}
	return out
}

// seed creates identities with duplicate and missing display names, all
// kinds, two games, ties in updated_at, and one deleted identity.
func seed(t *testing.T, c *client.Client, games [2]string) []client.Identity {
	t.Helper()
	names := []*string{nil, ptr("alice"), ptr("Bob"), ptr("alice"), nil, ptr("Émile"), ptr("zed"), ptr("Bob"), ptr("ärger"), ptr("Zed"), nil}
	var all []client.Identity
	for n := range 26 {
		req := client.CreateIdentityRequest{GameID: games[n%2], DisplayName: names[n%len(names)]}
		switch n % 3 {
		case 0:
			req.Kind, req.ExternalKey = client.KindDevice, fmt.Sprintf("device-%06d", n)
		case 1:
			req.Kind, req.ExternalKey = client.KindSteam, fmt.Sprintf("7656119%010d", n)
		default:
			req.Kind, req.ExternalKey = client.KindCustom, fmt.Sprintf("custom-%d", n)
		}
		i := harness.NewIdentity(t, c, req)
		if n%4 == 1 {
			var err error
			if i, err = c.UpdateIdentity(t.Context(), i.ID, client.UpdateIdentityRequest{DisplayName: ptr(fmt.Sprintf("renamed %d", n%3))}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, i)
	}
	gone := harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: games[0], Kind: client.KindDevice, ExternalKey: "device-deleted"})
	if _, err := c.DeleteIdentity(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	return all
}

// walk pages forward from the first page and then back from the last, and
// checks each page's flags and cursors.
func walk(t *testing.T, w harness.Wire, query url.Values, limit int, want []client.Identity) {
	t.Helper()
	page := func(cursor string) (harness.Answer, []client.Identity, map[string]any) {
		t.Helper()
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", fmt.Sprint(limit))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		a := w.Do("GET", "/v1/identities?"+q.Encode(), nil).Want(http.StatusOK)
		var items []client.Identity
		for _, d := range a.JSON["data"].([]any) {
			m := d.(map[string]any)
			var i client.Identity
			i.ID = m["id"].(string)
			items = append(items, i)
		}
		pg := a.JSON["pagination"].(map[string]any)
		if (pg["next_cursor"] != nil) != (pg["has_next"] == true) || (pg["prev_cursor"] != nil) != (pg["has_prev"] == true) {
			t.Fatalf("cursors and flags disagree: %v", pg)
		}
		if pg["count"] != float64(len(items)) {
			t.Fatalf("count %v for %d items", pg["count"], len(items))
		}
		return a, items, pg
	}

	var pages [][]client.Identity
	var got []client.Identity
	cursor := ""
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("the forward walk does not end")
		}
		_, items, pg := page(cursor)
		if step == 0 && pg["has_prev"] != false {
			t.Fatal("the first page has a previous page")
		}
		pages = append(pages, items)
		got = append(got, items...)
		if pg["has_next"] != true {
			break
		}
		if len(items) != limit {
			t.Fatalf("a page with a next page has %d items, want %d", len(items), limit)
		}
		cursor = pg["next_cursor"].(string)
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("forward walk:\n got  %v\n want %v", ids(got), ids(want))
	}

	// Back from the last page: the pages before it, each in sort order.
	_, _, pg := page(cursor)
	for i := len(pages) - 2; i >= 0; i-- {
		if pg["has_prev"] != true {
			t.Fatalf("page %d has no previous page", i+1)
		}
		var items []client.Identity
		_, items, pg = page(pg["prev_cursor"].(string))
		if !slices.Equal(ids(items), ids(pages[i])) {
			t.Fatalf("going back to page %d:\n got  %v\n want %v", i, ids(items), ids(pages[i]))
		}
		if pg["has_next"] != true {
			t.Fatal("a page reached backward has no next page")
		}
	}
	if pg["has_prev"] != false || pg["prev_cursor"] != nil {
		t.Fatal("the walk back did not end at the first page")
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	games := [2]string{tenant.Game.ID, harness.NewGame(t, tenant.Client, client.CreateGameRequest{}).ID}
	all := seed(t, tenant.Client, games)
	// Another tenant's identity, with a key like the tenant's own, must stay
	// out of every list below.
	other := harness.NewTenant(t, svc)
	harness.NewIdentity(t, other.Client, client.CreateIdentityRequest{GameID: other.Game.ID, Kind: client.KindDevice, ExternalKey: "device-000000"})
	w := harness.Over(t, tenant.Client)

	filters := []struct {
		name  string
		query url.Values
		match func(client.Identity) bool
	}{
		{"all", url.Values{}, func(client.Identity) bool { return true }},
		{"game", url.Values{"game_id": {games[1]}}, func(i client.Identity) bool { return i.GameID == games[1] }},
		{"kind", url.Values{"kind": {"STEAM"}}, func(i client.Identity) bool { return i.Kind == "STEAM" }},
		{"game and kind", url.Values{"game_id": {games[0]}, "kind": {"DEVICE"}}, func(i client.Identity) bool {
			return i.GameID == games[0] && i.Kind == "DEVICE"
		}},
	}
	sorts := []string{"", "id:asc", "id:desc", "display_name:asc", "display_name:desc", "kind:asc", "kind:desc",
		"created_at:asc", "created_at:desc", "updated_at:asc", "updated_at:desc", "display_name:desc,created_at:asc", "kind:asc,display_name:asc"}
	for _, f := range filters {
		for _, sort := range sorts {
			for _, limit := range []int{1, 4, 7, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", f.name, cmp.Or(sort, "default"), limit), func(t *testing.T) {
					t.Parallel()
					want := slices.DeleteFunc(slices.Clone(all), func(i client.Identity) bool { return !f.match(i) })
					slices.SortStableFunc(want, compareBy(cmp.Or(sort, "created_at:desc,id:asc")))
					q := url.Values{}
					for k, v := range f.query {
						q[k] = v
					}
					if sort != "" {
						q.Set("sort", sort)
					}
					walk(t, w, q, limit, want)
				})
			}
		}
	}

	t.Run("names sort by their bytes", func(t *testing.T) {
		page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{Sort: "display_name:asc", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, i := range page.Data {
			if i.DisplayName == nil {
				names = append(names, "null")
			} else if len(names) == 0 || names[len(names)-1] != *i.DisplayName {
				names = append(names, *i.DisplayName)
			}
		}
		want := "Bob,Zed,alice,renamed 0,renamed 1,renamed 2,zed,Émile,ärger,null"
		if got := strings.Join(slices.Compact(names), ","); got != want {
			t.Fatalf("names in order: %s, want %s", got, want)
		}
	})
}

func TestCursorMisuse(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant, other := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	game := tenant.Game.ID
	for n := range 3 {
		harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindDevice, ExternalKey: fmt.Sprintf("device-%06d", n)})
	}
	w := harness.Over(t, tenant.Client)
	first := w.Do("GET", "/v1/identities?limit=1&sort=display_name:asc", nil).Want(http.StatusOK)
	next := first.JSON["pagination"].(map[string]any)["next_cursor"].(string)
	invalid, mismatch := "Invalid pagination cursor", "Query parameters don't match cursor state. Start a new pagination sequence."

	for _, bad := range []string{"x", "not a cursor", next[:len(next)/2], next + "A", strings.ToUpper(next[:8]) + next[8:]} {
		if bad == next {
			continue
		}
		w.Do("GET", "/v1/identities?sort=display_name:asc&cursor="+url.QueryEscape(bad), nil).Want(http.StatusBadRequest, invalid)
	}
	accounts := harness.Over(t, svc.Admin()).Do("GET", "/v1/accounts?limit=1", nil).Want(http.StatusOK)
	foreign := accounts.JSON["pagination"].(map[string]any)["next_cursor"].(string)
	w.Do("GET", "/v1/identities?cursor="+url.QueryEscape(foreign), nil).Want(http.StatusBadRequest, invalid)

	for _, q := range []string{"", "&sort=display_name:desc", "&sort=display_name:asc&kind=DEVICE", "&sort=display_name:asc&game_id=" + game} {
		w.Do("GET", "/v1/identities?cursor="+url.QueryEscape(next)+q, nil).Want(http.StatusBadRequest, mismatch)
	}
	harness.Over(t, other.Client).Do("GET", "/v1/identities?sort=display_name:asc&cursor="+url.QueryEscape(next), nil).
		Want(http.StatusBadRequest, mismatch)
	// The same sort spelled otherwise, and another limit, continue the walk.
	w.Do("GET", "/v1/identities?limit=5&sort=display_name:ASC,id:asc&cursor="+url.QueryEscape(next), nil).Want(http.StatusOK)
}

func TestSoftDelete(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	req := client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-soft", DisplayName: ptr("Soft")}
	i := harness.NewIdentity(t, tenant.Client, req)
	w := harness.Over(t, tenant.Client)
	path := "/v1/identities/" + i.ID

	deleted := w.Do("PATCH", path, map[string]any{"deleted": true, "display_name": "ignored"}).Want(http.StatusOK)
	if deleted.Str("id") != i.ID || deleted.Str("display_name") != "Soft" {
		t.Fatalf("the delete answer: %s", deleted.Body)
	}
	w.Do("GET", path, nil).Want(http.StatusNotFound, "Identity not found")
	w.Do("PATCH", path, map[string]any{"display_name": "Back"}).Want(http.StatusNotFound, "Identity not found")
	w.Do("PATCH", path, map[string]any{"deleted": true}).Want(http.StatusNotFound, "Identity not found")
	w.Do("PATCH", path, map[string]any{}).Want(http.StatusNotFound, "Identity not found")
	harness.Over(t, svc.Admin()).Do("GET", path, nil).Want(http.StatusNotFound, "Identity not found")
	for x, err := range tenant.Client.Identities(t.Context(), client.ListIdentitiesParams{}) {
		if err != nil || x.ID == i.ID {
			t.Fatalf("a deleted identity is listed (%v)", err)
		}
	}
	again := harness.NewIdentity(t, tenant.Client, req)
	if again.ID == i.ID {
		t.Fatal("get-or-create brought the deleted identity back")
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	i := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "custom-update", DisplayName: ptr("First")})
	w := harness.Over(t, tenant.Client)
	path := "/v1/identities/" + i.ID

	before := w.Do("GET", path, nil).Want(http.StatusOK)
	for _, body := range []any{map[string]any{}, map[string]any{"display_name": nil}, map[string]any{"deleted": false}, map[string]any{"deleted": nil, "extra": 1}} {
		if same := w.Do("PATCH", path, body).Want(http.StatusOK); !bytes.Equal(same.Body, before.Body) {
			t.Fatalf("PATCH %v changed the identity: %s", body, same.Body)
		}
	}
	time.Sleep(2 * time.Millisecond) // updated_at must be able to advance
	renamed := w.Do("PATCH", path, map[string]any{"display_name": "  Second\t"}).Want(http.StatusOK)
	// As instants, not strings: the times come without trailing zeros, and
	// ".12Z" sorts after ".122345Z" though it is earlier.
	var was, now client.Identity
	if err := json.Unmarshal(before.Body, &was); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(renamed.Body, &now); err != nil {
		t.Fatal(err)
	}
	if renamed.Str("display_name") != "Second" || !now.CreatedAt.Equal(was.CreatedAt) || !now.UpdatedAt.After(was.UpdatedAt) {
		t.Fatalf("rename: %s", renamed.Body)
	}
	if got := w.Do("GET", path, nil).Want(http.StatusOK); !bytes.Equal(got.Body, renamed.Body) {
		t.Fatalf("the rename was not kept: %s", got.Body)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	// A real game: a check that let a bad request through would create an
	// identity, which "nothing was created" would see.
	game := tenant.Game.ID
	body := func(kv ...any) map[string]any {
		m := map[string]any{"game_id": game, "kind": "DEVICE", "external_key": "device-valid"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	cases := []struct {
		name string
		body any
		typ  string
		loc  []any
	}{
		{"unknown kind", body("kind", "PHONE"), "enum", []any{"body", "kind"}},
		{"short device key", body("external_key", "short"), "value_error", []any{"body", "external_key"}},
		{"steam key not a SteamID64", body("kind", "STEAM", "external_key", "76561197960287930x"), "value_error", []any{"body", "external_key"}},
		{"custom key with a space", body("kind", "CUSTOM", "external_key", "has space"), "value_error", []any{"body", "external_key"}},
		{"long display name", body("display_name", strings.Repeat("x", 65)), "string_too_long", []any{"body", "display_name"}},
		{"blank display name", body("display_name", "   "), "string_too_short", []any{"body", "display_name"}},
		{"control character", body("display_name", "a\tb\x00"), "value_error", []any{"body", "display_name"}},
		{"right-to-left override", body("display_name", "\u202eadmin\u200b"), "value_error", []any{"body", "display_name"}},
		{"nothing visible", body("display_name", "\u200b\u200b"), "value_error", []any{"body", "display_name"}},
		{"line separator", body("display_name", "a\u2028b"), "value_error", []any{"body", "display_name"}},
		{"missing game", body("game_id", nil), "missing", []any{"body", "game_id"}},
		{"malformed game", body("game_id", "gam_123"), "value_error", []any{"body", "game_id"}},
		// Validation (422) comes before existence (404).
		{"short key in an unknown game", body("game_id", harness.NewGameID(), "external_key", "short"), "value_error", []any{"body", "external_key"}},
		{"wrong prefix", body("account_id", "usr_0195f2a0-0000-7000-8000-000000000001"), "value_error", []any{"body", "account_id"}},
		{"number for a string", body("external_key", 12345678901), "string_type", []any{"body", "external_key"}},
		{"not an object", "[1, 2]", "model_attributes_type", []any{"body"}},
		{"no body", "", "missing", []any{"body"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.Do("POST", "/v1/identities", c.body).Problem(c.typ, c.loc...)
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		a := w.Do("POST", "/v1/identities", `{"game_id": "x",`)
		p := a.Want(http.StatusUnprocessableEntity).JSON["detail"].([]any)[0].(map[string]any)
		if p["type"] != "json_invalid" || p["loc"].([]any)[0] != "body" {
			t.Fatalf("got %s", a.Body)
		}
	})
	t.Run("query and path", func(t *testing.T) {
		w.Do("GET", "/v1/identities?limit=0", nil).Problem("greater_than_equal", "query", "limit")
		w.Do("GET", "/v1/identities?limit=101", nil).Problem("less_than_equal", "query", "limit")
		w.Do("GET", "/v1/identities?limit=ten", nil).Problem("int_parsing", "query", "limit")
		w.Do("GET", "/v1/identities?game_id=nope", nil).Problem("value_error", "query", "game_id")
		w.Do("GET", "/v1/identities/ide_nope", nil).Problem("value_error", "path", "identity_id")
		w.Do("PATCH", "/v1/identities/ide_nope", map[string]any{}).Problem("value_error", "path", "identity_id")
		w.Do("PATCH", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000001", map[string]any{"deleted": "perhaps"}).Problem("bool_parsing", "body", "deleted")
		w.Do("GET", "/v1/identities?kind=device", nil).Want(http.StatusBadRequest, "Invalid kind: device. Must be one of: DEVICE, STEAM, CUSTOM")
		w.Do("GET", "/v1/identities?sort=name:asc", nil).Want(http.StatusBadRequest, "Unknown sort field: name. Valid fields: created_at, display_name, id, kind, updated_at")
	})
	t.Run("nothing was created", func(t *testing.T) {
		page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{})
		if err != nil || len(page.Data) != 0 {
			t.Fatalf("rejected requests created %d identities (%v)", len(page.Data), err)
		}
	})
	t.Run("413", func(t *testing.T) {
		w.Do("POST", "/v1/identities", body("display_name", strings.Repeat("a", 2<<20))).Want(http.StatusRequestEntityTooLarge, "Request body too large")
	})
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	req := client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindSteam, ExternalKey: "76561197960287930"}

	t.Run("get-or-create", func(t *testing.T) {
		const n = 24
		var wg sync.WaitGroup
		results := make([]struct {
			id      string
			created bool
			err     error
		}, n)
		for g := range n {
			wg.Go(func() {
				i, created, err := tenant.Client.CreateIdentity(t.Context(), req)
				results[g].id, results[g].created, results[g].err = i.ID, created, err
			})
		}
		wg.Wait()
		created := 0
		for _, r := range results {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.id != results[0].id {
				t.Fatal("racers got different identities")
			}
			if r.created {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("%d of %d answers were 201, want exactly 1", created, n)
		}
	})

	t.Run("patches", func(t *testing.T) {
		i, _, err := tenant.Client.CreateIdentity(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		var wg sync.WaitGroup
		names := map[string]bool{}
		errs := make([]error, n)
		for g := range n {
			name := fmt.Sprintf("name %d", g)
			names[name] = true
			wg.Go(func() {
				_, errs[g] = tenant.Client.UpdateIdentity(t.Context(), i.ID, client.UpdateIdentityRequest{DisplayName: &name})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := tenant.Client.GetIdentity(t.Context(), i.ID)
		if err != nil || got.DisplayName == nil || !names[*got.DisplayName] {
			t.Fatalf("after concurrent renames: %+v (%v)", got, err)
		}
	})

	t.Run("delete racing renames", func(t *testing.T) {
		i := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: req.GameID, Kind: client.KindDevice, ExternalKey: "device-racing"})
		var wg sync.WaitGroup
		statuses := make([]int, 10)
		for g := range 10 {
			wg.Go(func() {
				var err error
				if g == 5 {
					_, err = tenant.Client.DeleteIdentity(t.Context(), i.ID)
				} else {
					_, err = tenant.Client.UpdateIdentity(t.Context(), i.ID, client.UpdateIdentityRequest{DisplayName: ptr("racer")})
				}
				statuses[g] = client.StatusOf(err)
			})
		}
		wg.Wait()
		for g, s := range statuses {
			if s != 0 && !(s == http.StatusNotFound && g != 5) {
				t.Fatalf("request %d failed with %d", g, s)
			}
		}
		if _, err := tenant.Client.GetIdentity(t.Context(), i.ID); client.StatusOf(err) != http.StatusNotFound {
			t.Fatalf("the identity survived its deletion: %v", err)
		}
	})
}
