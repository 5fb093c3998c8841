package acceptance

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/steamfake"
)

// wantError fails t unless err is the service's answer status with detail.
func wantError(t *testing.T, err error, status int, detail string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Detail != detail {
		t.Fatalf("got %v, want %d %q", err, status, detail)
	}
}

// wantProblem fails t unless err is a 422 with a problem of type typ at loc.
func wantProblem(t *testing.T, err error, typ string, loc ...any) client.Problem {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity {
		t.Fatalf("got %v, want a 422", err)
	}
	for _, p := range e.Problems {
		if p.Type == typ && slices.Equal(p.Loc, loc) {
			return p
		}
	}
	t.Fatalf("no %s problem at %v in %s", typ, loc, e.Body)
	return client.Problem{}
}

// steamKey is a Steam Web API key of its own for each call, so that finding
// it in an answer cannot be a coincidence.
func steamKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var slugRule = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func validSlug(s string) bool { return len(s) >= 3 && len(s) <= 64 && slugRule.MatchString(s) }

func TestGameLifecycle(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	c := tenant.Client

	// A decomposed "é" and surrounding white space: the name is kept trimmed
	// and in NFC.
	g, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: " \tCafe\u0301 Racer  ", Slug: "cafe-racer"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.ID, "gam_") || g.AccountID != tenant.Account.ID || g.Name != "Caf\u00e9 Racer" || g.Slug != "cafe-racer" ||
		g.SteamAppID != nil || g.SteamConfigured || g.CreatedAt.IsZero() || g.UpdatedAt.Before(g.CreatedAt) {
		t.Fatalf("created %+v", g)
	}
	w := harness.Over(t, c)
	path := "/v1/games/" + g.ID
	before := w.Do("GET", path, nil).Want(http.StatusOK)
	if got, err := c.GetGame(t.Context(), g.ID); err != nil || !got.CreatedAt.Equal(g.CreatedAt) || got.Name != g.Name || got.Slug != g.Slug {
		t.Fatalf("get %+v (%v), created %+v", got, err, g)
	}

	t.Run("listed", func(t *testing.T) {
		page, err := c.ListGames(t.Context(), client.ListGamesParams{})
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, x := range page.Data {
			listed = append(listed, x.ID)
		}
		// The newest first: the default order is created_at:desc.
		if !slices.Equal(listed, []string{g.ID, tenant.Game.ID}) || page.Pagination.Count != 2 || page.Pagination.HasNext {
			t.Fatalf("listed %v, want %s then %s; %+v", listed, g.ID, tenant.Game.ID, page.Pagination)
		}
		bySlug, err := c.ListGames(t.Context(), client.ListGamesParams{Slug: "cafe-racer"})
		if err != nil || len(bySlug.Data) != 1 || bySlug.Data[0].ID != g.ID {
			t.Fatalf("by slug: %+v (%v)", bySlug.Data, err)
		}
		if none, err := c.ListGames(t.Context(), client.ListGamesParams{Slug: "cafe"}); err != nil || len(none.Data) != 0 {
			t.Fatalf("a slug filter is exact: %+v (%v)", none.Data, err)
		}
	})

	t.Run("what changes nothing", func(t *testing.T) {
		// The slug is not a field of a change: it stays, like every unknown field.
		for _, body := range []any{map[string]any{}, map[string]any{"name": nil}, map[string]any{"deleted": false},
			map[string]any{"slug": "another-slug", "deleted": nil}} {
			if same := w.Do("PATCH", path, body).Want(http.StatusOK); !bytes.Equal(same.Body, before.Body) {
				t.Fatalf("PATCH %v changed the game: %s", body, same.Body)
			}
		}
	})

	t.Run("rename", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // updated_at must be able to advance
		renamed, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{Name: ptr("  Café Racer II ")})
		if err != nil {
			t.Fatal(err)
		}
		if renamed.Name != "Café Racer II" || renamed.Slug != "cafe-racer" || renamed.ID != g.ID ||
			!renamed.CreatedAt.Equal(g.CreatedAt) || !renamed.UpdatedAt.After(g.UpdatedAt) {
			t.Fatalf("renamed %+v, was %+v", renamed, g)
		}
		if got, err := c.GetGame(t.Context(), g.ID); err != nil || got.Name != renamed.Name || !got.UpdatedAt.Equal(renamed.UpdatedAt) {
			t.Fatalf("the rename was not kept: %+v (%v)", got, err)
		}
	})

	t.Run("superadmin", func(t *testing.T) {
		admin := svc.Admin()
		made, err := admin.CreateGame(t.Context(), client.CreateGameRequest{AccountID: tenant.Account.ID, Name: "Made For You"})
		if err != nil || made.AccountID != tenant.Account.ID || made.Slug != "made-for-you" {
			t.Fatalf("a superadmin's game in the tenant: %+v (%v)", made, err)
		}
		if got, err := c.GetGame(t.Context(), made.ID); err != nil || got.ID != made.ID {
			t.Fatalf("the tenant reads it: %+v (%v)", got, err)
		}
		_, err = admin.CreateGame(t.Context(), client.CreateGameRequest{AccountID: "acc_0195f2a0-0000-7000-8000-000000000009", Name: "Nowhere"})
		wantError(t, err, http.StatusNotFound, "Account not found")
	})
}

