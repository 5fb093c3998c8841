package acceptance

import (
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
	game := harness.NewGameID()
	identity := harness.NewIdentity(t, a.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindDevice, ExternalKey: "device-matrix"})
	spareKey := harness.NewAPIKey(t, admin, a.Account.ID, a.User.ID)
	revoked := harness.NewAPIKey(t, admin, a.Account.ID, a.User.ID)
	if _, err := admin.RevokeAPIKey(t.Context(), revoked.ID); err != nil {
		t.Fatal(err)
	}

	const (
		ok        = 0 // any 2xx
		denied    = "Access denied to the specified account"
		superOnly = "Superadmin access required"
	)
	type expect struct {
		own, other any // ok, or the 403 detail
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
		}, expect{ok, denied}},
		{"GET", "/v1/identities?account_id=" + a.Account.ID, nil, expect{ok, denied}},
		{"GET", "/v1/identities/" + identity.ID, nil, expect{ok, "You do not have access to this identity's account"}},
		{"GET", "/v1/identities/" + identity.ID + "?account_id=" + a.Account.ID, nil, expect{ok, denied}},
		{"PATCH", "/v1/identities/" + identity.ID, func() any { return map[string]any{"display_name": "name " + unique()} },
			expect{ok, "You do not have access to this identity's account"}},
		{"POST", "/v1/accounts", func() any { s := "acc-" + unique(); return map[string]any{"name": s, "slug": s} }, expect{superOnly, superOnly}},
		{"GET", "/v1/accounts", nil, expect{ok, ok}},
		{"GET", "/v1/accounts/" + a.Account.ID, nil, expect{ok, "You do not have access to this account"}},
		{"POST", "/v1/users", func() any {
			return map[string]any{"account_id": a.Account.ID, "email": "u-" + unique() + "@example.com", "display_name": "New User"}
		}, expect{ok, denied}},
		{"GET", "/v1/users?account_id=" + a.Account.ID, nil, expect{ok, denied}},
		{"GET", "/v1/users/" + a.User.ID, nil, expect{ok, "You do not have access to this user's account"}},
		{"POST", "/v1/api-keys", func() any {
			return map[string]any{"account_id": a.Account.ID, "user_id": a.User.ID, "name": "k " + unique()}
		}, expect{ok, denied}},
		{"GET", "/v1/api-keys?account_id=" + a.Account.ID, nil, expect{ok, denied}},
		{"GET", "/v1/api-keys/" + spareKey.ID, nil, expect{ok, "You do not have access to this API key's account"}},
		{"PATCH", "/v1/api-keys/" + spareKey.ID, func() any { return map[string]any{} }, expect{ok, "You do not have access to this API key's account"}},
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
		{"superadmin", admin, func(expect) any { return ok }},
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
				}
			})
		}
	}

	t.Run("lists stay inside the tenant", func(t *testing.T) {
		harness.NewIdentity(t, b.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindDevice, ExternalKey: "device-of-b"})
		for i, err := range a.Client.Identities(t.Context(), client.ListIdentitiesParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			if i.AccountID != a.Account.ID {
				t.Fatalf("A's list holds an identity of %s", i.AccountID)
			}
		}
		accounts, err := b.Client.ListAccounts(t.Context(), client.ListParams{})
		if err != nil || len(accounts.Data) != 1 || accounts.Data[0].ID != b.Account.ID {
			t.Fatalf("B sees accounts %+v (%v)", accounts.Data, err)
		}
		seen := map[string]bool{}
		for i, err := range admin.Identities(t.Context(), client.ListIdentitiesParams{GameID: game}) {
			if err != nil {
				t.Fatal(err)
			}
			seen[i.AccountID] = true
		}
		if !seen[a.Account.ID] || !seen[b.Account.ID] {
			t.Fatalf("the superadmin's list across accounts saw %v", seen)
		}
	})
}
