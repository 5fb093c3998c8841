package acceptance

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// TestAccountsUsersAndKeys covers section 4 of the contract over HTTP.
func TestAccountsUsersAndKeys(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	admin := svc.Admin()
	tenant := harness.NewTenant(t, svc)
	sw := harness.Over(t, admin)
	tw := harness.Over(t, tenant.Client)

	t.Run("conflicts", func(t *testing.T) {
		sw.Do("POST", "/v1/accounts", map[string]any{"name": "Again", "slug": tenant.Account.Slug}).
			Want(http.StatusConflict, "An account with this slug already exists")
		tw.Do("POST", "/v1/users", map[string]any{"email": tenant.User.Email, "display_name": "Twin"}).
			Want(http.StatusConflict, "A user with this email already exists")
	})

	t.Run("only superadmins make superadmins", func(t *testing.T) {
		tw.Do("POST", "/v1/users", map[string]any{"email": "boss@example.com", "display_name": "Boss", "super_admin": true}).
			Want(http.StatusForbidden, "Superadmin access required")
		root := sw.Do("POST", "/v1/users", map[string]any{"account_id": tenant.Account.ID, "email": "root@example.com",
			"display_name": "Root", "super_admin": true}).Want(http.StatusCreated)
		tw.Do("POST", "/v1/api-keys", map[string]any{"user_id": root.Str("id"), "name": "escalate"}).
			Want(http.StatusForbidden, "Superadmin access required")
	})

	t.Run("a key's plaintext is shown once", func(t *testing.T) {
		created := tw.Do("POST", "/v1/api-keys", map[string]any{"user_id": tenant.User.ID, "name": "once"}).Want(http.StatusCreated)
		plaintext := created.Str("key")
		if !strings.HasPrefix(plaintext, created.Str("key_prefix")) || len(plaintext) != 47 {
			t.Fatalf("created: %s", created.Body)
		}
		for _, path := range []string{"/v1/api-keys/" + created.Str("id"), "/v1/api-keys?limit=100", "/v1/api-keys?user_id=" + tenant.User.ID} {
			for _, w := range []harness.Wire{tw, sw} {
				if body := w.Do("GET", path, nil).Want(http.StatusOK).Body; strings.Contains(string(body), plaintext[len(created.Str("key_prefix")):]) {
					t.Fatalf("GET %s shows the plaintext", path)
				}
			}
		}
		harness.Over(t, svc.Client(plaintext)).Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	})

	t.Run("expired keys fail", func(t *testing.T) {
		expires := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		k := tw.Do("POST", "/v1/api-keys", map[string]any{"user_id": tenant.User.ID, "name": "brief", "expires_at": expires}).Want(http.StatusCreated)
		kw := harness.Over(t, svc.Client(k.Str("key")))
		deadline := time.Now().Add(20 * time.Second)
		for {
			a := kw.Do("GET", "/v1/accounts", nil)
			if a.Status == http.StatusUnauthorized {
				a.Want(http.StatusUnauthorized, "Invalid or expired API key")
				break
			}
			a.Want(http.StatusOK)
			if time.Now().After(deadline) {
				t.Fatal("the key still works long after it expired")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("lists page like identities", func(t *testing.T) {
		for n := range 4 {
			harness.NewAccount(t, admin)
			harness.NewUser(t, tenant.Client, tenant.Account.ID)
			if n < 3 {
				harness.NewAPIKey(t, tenant.Client, tenant.Account.ID, tenant.User.ID)
			}
		}
		collect := func(name string, seq func(yield func(string, error) bool)) []string {
			var ids []string
			for id, err := range seq {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if slices.Contains(ids, id) {
					t.Fatalf("%s: %s twice", name, id)
				}
				ids = append(ids, id)
			}
			return ids
		}
		accounts := collect("accounts", func(yield func(string, error) bool) {
			for a, err := range admin.Accounts(t.Context(), client.ListParams{Limit: 1, Sort: "slug:asc"}) {
				if !yield(a.ID, err) {
					return
				}
			}
		})
		users := collect("users", func(yield func(string, error) bool) {
			for u, err := range tenant.Client.Users(t.Context(), client.ListParams{Limit: 2, Sort: "email:desc"}) {
				if !yield(u.ID, err) {
					return
				}
			}
		})
		keys := collect("keys", func(yield func(string, error) bool) {
			for k, err := range tenant.Client.APIKeys(t.Context(), client.ListParams{Limit: 2}) {
				if !yield(k.ID, err) {
					return
				}
			}
		})
		// system + tenant + 4; the tenant's user + 4 + root; keys: see above.
		if len(accounts) != 6 || len(users) < 6 || len(keys) < 4 {
			t.Fatalf("%d accounts, %d users, %d keys", len(accounts), len(users), len(keys))
		}
		first := sw.Do("GET", "/v1/accounts?limit=2&sort=slug:asc", nil).Want(http.StatusOK)
		next := first.JSON["pagination"].(map[string]any)["next_cursor"].(string)
		sw.Do("GET", "/v1/accounts?sort=slug:desc&cursor="+next, nil).
			Want(http.StatusBadRequest, "Query parameters don't match cursor state. Start a new pagination sequence.")
		sw.Do("GET", "/v1/users?sort=slug:asc", nil).
			Want(http.StatusBadRequest, "Unknown sort field: slug. Valid fields: created_at, display_name, email, id, updated_at")
	})

	// Finding 5 of issue 17: another tenant's e-mail was a 409, which told
	// any tenant who uses the service. E-mails are unique within an account.
	t.Run("another tenant's e-mail is no conflict", func(t *testing.T) {
		other := harness.NewTenant(t, svc)
		ow := harness.Over(t, other.Client)
		twin := ow.Do("POST", "/v1/users", map[string]any{"email": tenant.User.Email, "display_name": "Namesake"}).Want(http.StatusCreated)
		if twin.Str("account_id") != other.Account.ID || twin.Str("email") != tenant.User.Email {
			t.Fatalf("created: %s", twin.Body)
		}
		ow.Do("POST", "/v1/users", map[string]any{"email": tenant.User.Email, "display_name": "Twin"}).
			Want(http.StatusConflict, "A user with this email already exists")
	})
}

// TestSuperadminKeysAreTheirsToChange reproduces finding 1 of issue 17: a
// regular user of the system account revoked the bootstrap superadmin's
// key (its account was the only check), and superadmins were locked out
// for good. Now only a superadmin changes a superadmin's key.
func TestSuperadminKeysAreTheirsToChange(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	sw := harness.Over(t, svc.Admin())
	var super client.APIKey
	for k, err := range svc.Admin().APIKeys(t.Context(), client.ListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(svc.SuperadminKey, k.KeyPrefix) {
			super = k
		}
	}
	if super.ID == "" {
		t.Fatal("the bootstrap key is not listed")
	}
	// A regular user of the system account, with a key of its own.
	insider := harness.NewUser(t, svc.Admin(), super.AccountID)
	iw := harness.Over(t, svc.Client(harness.NewAPIKey(t, svc.Admin(), super.AccountID, insider.ID).Key))
	iw.Do("GET", "/v1/api-keys/"+super.ID, nil).Want(http.StatusOK) // it may see the key of its account
	for _, body := range []map[string]any{{"status": "revoked"}, {"status": "active"}, {}} {
		iw.Do("PATCH", "/v1/api-keys/"+super.ID, body).Want(http.StatusForbidden, "Superadmin access required")
	}
	sw.Do("GET", "/v1/accounts", nil).Want(http.StatusOK)
	if got := sw.Do("GET", "/v1/api-keys/"+super.ID, nil).Want(http.StatusOK).Str("status"); got != "active" {
		t.Fatalf("the superadmin's key is %s", got)
	}
	// A superadmin may still revoke a superadmin's key: another one's here.
	spare := harness.NewAPIKey(t, svc.Admin(), super.AccountID, super.UserID)
	if got := sw.Do("PATCH", "/v1/api-keys/"+spare.ID, map[string]any{"status": "revoked"}).Want(http.StatusOK).Str("status"); got != "revoked" {
		t.Fatalf("revoked by a superadmin: %s", got)
	}
	// The insider's own keys stay its to revoke.
	own := harness.NewAPIKey(t, svc.Admin(), super.AccountID, insider.ID)
	iw.Do("PATCH", "/v1/api-keys/"+own.ID, map[string]any{"status": "revoked"}).Want(http.StatusOK)
}