func TestGameSteamSettings(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	c := tenant.Client
	var keys []string
	// hidden fails t if an answer holds a key that was sent, or the key's field.
	hidden := func(t *testing.T, body []byte) {
		t.Helper()
		lower := strings.ToLower(string(body))
		for _, k := range keys {
			if strings.Contains(lower, k) {
				t.Fatalf("an answer holds a Steam Web API key: %s", body)
			}
		}
		if strings.Contains(lower, "steam_web_api_key") {
			t.Fatalf("an answer names the write-only field: %s", body)
		}
	}
	w := harness.Over(t, c)
	check := func(t *testing.T, g client.Game, appID string, configured bool) {
		t.Helper()
		got := ""
		if g.SteamAppID != nil {
			got = *g.SteamAppID
		}
		if got != appID || g.SteamConfigured != configured {
			t.Fatalf("steam_app_id %v, steam_configured %v; want %q, %v", g.SteamAppID, g.SteamConfigured, appID, configured)
		}
		a := w.Do("GET", "/v1/games/"+g.ID, nil).Want(http.StatusOK)
		hidden(t, a.Body)
		if a.JSON["steam_configured"] != configured {
			t.Fatalf("GET says steam_configured %v, want %v", a.JSON["steam_configured"], configured)
		}
	}

	t.Run("both at creation", func(t *testing.T) {
		key := steamKey()
		keys = append(keys, key)
		a := w.Do("POST", "/v1/games", map[string]any{"name": "Spacewar", "steam_app_id": "480", "steam_web_api_key": key}).Want(http.StatusCreated)
		hidden(t, a.Body)
		g, err := c.GetGame(t.Context(), a.Str("id"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "480", true)
	})

	t.Run("set one by one and cleared", func(t *testing.T) {
		g := harness.NewGame(t, c, client.CreateGameRequest{SteamAppID: ptr("1234567890")})
		check(t, g, "1234567890", false)
		key := strings.ToUpper(steamKey())
		keys = append(keys, strings.ToLower(key))
		g, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{SteamWebAPIKey: &key})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "1234567890", true)
		g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{ClearSteamWebAPIKey: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "1234567890", false)

		// A key alone is not a configuration either.
		again := steamKey()
		keys = append(keys, again)
		g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{SteamWebAPIKey: &again, ClearSteamAppID: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "", false)
		g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{SteamAppID: ptr("480")})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "480", true)
		// A rename leaves the settings alone.
		g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{Name: ptr("Renamed")})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "480", true)
		g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{ClearSteamAppID: true, ClearSteamWebAPIKey: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g, "", false)
	})

	t.Run("bad settings", func(t *testing.T) {
		g := harness.NewGame(t, c, client.CreateGameRequest{})
		for _, bad := range []string{"", "48o", "12345678901", "-480", " 480"} {
			_, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{SteamAppID: &bad})
			wantProblem(t, err, "value_error", "body", "steam_app_id")
		}
		// A key with a typo may still be nearly a real one: never echoed.
		for _, bad := range []string{"0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdefa", "0123456789abcdef0123456789abcdeg"} {
			_, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{SteamWebAPIKey: &bad})
			wantProblem(t, err, "value_error", "body", "steam_web_api_key")
			if e := err.(*client.Error); bytes.Contains(e.Body, []byte(bad)) {
				t.Fatalf("a refused key is echoed: %s", e.Body)
			}
			_, err = c.CreateGame(t.Context(), client.CreateGameRequest{Name: "Typo", SteamWebAPIKey: &bad})
			if p := wantProblem(t, err, "value_error", "body", "steam_web_api_key"); strings.Contains(fmt.Sprint(p.Input), bad) {
				t.Fatalf("a refused key is echoed: %+v", p)
			}
		}
		if got, err := c.GetGame(t.Context(), g.ID); err != nil || got.SteamAppID != nil || got.SteamConfigured {
			t.Fatalf("refused settings were stored: %+v (%v)", got, err)
		}
	})

	t.Run("no list shows a key", func(t *testing.T) {
		for _, wire := range []harness.Wire{w, harness.Over(t, svc.Admin())} {
			hidden(t, wire.Do("GET", "/v1/games?limit=100", nil).Want(http.StatusOK).Body)
		}
	})
}

