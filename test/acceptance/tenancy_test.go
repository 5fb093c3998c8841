package acceptance

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// TestTenancyMatrix calls every endpoint about tenant A's resources as each
// kind of caller: no key, a revoked key, an unknown key, A's own key,
// another tenant's key and a superadmin's key.
func TestTenancyMatrix(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	a, b := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	admin := svc.Admin()
	game := a.Game.ID
	identity := harness.NewIdentity(t, a.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindDevice, ExternalKey: "device-matrix"})
	spareKey := harness.NewAPIKey(t, admin, a.Account.ID, a.User.ID)
	revoked := harness.NewAPIKey(t, admin, a.Account.ID, a.User.ID)
	if _, err := admin.RevokeAPIKey(t.Context(), revoked.ID); err != nil {
		t.Fatal(err)
	}

	const (
		ok         = 0 // any 2xx
		denied     = "Access denied to the specified account"
		superOnly  = "Superadmin access required"
		gameDenied = "You do not have access to this game's account"
	)
	// Answers other than a 2xx or a 403.
	type refused struct {
		status int
		detail string
	}
	type missing []any // a 422 whose problem is this field missing
	var (
		noGame       = refused{http.StatusNotFound, "Game not found"}
		needsAccount = missing{"body", "account_id"}
	)
	type expect struct {
		own, other, super any // ok, the 403 detail, a refused or a missing
	}
	n := 0
	unique := func() string { n++; return harness.Unique() }
	endpoints := []struct {
		method, path string
		body         func() any
		want         expect
	}{
		{"POST", "/v1/identities", func() any {
			return map[string]any{"account_id": a.Account.ID, "game_id": game, "kind": "CUSTOM", "external_key": "custom-" + unique()}
		}, expect{ok, denied, ok}},
		{"GET", "/v1/identities?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		{"GET", "/v1/identities/" + identity.ID, nil, expect{ok, "You do not have access to this identity's account", ok}},
		{"GET", "/v1/identities/" + identity.ID + "?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		{"PATCH", "/v1/identities/" + identity.ID, func() any { return map[string]any{"display_name": "name " + unique()} },
			expect{ok, "You do not have access to this identity's account", ok}},
		{"POST", "/v1/accounts", func() any { s := "acc-" + unique(); return map[string]any{"name": s, "slug": s} }, expect{superOnly, superOnly, ok}},
		{"GET", "/v1/accounts", nil, expect{ok, ok, ok}},
		{"GET", "/v1/accounts/" + a.Account.ID, nil, expect{ok, "You do not have access to this account", ok}},
		{"POST", "/v1/users", func() any {
			return map[string]any{"account_id": a.Account.ID, "email": "u-" + unique() + "@example.com", "display_name": "New User"}
		}, expect{ok, denied, ok}},
		{"GET", "/v1/users?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		{"GET", "/v1/users/" + a.User.ID, nil, expect{ok, "You do not have access to this user's account", ok}},
		{"POST", "/v1/api-keys", func() any {
			return map[string]any{"account_id": a.Account.ID, "user_id": a.User.ID, "name": "k " + unique()}
		}, expect{ok, denied, ok}},
		{"GET", "/v1/api-keys?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		{"GET", "/v1/api-keys/" + spareKey.ID, nil, expect{ok, "You do not have access to this API key's account", ok}},
		{"PATCH", "/v1/api-keys/" + spareKey.ID, func() any { return map[string]any{} }, expect{ok, "You do not have access to this API key's account", ok}},

		// Games.
		{"POST", "/v1/games", func() any { return map[string]any{"account_id": a.Account.ID, "name": "Game " + unique()} },
			expect{ok, denied, ok}},
		// Without account_id a regular key creates in its own account; a
		// superadmin has none to default to.
		{"POST", "/v1/games", func() any { return map[string]any{"name": "Game " + unique()} }, expect{ok, ok, needsAccount}},
		{"GET", "/v1/games?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		{"GET", "/v1/games", nil, expect{ok, ok, ok}},
		{"GET", "/v1/games/" + game, nil, expect{ok, gameDenied, ok}},
		{"GET", "/v1/games/" + game + "?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		// A superadmin naming an account the game is not in finds no game.
		{"GET", "/v1/games/" + game + "?account_id=" + b.Account.ID, nil, expect{denied, gameDenied, noGame}},
		{"PATCH", "/v1/games/" + game, func() any { return map[string]any{"name": "Game " + unique()} }, expect{ok, gameDenied, ok}},
		{"PATCH", "/v1/games/" + game + "?account_id=" + a.Account.ID, func() any { return map[string]any{"name": "Game " + unique()} },
			expect{ok, denied, ok}},

		// Identities in A's game: another account's game is no game at all,
		// not even for a superadmin naming that other account.
		{"POST", "/v1/identities", func() any {
			return map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": "custom-" + unique()}
		}, expect{ok, noGame, needsAccount}},
		{"POST", "/v1/identities", func() any {
			return map[string]any{"account_id": b.Account.ID, "game_id": game, "kind": "CUSTOM", "external_key": "custom-" + unique()}
		}, expect{denied, noGame, noGame}},
	}
	callers := []struct {
		name   string
		client *client.Client
		want   func(expect) any
	}{
		{"no key", svc.Anonymous(), func(expect) any { return http.StatusUnauthorized }},
		{"revoked key", svc.Client(revoked.Key), func(expect) any { return http.StatusUnauthorized }},
		{"unknown key", svc.Client("ldr_" + "unknownunknownunknownunknownunknownunknown1"), func(expect) any { return http.StatusUnauthorized }},
		{"own key", a.Client, func(e expect) any { return e.own }},
		{"other tenant", b.Client, func(e expect) any { return e.other }},
		{"superadmin", admin, func(e expect) any { return e.super }},
	}
	for _, ep := range endpoints {
		for _, caller := range callers {
			t.Run(ep.method+" "+ep.path+"/"+caller.name, func(t *testing.T) {
				var body any
				if ep.body != nil {
					body = ep.body()
				}
				ans := harness.Over(t, caller.client).Do(ep.method, ep.path, body)
				switch want := caller.want(ep.want).(type) {
				case int:
					if want == http.StatusUnauthorized {
						msg := "Invalid or expired API key"
						if caller.name == "no key" {
							msg = "API key required"
						}
						ans.Want(http.StatusUnauthorized, msg)
					} else if ans.Status < 200 || ans.Status > 299 {
						t.Fatalf("status %d, want 2xx: %s", ans.Status, ans.Body)
					}
				case string:
					ans.Want(http.StatusForbidden, want)
				case refused:
					ans.Want(want.status, want.detail)
				case missing:
					ans.Problem("missing", want...)
				}
			})
		}
	}

	t.Run("lists stay inside the tenant", func(t *testing.T) {
		ofB := harness.NewIdentity(t, b.Client, client.CreateIdentityRequest{GameID: b.Game.ID, Kind: client.KindDevice, ExternalKey: "device-of-b"})
		for i, err := range a.Client.Identities(t.Context(), client.ListIdentitiesParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			if i.AccountID != a.Account.ID {
				t.Fatalf("A's list holds an identity of %s", i.AccountID)
			}
		}
		// B's attempts in A's game above were refused and made nothing.
		var bIdentities []string
		for i, err := range b.Client.Identities(t.Context(), client.ListIdentitiesParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			bIdentities = append(bIdentities, i.ID)
		}
		if len(bIdentities) != 1 || bIdentities[0] != ofB.ID {
			t.Fatalf("B's identities are %v, want only %s", bIdentities, ofB.ID)
		}
		accounts, err := b.Client.ListAccounts(t.Context(), client.ListParams{})
		if err != nil || len(accounts.Data) != 1 || accounts.Data[0].ID != b.Account.ID {
			t.Fatalf("B sees accounts %+v (%v)", accounts.Data, err)
		}
		seen := map[string]bool{}
		for i, err := range admin.Identities(t.Context(), client.ListIdentitiesParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			seen[i.AccountID] = true
		}
		if !seen[a.Account.ID] || !seen[b.Account.ID] {
			t.Fatalf("the superadmin's list across accounts saw %v", seen)
		}

		gamesOf := func(c *client.Client, p client.ListGamesParams) map[string]bool {
			t.Helper()
			accounts := map[string]bool{}
			for g, err := range c.Games(t.Context(), p) {
				if err != nil {
					t.Fatal(err)
				}
				accounts[g.AccountID] = true
			}
			return accounts
		}
		if got := gamesOf(a.Client, client.ListGamesParams{}); len(got) != 1 || !got[a.Account.ID] {
			t.Fatalf("A's games are of accounts %v", got)
		}
		if got := gamesOf(b.Client, client.ListGamesParams{Limit: 1}); len(got) != 1 || !got[b.Account.ID] {
			t.Fatalf("B's games are of accounts %v", got)
		}
		if got := gamesOf(admin, client.ListGamesParams{}); !got[a.Account.ID] || !got[b.Account.ID] {
			t.Fatalf("the superadmin's games across accounts are of %v", got)
		}
		if got := gamesOf(admin, client.ListGamesParams{AccountID: b.Account.ID}); len(got) != 1 || !got[b.Account.ID] {
			t.Fatalf("the superadmin's games of B are of accounts %v", got)
		}
	})

	t.Run("a refused change writes nothing", func(t *testing.T) {
		aw, bw := harness.Over(t, a.Client), harness.Over(t, b.Client)
		before := aw.Do("GET", "/v1/games/"+game, nil).Want(http.StatusOK)
		bw.Do("PATCH", "/v1/games/"+game, map[string]any{"name": "Taken over", "steam_app_id": "480"}).Want(http.StatusForbidden, gameDenied)
		bw.Do("PATCH", "/v1/games/"+game, map[string]any{"deleted": true}).Want(http.StatusForbidden, gameDenied)
		if after := aw.Do("GET", "/v1/games/"+game, nil).Want(http.StatusOK); !bytes.Equal(after.Body, before.Body) {
			t.Fatalf("B's refused changes changed the game: %s, was %s", after.Body, before.Body)
		}
	})
}
