package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi"
	apptenancy "github.com/leadr-oss/identity/application/tenancy"
)

func init() {
	sliceRoutes = append(sliceRoutes, func(e *env) httpapi.Routes {
		return httpapi.TenancyRoutes(apptenancy.NewService(e.mem.Tenancy(), e.hasher, e.codec, e.now))
	})
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	other := e.newTenant("other")

	e.do("POST", "/v1/accounts", acme.key, map[string]any{"name": "Mine", "slug": "mine"}).want(t, http.StatusForbidden, "Superadmin access required")
	e.do("POST", "/v1/accounts", acme.key, map[string]any{"name": "Mine"}).wantProblem(t, "missing", "body", "slug")
	e.do("POST", "/v1/accounts", e.super, map[string]any{"name": "Dup", "slug": "acme"}).want(t, http.StatusConflict, "An account with this slug already exists")
	for _, slug := range []string{"Acme", "-acme", "acme-", "a b", strings.Repeat("a", 51), ""} {
		e.do("POST", "/v1/accounts", e.super, map[string]any{"name": "X", "slug": slug}).wantProblem(t, "value_error", "body", "slug")
	}
	e.do("POST", "/v1/accounts", e.super, map[string]any{"name": " ", "slug": "blank"}).wantProblem(t, "string_too_short", "body", "name")
	created := e.do("POST", "/v1/accounts", e.super, map[string]any{"name": "New", "slug": "new"}).want(t, http.StatusCreated)
	if created.header.Get("Location") != "/v1/accounts/"+created.str("id") || len(created.body) != 5 {
		t.Fatalf("created: %s", created.raw)
	}

	e.do("GET", "/v1/accounts/"+acme.account, acme.key, nil).want(t, http.StatusOK)
	e.do("GET", "/v1/accounts/"+other.account, acme.key, nil).want(t, http.StatusForbidden, "You do not have access to this account")
	e.do("GET", "/v1/accounts/"+other.account, e.super, nil).want(t, http.StatusOK)
	e.do("GET", "/v1/accounts/acc_0195f2a0-0000-7000-8000-000000000000", e.super, nil).want(t, http.StatusNotFound, "Account not found")
	e.do("GET", "/v1/accounts/usr_0195f2a0-0000-7000-8000-000000000000", e.super, nil).wantProblem(t, "value_error", "path", "account_id")

	e.do("GET", "/v1/accounts?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")
	e.do("GET", "/v1/accounts?account_id="+acme.account, acme.key, nil).want(t, http.StatusOK)
	only := e.do("GET", "/v1/accounts?account_id="+other.account, e.super, nil).want(t, http.StatusOK)
	if data := only.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != other.account {
		t.Fatalf("a superadmin naming an account: %s", only.raw)
	}
	own := e.do("GET", "/v1/accounts", acme.key, nil).want(t, http.StatusOK)
	if data := own.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != acme.account {
		t.Fatalf("a regular user sees: %s", own.raw)
	}
	all := e.do("GET", "/v1/accounts?sort=slug:asc&limit=2", e.super, nil).want(t, http.StatusOK)
	if slugs := all.body["data"].([]any); slugs[0].(map[string]any)["slug"] != "acme" || all.body["pagination"].(map[string]any)["has_next"] != true {
		t.Fatalf("superadmin list: %s", all.raw)
	}
	e.do("GET", "/v1/accounts?sort=email:asc", e.super, nil).want(t, http.StatusBadRequest, "Unknown sort field: email. Valid fields: created_at, id, name, slug, updated_at")
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")

	u := e.do("POST", "/v1/users", acme.key, map[string]any{"email": "Bob@Example.COM", "display_name": "Bob"}).want(t, http.StatusCreated)
	if u.str("account_id") != acme.account || u.str("email") != "Bob@example.com" || u.body["super_admin"] != false {
		t.Fatalf("user: %s", u.raw)
	}
	e.do("POST", "/v1/users", acme.key, map[string]any{"email": "Bob@example.com", "display_name": "Bob again"}).want(t, http.StatusConflict, "A user with this email already exists")
	e.do("POST", "/v1/users", acme.key, map[string]any{"email": "eve@example.com", "display_name": "Eve", "super_admin": true}).want(t, http.StatusForbidden, "Superadmin access required")
	e.do("POST", "/v1/users", acme.key, map[string]any{"account_id": other.account, "email": "eve@example.com", "display_name": "Eve"}).want(t, http.StatusForbidden, "Access denied to the specified account")
	for _, email := range []string{"nope", "a@b", "Eve <eve@example.com>", "eve@example.com."} {
		e.do("POST", "/v1/users", acme.key, map[string]any{"email": email, "display_name": "Eve"}).wantProblem(t, "value_error", "body", "email")
	}
	r := e.do("POST", "/v1/users", e.super, map[string]any{"email": "x", "display_name": "E"})
	if n := len(r.problems(t)); n != 3 {
		t.Fatalf("want account_id, email and display_name problems: %s", r.raw)
	}
	admin := e.do("POST", "/v1/users", e.super, map[string]any{"account_id": acme.account, "email": "root@acme.example", "display_name": "Root", "super_admin": true}).want(t, http.StatusCreated)

	e.do("GET", "/v1/users/"+u.str("id"), acme.key, nil).want(t, http.StatusOK)
	e.do("GET", "/v1/users/"+u.str("id"), other.key, nil).want(t, http.StatusForbidden, "You do not have access to this user's account")
	e.do("GET", "/v1/users/usr_0195f2a0-0000-7000-8000-000000000000", e.super, nil).want(t, http.StatusNotFound, "User not found")
	list := e.do("GET", "/v1/users?sort=email:asc", acme.key, nil).want(t, http.StatusOK)
	if n := len(list.body["data"].([]any)); n != 3 {
		t.Fatalf("acme has %d users, want 3: %s", n, list.raw)
	}
	e.do("GET", "/v1/users?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden, "Access denied to the specified account")

	t.Run("only a superadmin issues a superadmin's key", func(t *testing.T) {
		e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": admin.str("id"), "name": "escalate"}).want(t, http.StatusForbidden, "Superadmin access required")
	})
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")

	k := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "ci"}).want(t, http.StatusCreated)
	plaintext := k.str("key")
	if len(plaintext) != 47 || !strings.HasPrefix(plaintext, "ldr_") || k.str("key_prefix") != plaintext[:14] || k.str("status") != "active" {
		t.Fatalf("created key: %s", k.raw)
	}
	if k.header.Get("Cache-Control") != "no-store" {
		t.Fatal("a response with a plaintext key may be cached")
	}
	got := e.do("GET", "/v1/api-keys/"+k.str("id"), acme.key, nil).want(t, http.StatusOK)
	if _, has := got.body["key"]; has || got.str("key_prefix") != k.str("key_prefix") {
		t.Fatalf("GET key: %s", got.raw)
	}
	e.do("GET", "/v1/api-keys/"+k.str("id"), other.key, nil).want(t, http.StatusForbidden, "You do not have access to this API key's account")
	e.do("GET", "/v1/api-keys/key_0195f2a0-0000-7000-8000-000000000000", acme.key, nil).want(t, http.StatusNotFound, "API key not found")

	e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": other.user, "name": "theirs"}).want(t, http.StatusNotFound, "User not found")
	e.do("POST", "/v1/api-keys", acme.key, map[string]any{"account_id": other.account, "user_id": other.user, "name": "theirs"}).want(t, http.StatusForbidden, "Access denied to the specified account")
	e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "old", "expires_at": e.clock.Now().Add(-time.Second).Format(time.RFC3339)}).
		wantProblem(t, "value_error", "body", "expires_at")
	e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "bad", "expires_at": "tomorrow"}).
		wantProblem(t, "datetime_parsing", "body", "expires_at")
	for far, typ := range map[string]string{"9999-12-31T23:59:59-01:00": "datetime_parsing", "10000-01-01T00:00:00Z": "datetime_parsing",
		"0001-01-01T00:00:00Z": "datetime_parsing", "0000-12-31T23:00:00-02:00": "value_error"} {
		e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "far", "expires_at": far}).
			wantProblem(t, typ, "body", "expires_at")
	}
	e.do("POST", "/v1/api-keys", acme.key, map[string]any{"name": "no user"}).wantProblem(t, "missing", "body", "user_id")

	list := e.do("GET", "/v1/api-keys?user_id="+acme.user, acme.key, nil).want(t, http.StatusOK)
	if n := len(list.body["data"].([]any)); n != 2 {
		t.Fatalf("acme's user has %d keys, want 2", n)
	}
	e.do("GET", "/v1/api-keys?account_id="+other.account, acme.key, nil).want(t, http.StatusForbidden)

	path := "/v1/api-keys/" + k.str("id")
	e.do("PATCH", path, acme.key, map[string]any{"status": "paused"}).wantProblem(t, "enum", "body", "status")
	e.do("PATCH", path, other.key, map[string]any{"status": "revoked"}).want(t, http.StatusForbidden)
	e.do("GET", "/v1/identities", plaintext, nil).want(t, http.StatusOK)
	same := e.do("PATCH", path, acme.key, map[string]any{}).want(t, http.StatusOK)
	if same.str("updated_at") != got.str("updated_at") {
		t.Fatal("an empty PATCH changed the key")
	}
	e.clock.Advance(time.Second)
	revoked := e.do("PATCH", path, acme.key, map[string]any{"status": "revoked"}).want(t, http.StatusOK)
	if revoked.str("status") != "revoked" || revoked.str("updated_at") == got.str("updated_at") {
		t.Fatalf("revoked: %s", revoked.raw)
	}
	e.do("GET", "/v1/identities", plaintext, nil).want(t, http.StatusUnauthorized, "Invalid or expired API key")
	e.do("PATCH", path, acme.key, map[string]any{"status": "active"}).want(t, http.StatusConflict, "API key is revoked; a revoked key cannot be reactivated")

	last := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "last", "expires_at": "9999-12-31T23:59:59Z"}).
		want(t, http.StatusCreated)
	e.do("GET", "/v1/api-keys/"+last.str("id"), acme.key, nil).want(t, http.StatusOK)
	e.do("GET", "/v1/identities", last.str("key"), nil).want(t, http.StatusOK)
}