func TestGameSlugs(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	a, b := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	count := func(t *testing.T, c *client.Client) int {
		t.Helper()
		n := 0
		for _, err := range c.Games(t.Context(), client.ListGamesParams{Limit: 100}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	create := func(t *testing.T, c *client.Client, name string) client.Game {
		t.Helper()
		g, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: name})
		if err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		return g
	}

	t.Run("derived and counted up", func(t *testing.T) {
		for _, step := range []struct {
			c          *client.Client
			name, slug string
		}{
			{a.Client, "Half-Life", "half-life"},
			{a.Client, "Half-Life", "half-life-2"},
			{a.Client, "  half   LIFE ", "half-life-3"},
			// Slugs are unique within an account: another counts on its own.
			{b.Client, "Half—Life!!", "half-life"},
			{b.Client, "Half-Life", "half-life-2"},
			// "half-life-2" is taken, so the name's own slug counts up.
			{a.Client, "Half-Life 2", "half-life-2-2"},
			{a.Client, "Portal 2: Co-op", "portal-2-co-op"},
		} {
			if g := create(t, step.c, step.name); g.Slug != step.slug {
				t.Fatalf("%q got slug %q, want %q", step.name, g.Slug, step.slug)
			}
		}
	})

	t.Run("an explicit slug is taken as given or refused", func(t *testing.T) {
		g := harness.NewGame(t, a.Client, client.CreateGameRequest{Name: "Portal", Slug: "portal"})
		if g.Slug != "portal" {
			t.Fatalf("slug %q", g.Slug)
		}
		if derived := create(t, a.Client, "Portal"); derived.Slug != "portal-2" {
			t.Fatalf("derived %q next to an explicit portal", derived.Slug)
		}
		_, err := a.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Other", Slug: "portal"})
		wantError(t, err, http.StatusConflict, "Game slug already exists")
		// A derived slug is as taken as a given one.
		_, err = a.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Other", Slug: "portal-2"})
		wantError(t, err, http.StatusConflict, "Game slug already exists")
		for _, ok := range []string{"a1b", "9-9", strings.Repeat("x", 64), "x-" + strings.Repeat("y", 62)} {
			if g := harness.NewGame(t, a.Client, client.CreateGameRequest{Slug: ok}); g.Slug != ok {
				t.Fatalf("slug %q became %q", ok, g.Slug)
			}
		}
		before := count(t, a.Client)
		for _, bad := range []string{"ab", "-abc", "abc-", "a--b", "Abc", "ab_c", "ab c", "émile", strings.Repeat("x", 65)} {
			_, err := a.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Bad Slug", Slug: bad})
			wantProblem(t, err, "value_error", "body", "slug")
		}
		if after := count(t, a.Client); after != before {
			t.Fatalf("refused games were stored: %d games, were %d", after, before)
		}
	})

	// Probing another tenant's slug tells nothing and takes nothing: it is
	// a create like any other, and the slug is then taken in the prober's
	// account only.
	t.Run("another tenant's slug is neither revealed nor blocked", func(t *testing.T) {
		theirs := harness.NewGame(t, a.Client, client.CreateGameRequest{Name: "Probed", Slug: "probed"})
		mine, err := b.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Prober", Slug: "probed"})
		if err != nil || mine.Slug != "probed" || mine.AccountID != b.Account.ID {
			t.Fatalf("creating a game under another tenant's slug: %+v (%v), want it created", mine, err)
		}
		_, err = b.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Prober again", Slug: "probed"})
		wantError(t, err, http.StatusConflict, "Game slug already exists")
		if derived, err := b.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Probed"}); err != nil || derived.Slug != "probed-2" {
			t.Fatalf("a derived slug next to the prober's own: %+v (%v)", derived, err)
		}
		for c, want := range map[*client.Client]string{a.Client: theirs.ID, b.Client: mine.ID} {
			page, err := c.ListGames(t.Context(), client.ListGamesParams{Slug: "probed"})
			if err != nil || len(page.Data) != 1 || page.Data[0].ID != want {
				t.Fatalf("a list by slug: %+v (%v), want only %s", page.Data, err, want)
			}
		}
		if got, err := a.Client.GetGame(t.Context(), theirs.ID); err != nil || got.Name != "Probed" || !got.UpdatedAt.Equal(theirs.UpdatedAt) {
			t.Fatalf("the probed game changed: %+v (%v)", got, err)
		}
	})

	t.Run("every name makes a valid slug", func(t *testing.T) {
		seen := map[string]bool{}
		for _, name := range []string{"42", "Go", "!!!", "日本語", "日本語", "x", strings.Repeat("Long ", 20), strings.Repeat("ab", 50), strings.Repeat("ab", 50)} {
			g := create(t, a.Client, name)
			if !validSlug(g.Slug) || seen[g.Slug] {
				t.Fatalf("%q got slug %q (valid %v, seen %v)", name, g.Slug, validSlug(g.Slug), seen[g.Slug])
			}
			seen[g.Slug] = true
		}
	})

	t.Run("racing creations of one name", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		slugs := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				g, err := a.Client.CreateGame(t.Context(), client.CreateGameRequest{Name: "Race"})
				slugs[i], errs[i] = g.Slug, err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		// Each racer takes the first free one, so none is skipped.
		want := []string{"race"}
		for i := 2; i <= n; i++ {
			want = append(want, fmt.Sprintf("race-%d", i))
		}
		slices.Sort(slugs)
		slices.Sort(want)
		if !slices.Equal(slugs, want) {
			t.Fatalf("slugs %v, want %v", slugs, want)
		}
		var stored []string
		for g, err := range a.Client.Games(t.Context(), client.ListGamesParams{Sort: "slug:asc", Limit: 100}) {
			if err != nil {
				t.Fatal(err)
			}
			if g.Name == "Race" {
				stored = append(stored, g.Slug)
			}
		}
		if !slices.Equal(stored, want) {
			t.Fatalf("stored slugs %v, want %v", stored, want)
		}
	})
}

