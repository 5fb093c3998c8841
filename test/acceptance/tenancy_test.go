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
	// Sessions of A's identity: one the matrix reads and revokes, one a
	// refused revocation must leave alone, and one whose access token calls.
	newSession := func() client.SignInResponse {
		t.Helper()
		s, err := a.Client.CreateIdentitySession(t.Context(), client.CreateIdentitySessionRequest{IdentityID: identity.ID})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ses, untouched, caller := newSession(), newSession(), newSession()

	const (
		ok          = 0 // any 2xx
		denied      = "Access denied to the specified account"
		superOnly   = "Superadmin access required"
		gameDenied  = "You do not have access to this game's account"
		identDenied = "You do not have access to this identity's account"
		sesDenied   = "You do not have access to this session's account"
	)
	// Answers other than a 2xx or a 403.
	type refused struct {
		status int
		detail string
	}
	type missing []any // a 422 whose problem is this field missing
	var (
		noGame       = refused{http.StatusNotFound, "Game not found"}
		noSession    = refused{http.StatusNotFound, "Session not found"}
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

		// Identity sessions.
		{"POST", "/v1/identity-sessions", func() any { return map[string]any{"identity_id": identity.ID} }, expect{ok, identDenied, ok}},
		{"GET", "/v1/identity-sessions", nil, expect{ok, ok, ok}},
		{"GET", "/v1/identity-sessions?account_id=" + a.Account.ID, nil, expect{ok, denied, ok}},
		// Another tenant filtering by A's identity sees its own sessions of
		// it: none (below).
		{"GET", "/v1/identity-sessions?identity_id=" + identity.ID, nil, expect{ok, ok, ok}},
		{"GET", "/v1/identity-sessions/" + ses.SessionID, nil, expect{ok, sesDenied, ok}},
		{"DELETE", "/v1/identity-sessions/" + ses.SessionID, nil, expect{ok, sesDenied, ok}},
		{"GET", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000000", nil, expect{noSession, noSession, noSession}},
		{"DELETE", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000000", nil, expect{noSession, noSession, noSession}},
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

	t.Run("sessions stay inside the tenant", func(t *testing.T) {
		ofB := newSessionOf(t, b)
		for s, err := range b.Client.IdentitySessions(t.Context(), client.ListIdentitySessionsParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			if s.AccountID != b.Account.ID || s.ID != ofB.SessionID {
				t.Fatalf("B lists session %+v", s)
			}
		}
		if page, err := b.Client.ListIdentitySessions(t.Context(), client.ListIdentitySessionsParams{IdentityID: identity.ID}); err != nil || len(page.Data) != 0 {
			t.Fatalf("B lists A's identity's sessions: %+v (%v)", page.Data, err)
		}
		seen := map[string]bool{}
		for s, err := range a.Client.IdentitySessions(t.Context(), client.ListIdentitySessionsParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			if s.AccountID != a.Account.ID {
				t.Fatalf("A lists session %+v", s)
			}
			seen[s.ID] = true
		}
		if !seen[ses.SessionID] || !seen[untouched.SessionID] || seen[ofB.SessionID] {
			t.Fatalf("A lists %v", seen)
		}
		seen = map[string]bool{}
		for s, err := range admin.IdentitySessions(t.Context(), client.ListIdentitySessionsParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			seen[s.AccountID] = true
		}
		if !seen[a.Account.ID] || !seen[b.Account.ID] {
			t.Fatalf("the superadmin's sessions across accounts are of %v", seen)
		}
	})

	t.Run("access tokens and API keys are not interchangeable", func(t *testing.T) {
		token := caller.AccessToken
		harness.Over(t, svc.Bearer(token)).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		for _, ep := range endpoints {
			var body any
			if ep.body != nil {
				body = ep.body()
			}
			// A bearer alone is no API key, on any admin endpoint.
			harness.Over(t, svc.Bearer(token)).Do(ep.method, ep.path, body).Want(http.StatusUnauthorized, "API key required")
			// Nor is an access token where the API key goes.
			harness.Over(t, svc.Client(token)).Do(ep.method, ep.path, body).Want(http.StatusUnauthorized, "Invalid or expired API key")
		}
		// With an API key, the access token is ignored: B's key stays B's.
		harness.Over(t, svc.Bearer(token, client.WithAPIKey(b.Key.Key))).Do("GET", "/v1/identity-sessions/"+caller.SessionID, nil).
			Want(http.StatusForbidden, sesDenied)
		harness.Over(t, svc.Bearer(token, client.WithAPIKey(b.Key.Key))).Do("GET", "/v1/identity-sessions?account_id="+a.Account.ID, nil).
			Want(http.StatusForbidden, denied)

		clientEndpoints := []struct {
			method, path string
			body         any
		}{
			{"GET", "/v1/client/me", nil},
			{"PATCH", "/v1/client/me", map[string]any{"display_name": "Mallory"}},
			{"GET", "/v1/client/nonce", nil},
			{"DELETE", "/v1/client/sessions/current", nil},
		}
		for _, ep := range clientEndpoints {
			for _, key := range []string{a.Key.Key, b.Key.Key, svc.SuperadminKey, revoked.Key} {
				// An API key alone is no access token...
				ans := harness.Over(t, svc.Client(key)).Do(ep.method, ep.path, ep.body)
				wantBearerRefused(t, ans, accessRequired)
				// ...nor is one sent as a bearer token.
				ans = harness.Over(t, svc.Bearer(key)).Do(ep.method, ep.path, ep.body)
				wantBearerRefused(t, ans, accessRefused)
			}
		}
		// None of that signed the caller out.
		harness.Over(t, svc.Bearer(token)).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	})

	t.Run("a refused change writes nothing", func(t *testing.T) {
		aw, bw := harness.Over(t, a.Client), harness.Over(t, b.Client)
		before := aw.Do("GET", "/v1/games/"+game, nil).Want(http.StatusOK)
		bw.Do("PATCH", "/v1/games/"+game, map[string]any{"name": "Taken over", "steam_app_id": "480"}).Want(http.StatusForbidden, gameDenied)
		bw.Do("PATCH", "/v1/games/"+game, map[string]any{"deleted": true}).Want(http.StatusForbidden, gameDenied)
		if after := aw.Do("GET", "/v1/games/"+game, nil).Want(http.StatusOK); !bytes.Equal(after.Body, before.Body) {
			t.Fatalf("B's refused changes changed the game: %s, was %s", after.Body, before.Body)
		}

		sBefore := aw.Do("GET", "/v1/identity-sessions/"+untouched.SessionID, nil).Want(http.StatusOK)
		bw.Do("DELETE", "/v1/identity-sessions/"+untouched.SessionID, nil).Want(http.StatusForbidden, sesDenied)
		if after := aw.Do("GET", "/v1/identity-sessions/"+untouched.SessionID, nil).Want(http.StatusOK); !bytes.Equal(after.Body, sBefore.Body) {
			t.Fatalf("B's refused revocation changed the session: %s, was %s", after.Body, sBefore.Body)
		}
		harness.Over(t, svc.Bearer(untouched.AccessToken)).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		// Of the sign-ins of A's identity, only A's and the superadmin's
		// made sessions (and the three made above).
		sessions := 0
		for _, err := range a.Client.IdentitySessions(t.Context(), client.ListIdentitySessionsParams{IdentityID: identity.ID}) {
			if err != nil {
				t.Fatal(err)
			}
			sessions++
		}
		if sessions != 5 {
			t.Fatalf("A's identity has %d sessions, want 5", sessions)
		}
	})
}

// newSessionOf signs a device of the tenant's game in.
func newSessionOf(t *testing.T, tenant harness.Tenant) client.SignInResponse {
	t.Helper()
	s, err := tenant.Client.SignIn(t.Context(), client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: newDevice()})
	if err != nil {
		t.Fatal(err)
	}
	return client.SignInResponse{SessionID: s.SessionID(), Identity: s.Identity().Identity}
}