func TestGameSoftDelete(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	c, admin := tenant.Client, svc.Admin()
	g := harness.NewGame(t, c, client.CreateGameRequest{Name: "Doomed", Slug: "doomed"})
	player := harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: g.ID, Kind: client.KindDevice, ExternalKey: "device-doomed-1", DisplayName: ptr("Ada")})
	steam := harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: g.ID, Kind: client.KindSteam, ExternalKey: "76561197960287930"})
	elsewhere := harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-doomed-1"})
	w := harness.Over(t, c)
	playerBefore := w.Do("GET", "/v1/identities/"+player.ID, nil).Want(http.StatusOK)

	deleted, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{Deleted: ptr(true), Name: ptr("ignored")})
	if err != nil {
		t.Fatal(err)
	}
	if deleted.ID != g.ID || deleted.Name != "Doomed" {
		t.Fatalf("the delete answer: %+v", deleted)
	}

	t.Run("the game is gone", func(t *testing.T) {
		_, err := c.GetGame(t.Context(), g.ID)
		wantError(t, err, http.StatusNotFound, "Game not found")
		_, err = admin.GetGame(t.Context(), g.ID)
		wantError(t, err, http.StatusNotFound, "Game not found")
		for _, req := range []client.UpdateGameRequest{{Name: ptr("Back")}, {Deleted: ptr(true)}, {}, {ClearSteamAppID: true}} {
			_, err := c.UpdateGame(t.Context(), g.ID, req)
			wantError(t, err, http.StatusNotFound, "Game not found")
		}
		for _, lister := range []*client.Client{c, admin} {
			for x, err := range lister.Games(t.Context(), client.ListGamesParams{Limit: 1}) {
				if err != nil || x.ID == g.ID {
					t.Fatalf("a deleted game is listed (%v)", err)
				}
			}
			if page, err := lister.ListGames(t.Context(), client.ListGamesParams{Slug: "doomed"}); err != nil || len(page.Data) != 0 {
				t.Fatalf("a deleted game is found by its slug: %+v (%v)", page.Data, err)
			}
		}
	})

	t.Run("its identities stay readable and listable", func(t *testing.T) {
		if got := w.Do("GET", "/v1/identities/"+player.ID, nil).Want(http.StatusOK); !bytes.Equal(got.Body, playerBefore.Body) {
			t.Fatalf("the identity changed with its game: %s, was %s", got.Body, playerBefore.Body)
		}
		page, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: g.ID, Sort: "kind:asc"})
		if err != nil || !slices.Equal(ids(page.Data), []string{player.ID, steam.ID}) {
			t.Fatalf("the deleted game's identities: %v (%v)", ids(page.Data), err)
		}
		found, err := admin.ListIdentities(t.Context(), client.ListIdentitiesParams{ExternalKey: "device-doomed-1", Sort: "created_at:asc"})
		if err != nil || !slices.Equal(ids(found.Data), []string{player.ID, elsewhere.ID}) {
			t.Fatalf("looked up by key: %v (%v)", ids(found.Data), err)
		}
	})

	t.Run("nothing is created in it", func(t *testing.T) {
		for _, req := range []client.CreateIdentityRequest{
			{GameID: g.ID, Kind: client.KindDevice, ExternalKey: "device-doomed-2"},
			// Get-or-create of an identity it has: no get either.
			{GameID: g.ID, Kind: client.KindDevice, ExternalKey: "device-doomed-1"},
			{GameID: g.ID, Kind: client.KindSteam, ExternalKey: "76561197960287930", DisplayName: ptr("Renamed")},
		} {
			_, _, err := c.CreateIdentity(t.Context(), req)
			wantError(t, err, http.StatusNotFound, "Game not found")
			req.AccountID = tenant.Account.ID
			_, _, err = admin.CreateIdentity(t.Context(), req)
			wantError(t, err, http.StatusNotFound, "Game not found")
		}
		page, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: g.ID})
		if err != nil || len(page.Data) != 2 {
			t.Fatalf("after the refusals the game has %v (%v)", ids(page.Data), err)
		}
		if got, err := c.GetIdentity(t.Context(), steam.ID); err != nil || got.DisplayName != nil {
			t.Fatalf("a refused get-or-create renamed: %+v (%v)", got, err)
		}
		// The account's other games are untouched.
		harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-doomed-2"})
	})

	t.Run("its slug stays taken", func(t *testing.T) {
		_, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: "Doomed", Slug: "doomed"})
		wantError(t, err, http.StatusConflict, "Game slug already exists")
		again, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: "Doomed"})
		if err != nil || again.Slug != "doomed-2" || again.ID == g.ID {
			t.Fatalf("a new game of the same name: %+v (%v)", again, err)
		}
	})
}

// compareGames orders games as the contract says: strings by their bytes,
// times to the microsecond, id last.
func compareGames(sort string) func(a, b client.Game) int {
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
	return func(a, b client.Game) int {
		for _, k := range keys {
			var c int
			switch k.field {
			case "id":
				c = strings.Compare(a.ID, b.ID)
			case "name":
				c = strings.Compare(a.Name, b.Name)
			case "slug":
				c = strings.Compare(a.Slug, b.Slug)
			case "created_at":
				c = a.CreatedAt.Compare(b.CreatedAt)
			case "updated_at":
				c = a.UpdatedAt.Compare(b.UpdatedAt)
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

func gameIDs(games []client.Game) []string {
	out := make([]string, len(games))
	for i, g := range games {
		out[i] = g.ID
	}
	return out
}

// walkGames pages forward from the first page and then back from the last,
// and checks each page's flags and cursors.
func walkGames(t *testing.T, c *client.Client, p client.ListGamesParams, want []client.Game) {
	t.Helper()
	page := func(cursor string) client.Page[client.Game] {
		t.Helper()
		p.Cursor = cursor
		pg, err := c.ListGames(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		f := pg.Pagination
		if (f.NextCursor != nil) != f.HasNext || (f.PrevCursor != nil) != f.HasPrev || f.Count != len(pg.Data) {
			t.Fatalf("cursors, flags and count disagree: %+v for %d games", f, len(pg.Data))
		}
		return pg
	}
	var pages [][]client.Game
	var got []client.Game
	cursor := ""
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("the forward walk does not end")
		}
		pg := page(cursor)
		if step == 0 && pg.Pagination.HasPrev {
			t.Fatal("the first page has a previous page")
		}
		pages = append(pages, pg.Data)
		got = append(got, pg.Data...)
		if !pg.Pagination.HasNext {
			break
		}
		if len(pg.Data) != p.Limit {
			t.Fatalf("a page with a next page has %d games, want %d", len(pg.Data), p.Limit)
		}
		cursor = *pg.Pagination.NextCursor
	}
	if !slices.Equal(gameIDs(got), gameIDs(want)) {
		t.Fatalf("forward walk:\n got  %v\n want %v", gameIDs(got), gameIDs(want))
	}
	pg := page(cursor)
	for i := len(pages) - 2; i >= 0; i-- {
		if !pg.Pagination.HasPrev {
			t.Fatalf("page %d has no previous page", i+1)
		}
		pg = page(*pg.Pagination.PrevCursor)
		if !slices.Equal(gameIDs(pg.Data), gameIDs(pages[i])) {
			t.Fatalf("going back to page %d:\n got  %v\n want %v", i, gameIDs(pg.Data), gameIDs(pages[i]))
		}
		if !pg.Pagination.HasNext {
			t.Fatal("a page reached backward has no next page")
		}
	}
	if pg.Pagination.HasPrev || pg.Pagination.PrevCursor != nil {
		t.Fatal("the walk back did not end at the first page")
	}
}

func TestGamePagination(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant, other := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	c := tenant.Client
	all := []client.Game{tenant.Game}
	names := []string{"alpha", "Zed", "Émile", "alpha", "zed", "Bob", "ärger", "Bob", "alpha", "Zed", "bob"}
	for n, name := range names {
		g := harness.NewGame(t, c, client.CreateGameRequest{Name: name})
		if n%3 == 1 { // updated_at apart from created_at
			var err error
			if g, err = c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{Name: ptr(name + " again")}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, g)
	}
	gone := harness.NewGame(t, c, client.CreateGameRequest{Name: "alpha"})
	if _, err := c.DeleteGame(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	harness.NewGame(t, other.Client, client.CreateGameRequest{Name: "alpha"})

	sorts := []string{"", "id:asc", "id:desc", "name:asc", "name:desc", "slug:asc", "slug:desc", "created_at:asc",
		"created_at:desc", "updated_at:asc", "updated_at:desc", "name:asc,created_at:desc", "name:desc,updated_at:asc"}
	for _, sort := range sorts {
		for _, limit := range []int{1, 5, 100} {
			t.Run(fmt.Sprintf("%s/limit=%d", cmp.Or(sort, "default"), limit), func(t *testing.T) {
				t.Parallel()
				want := slices.Clone(all)
				slices.SortStableFunc(want, compareGames(cmp.Or(sort, "created_at:desc,id:asc")))
				walkGames(t, c, client.ListGamesParams{Sort: sort, Limit: limit}, want)
				// The same, with the account named.
				walkGames(t, c, client.ListGamesParams{AccountID: tenant.Account.ID, Sort: sort, Limit: limit}, want)
			})
		}
	}

	t.Run("names sort by their bytes", func(t *testing.T) {
		page, err := c.ListGames(t.Context(), client.ListGamesParams{Sort: "name:asc", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range page.Data {
			if len(got) == 0 || got[len(got)-1] != g.Name {
				got = append(got, g.Name)
			}
		}
		want := []string{"Bob", "Bob again", tenant.Game.Name, "Zed", "Zed again", "alpha", "bob again", "zed again", "Émile", "ärger"}
		if !slices.Equal(got, want) {
			t.Fatalf("names in order: %q, want %q", got, want)
		}
	})

	t.Run("cursors", func(t *testing.T) {
		first, err := c.ListGames(t.Context(), client.ListGamesParams{Sort: "name:asc", Limit: 2})
		if err != nil || first.Pagination.NextCursor == nil {
			t.Fatalf("%+v (%v)", first.Pagination, err)
		}
		next := *first.Pagination.NextCursor
		mismatch := "Query parameters don't match cursor state. Start a new pagination sequence."
		for _, p := range []client.ListGamesParams{{Sort: "name:desc"}, {Sort: "name:asc", Slug: "bob"}, {}} {
			p.Cursor = next
			_, err := c.ListGames(t.Context(), p)
			wantError(t, err, http.StatusBadRequest, mismatch)
		}
		_, err = other.Client.ListGames(t.Context(), client.ListGamesParams{Sort: "name:asc", Cursor: next})
		wantError(t, err, http.StatusBadRequest, mismatch)
		// Another list's cursor is no cursor of games.
		for i := range 3 {
			harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: fmt.Sprintf("device-paging-%d", i)})
		}
		identities, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{Sort: "id:asc", Limit: 1})
		if err != nil || identities.Pagination.NextCursor == nil {
			t.Fatalf("%+v (%v)", identities.Pagination, err)
		}
		_, err = c.ListGames(t.Context(), client.ListGamesParams{Sort: "id:asc", Cursor: *identities.Pagination.NextCursor})
		wantError(t, err, http.StatusBadRequest, "Invalid pagination cursor")
		_, err = c.ListGames(t.Context(), client.ListGamesParams{Sort: "name:asc", Cursor: next[:len(next)-2]})
		wantError(t, err, http.StatusBadRequest, "Invalid pagination cursor")
		// Another limit, and the same sort spelled otherwise, go on.
		if page, err := c.ListGames(t.Context(), client.ListGamesParams{Sort: "name:ASC,id:asc", Limit: 5, Cursor: next}); err != nil || len(page.Data) != 5 {
			t.Fatalf("%d games (%v)", len(page.Data), err)
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		_, err := c.ListGames(t.Context(), client.ListGamesParams{Sort: "display_name:asc"})
		wantError(t, err, http.StatusBadRequest, "Unknown sort field: display_name. Valid fields: created_at, id, name, slug, updated_at")
		_, err = c.ListGames(t.Context(), client.ListGamesParams{Limit: 101})
		wantProblem(t, err, "less_than_equal", "query", "limit")
		_, err = c.ListGames(t.Context(), client.ListGamesParams{AccountID: "acc_nope"})
		wantProblem(t, err, "value_error", "query", "account_id")
	})
}

func TestGameValidation(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	c := tenant.Client
	w := harness.Over(t, c)

	cases := []struct {
		name string
		body any
		typ  string
		loc  []any
	}{
		{"no name", map[string]any{"slug": "no-name"}, "missing", []any{"body", "name"}},
		{"blank name", map[string]any{"name": " \t "}, "string_too_short", []any{"body", "name"}},
		{"long name", map[string]any{"name": strings.Repeat("é", 101)}, "string_too_long", []any{"body", "name"}},
		{"control character", map[string]any{"name": "a\x00b"}, "value_error", []any{"body", "name"}},
		{"number for a name", map[string]any{"name": 42}, "string_type", []any{"body", "name"}},
		{"number for an app ID", map[string]any{"name": "Typed", "steam_app_id": 480}, "string_type", []any{"body", "steam_app_id"}},
		{"malformed account", map[string]any{"name": "Typed", "account_id": "acc_123"}, "value_error", []any{"body", "account_id"}},
		{"not an object", "[1]", "model_attributes_type", []any{"body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.Do("POST", "/v1/games", tc.body).Problem(tc.typ, tc.loc...)
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: "", Slug: "-", SteamAppID: ptr("x"), SteamWebAPIKey: ptr("y")})
		wantProblem(t, err, "string_too_short", "body", "name")
		for _, field := range []string{"slug", "steam_app_id", "steam_web_api_key"} {
			wantProblem(t, err, "value_error", "body", field)
		}
		// Validation comes before access: another account named, and a bad name.
		other := harness.NewTenant(t, svc)
		_, err = c.CreateGame(t.Context(), client.CreateGameRequest{AccountID: other.Account.ID, Name: " "})
		wantProblem(t, err, "string_too_short", "body", "name")
	})
	t.Run("path and update", func(t *testing.T) {
		w.Do("GET", "/v1/games/gam_nope", nil).Problem("value_error", "path", "game_id")
		w.Do("GET", "/v1/games/"+strings.Replace(tenant.Game.ID, "gam_", "ide_", 1), nil).Problem("value_error", "path", "game_id")
		w.Do("PATCH", "/v1/games/gam_nope", map[string]any{}).Problem("value_error", "path", "game_id")
		w.Do("PATCH", "/v1/games/"+tenant.Game.ID, map[string]any{"deleted": "perhaps"}).Problem("bool_parsing", "body", "deleted")
		w.Do("PATCH", "/v1/games/"+tenant.Game.ID, map[string]any{"name": ""}).Problem("string_too_short", "body", "name")
		w.Do("PATCH", "/v1/games/"+tenant.Game.ID, `{"name": "x",`).Want(http.StatusUnprocessableEntity)
		_, err := c.GetGame(t.Context(), harness.NewGameID())
		wantError(t, err, http.StatusNotFound, "Game not found")
		_, err = c.UpdateGame(t.Context(), harness.NewGameID(), client.UpdateGameRequest{Name: ptr("Nobody")})
		wantError(t, err, http.StatusNotFound, "Game not found")
		// An unknown game is not a validation error, and validation comes first.
		_, _, err = c.CreateIdentity(t.Context(), client.CreateIdentityRequest{GameID: harness.NewGameID(), Kind: client.KindDevice, ExternalKey: "device-nowhere"})
		wantError(t, err, http.StatusNotFound, "Game not found")
		_, _, err = c.CreateIdentity(t.Context(), client.CreateIdentityRequest{GameID: harness.NewGameID(), Kind: client.KindDevice, ExternalKey: "short"})
		wantProblem(t, err, "value_error", "body", "external_key")
	})
	t.Run("an unauthenticated caller learns nothing", func(t *testing.T) {
		anon := harness.Over(t, svc.Anonymous())
		anon.Do("POST", "/v1/games", "[1]").Want(http.StatusUnauthorized, "API key required")
		anon.Do("GET", "/v1/games/gam_nope", nil).Want(http.StatusUnauthorized, "API key required")
		anon.Do("PATCH", "/v1/games/"+tenant.Game.ID, map[string]any{"deleted": true}).Want(http.StatusUnauthorized, "API key required")
	})
	t.Run("nothing was created or changed", func(t *testing.T) {
		page, err := c.ListGames(t.Context(), client.ListGamesParams{})
		if err != nil || len(page.Data) != 1 || page.Data[0].ID != tenant.Game.ID {
			t.Fatalf("rejected requests left games %v (%v)", gameIDs(page.Data), err)
		}
		if g := page.Data[0]; g.Name != tenant.Game.Name || !g.UpdatedAt.Equal(tenant.Game.UpdatedAt) {
			t.Fatalf("rejected requests changed the game: %+v, was %+v", g, tenant.Game)
		}
		if identities, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{}); err != nil || len(identities.Data) != 0 {
			t.Fatalf("rejected requests created identities %v (%v)", ids(identities.Data), err)
		}
	})
	t.Run("413", func(t *testing.T) {
		w.Do("POST", "/v1/games", map[string]any{"name": strings.Repeat("a", 2<<20)}).Want(http.StatusRequestEntityTooLarge, "Request body too large")
	})
}

// TestIdentityLookupByExternalKey is how support staff find a player: by
// the device or Steam ID, exactly, within the caller's account.
func TestIdentityLookupByExternalKey(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant, other := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	c, admin := tenant.Client, svc.Admin()
	second := harness.NewGame(t, c, client.CreateGameRequest{})
	// A key a query string must carry intact.
	const odd = "dev+ice&key=1%2F#x?"
	const key = "device-lookup-1"
	newIdentity := func(cl *client.Client, game, kind, external string) client.Identity {
		return harness.NewIdentity(t, cl, client.CreateIdentityRequest{GameID: game, Kind: kind, ExternalKey: external})
	}
	gone := newIdentity(c, tenant.Game.ID, client.KindDevice, key)
	if _, err := c.DeleteIdentity(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	inFirst := newIdentity(c, tenant.Game.ID, client.KindDevice, key)
	inSecond := newIdentity(c, second.ID, client.KindDevice, key)
	custom := newIdentity(c, tenant.Game.ID, client.KindCustom, key)
	newIdentity(c, tenant.Game.ID, client.KindDevice, key+"0")
	newIdentity(c, tenant.Game.ID, client.KindDevice, "x"+key)
	steam := newIdentity(c, second.ID, client.KindSteam, "76561197960287930")
	oddOne := newIdentity(c, second.ID, client.KindCustom, odd)
	ofOther := newIdentity(other.Client, other.Game.ID, client.KindDevice, key)

	lookup := func(t *testing.T, cl *client.Client, p client.ListIdentitiesParams) []string {
		t.Helper()
		p.Sort = "created_at:asc"
		var got []string
		for i, err := range cl.Identities(t.Context(), p) {
			if err != nil {
				t.Fatal(err)
			}
			if i.ExternalKey != p.ExternalKey {
				t.Fatalf("looked up %q, found %q", p.ExternalKey, i.ExternalKey)
			}
			got = append(got, i.ID)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		cl   *client.Client
		p    client.ListIdentitiesParams
		want []string
	}{
		{"every kind and game", c, client.ListIdentitiesParams{ExternalKey: key}, []string{inFirst.ID, inSecond.ID, custom.ID}},
		{"one page at a time", c, client.ListIdentitiesParams{ExternalKey: key, Limit: 1}, []string{inFirst.ID, inSecond.ID, custom.ID}},
		{"with kind", c, client.ListIdentitiesParams{ExternalKey: key, Kind: client.KindDevice}, []string{inFirst.ID, inSecond.ID}},
		{"with kind and game", c, client.ListIdentitiesParams{ExternalKey: key, Kind: client.KindDevice, GameID: second.ID}, []string{inSecond.ID}},
		{"a Steam ID", c, client.ListIdentitiesParams{ExternalKey: "76561197960287930", Kind: client.KindSteam}, []string{steam.ID}},
		{"characters of a query string", c, client.ListIdentitiesParams{ExternalKey: odd}, []string{oddOne.ID}},
		{"exact, not a prefix", c, client.ListIdentitiesParams{ExternalKey: "device-lookup"}, nil},
		{"exact, not case-blind", c, client.ListIdentitiesParams{ExternalKey: strings.ToUpper(key)}, nil},
		{"the other tenant's own", other.Client, client.ListIdentitiesParams{ExternalKey: key}, []string{ofOther.ID}},
		{"a superadmin across accounts", admin, client.ListIdentitiesParams{ExternalKey: key, Kind: client.KindDevice},
			[]string{inFirst.ID, inSecond.ID, ofOther.ID}},
		{"a superadmin in one account", admin, client.ListIdentitiesParams{ExternalKey: key, AccountID: other.Account.ID}, []string{ofOther.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lookup(t, tc.cl, tc.p); !slices.Equal(got, tc.want) {
				t.Fatalf("found %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("cursors carry the key", func(t *testing.T) {
		first, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{ExternalKey: key, Limit: 1})
		if err != nil || first.Pagination.NextCursor == nil {
			t.Fatalf("%+v (%v)", first.Pagination, err)
		}
		plain, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{Limit: 1})
		if err != nil || plain.Pagination.NextCursor == nil {
			t.Fatalf("%+v (%v)", plain.Pagination, err)
		}
		mismatch := "Query parameters don't match cursor state. Start a new pagination sequence."
		for _, p := range []client.ListIdentitiesParams{
			{Cursor: *first.Pagination.NextCursor},
			{Cursor: *first.Pagination.NextCursor, ExternalKey: key + "0"},
			{Cursor: *plain.Pagination.NextCursor, ExternalKey: key},
		} {
			_, err := c.ListIdentities(t.Context(), p)
			wantError(t, err, http.StatusBadRequest, mismatch)
		}
	})

	t.Run("wire", func(t *testing.T) {
		// The key as a client would put it in a URL by hand.
		a := harness.Over(t, c).Do("GET", "/v1/identities?external_key="+url.QueryEscape(odd), nil).Want(http.StatusOK)
		if data := a.JSON["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != oddOne.ID {
			t.Fatalf("by hand: %s", a.Body)
		}
	})
}

// TestGameDeviceSignIn: a game that turns device sign-in off refuses a
// client's sign-in with a device ID alone (400), writing nothing, while
// Steam sign-in and the studio's own ways in (get-or-create, identity
// sessions) go on; turned on again, device sign-in works.
func TestGameDeviceSignIn(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()))
	tenant := harness.NewTenant(t, svc)
	c, key := tenant.Client, steamKey()
	fake.ExpectKey("480", key)
	fake.Ticket("5ea7", steamfake.Player{SteamID: steamfake.SteamID64(5001)})

	g := harness.NewGame(t, c, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(key), DeviceSignIn: ptr(false)})
	if g.DeviceSignIn {
		t.Fatalf("created with device_sign_in false: %+v", g)
	}
	if !tenant.Game.DeviceSignIn {
		t.Fatalf("a game made without the field: %+v, want device sign-in on", tenant.Game)
	}
	device := newDevice()
	sessions := func() int {
		t.Helper()
		n := 0
		for _, err := range c.IdentitySessions(t.Context(), client.ListIdentitySessionsParams{Limit: 100}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	before := sessions()
	bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "DEVICE", "external_key": device}).
		Want(http.StatusBadRequest, "Device sign-in is disabled for this game")
	if page, err := c.ListIdentities(t.Context(), client.ListIdentitiesParams{ExternalKey: device}); err != nil || len(page.Data) != 0 {
		t.Fatalf("a refused sign-in created identities %v (%v)", ids(page.Data), err)
	}
	if after := sessions(); after != before {
		t.Fatalf("a refused sign-in made sessions: %d, were %d", after, before)
	}

	// Steam players sign in; the studio still signs in whom it vouches for.
	signIn(t, svc, map[string]any{"game_id": g.ID, "kind": "STEAM", "steam_ticket": "5EA7"})
	made := harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: g.ID, Kind: client.KindDevice, ExternalKey: device})
	if _, err := c.CreateIdentitySession(t.Context(), client.CreateIdentitySessionRequest{IdentityID: made.ID}); err != nil {
		t.Fatalf("the studio signing a device identity in: %v", err)
	}
	// Other games of the account are not concerned.
	deviceSignIn(t, svc, tenant.Game.ID, device)

	on, err := c.UpdateGame(t.Context(), g.ID, client.UpdateGameRequest{DeviceSignIn: ptr(true)})
	if err != nil || !on.DeviceSignIn {
		t.Fatalf("turning device sign-in on: %+v (%v)", on, err)
	}
	if s := deviceSignIn(t, svc, g.ID, device); s.Identity.ID != made.ID {
		t.Fatalf("signed in as %s, want the identity the studio made, %s", s.Identity.ID, made.ID)
	}
}

// TestSteamTicketsAreBoundToTheService: the service sends Steam its ticket
// identity (LEADR_STEAM_TICKET_IDENTITY), so a ticket the game made for
// another party, which that party could replay here, is refused, and only
// one made for this service signs in.
func TestSteamTicketsAreBoundToTheService(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()),
		harness.WithEnv("LEADR_STEAM_TICKET_IDENTITY", "studio-leadr"))
	tenant := harness.NewTenant(t, svc)
	key := steamKey()
	fake.ExpectKey("480", key)
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(key)})
	fake.TicketFor("studio-leadr", "a11ce", steamfake.Player{SteamID: steamfake.SteamID64(1)})
	fake.TicketFor("", "5e55", steamfake.Player{SteamID: steamfake.SteamID64(2)})             // for a game server or a peer
	fake.TicketFor("leaderboards", "0b0b", steamfake.Player{SteamID: steamfake.SteamID64(3)}) // for another backend
	fake.Ticket("1eadc", steamfake.Player{SteamID: steamfake.SteamID64(4)})                   // for the default identity

	steam := func(ticket string) harness.Answer {
		return bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "STEAM", "steam_ticket": ticket})
	}
	for _, ticket := range []string{"5e55", "0b0b", "1eadc"} {
		steam(ticket).Want(http.StatusUnauthorized, "Invalid Steam ticket")
	}
	if s := checkSignIn(t, steam("a11ce")); s.Identity.ExternalKey != steamfake.SteamID64(1) {
		t.Fatalf("signed in as %+v", s.Identity)
	}
	for _, r := range fake.Requests() {
		if r.Identity != "studio-leadr" {
			t.Fatalf("Steam was asked with identity %q, want studio-leadr", r.Identity)
		}
	}
	page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: g.ID})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("the refused tickets made identities: %v (%v)", ids(page.Data), err)
	}
}
