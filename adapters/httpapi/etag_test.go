package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// etagPattern is a strong entity tag as the service makes them.
var etagPattern = regexp.MustCompile(`^"[A-Za-z0-9_-]{22}"$`)

// conditional sends method path with the key, a JSON body (none if empty)
// and header given as lines, one field line each, and returns the answer
// whatever its content: a 304 has none.
func (e *env) conditional(method, path, key, body, header string, lines ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("leadr-api-key", key)
	for _, l := range lines {
		req.Header.Add(header, l)
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

func TestIdentityAnswersCarryAnETag(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	created := e.newIdentity(acme, map[string]any{"external_key": "device-0001", "display_name": "Alice"})
	tag := created.header.Get("ETag")
	if !etagPattern.MatchString(tag) {
		t.Fatalf("201 ETag %q is not a strong entity tag", tag)
	}
	path := "/v1/identities/" + created.str("id")

	// The same representation, whatever answers it, has the same tag.
	for _, r := range []struct {
		what string
		response
	}{
		{"GET", e.do("GET", path, acme.key, nil).want(t, http.StatusOK)},
		{"GET again", e.do("GET", path, acme.key, nil).want(t, http.StatusOK)},
		{"POST of the same key", e.do("POST", "/v1/identities", acme.key, map[string]any{
			"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001"}).want(t, http.StatusOK)},
		{"PATCH {}", e.do("PATCH", path, acme.key, map[string]any{}).want(t, http.StatusOK)},
		{"PATCH to the same name", e.do("PATCH", path, acme.key, map[string]any{"display_name": "Alice"}).want(t, http.StatusOK)},
	} {
		if r.raw != created.raw || r.header.Get("ETag") != tag {
			t.Errorf("%s: ETag %q, body %s; want %q, %s", r.what, r.header.Get("ETag"), r.raw, tag, created.raw)
		}
	}

	// Another representation has another tag, which reads answer from then on.
	seen := map[string]bool{tag: true}
	for _, c := range []struct {
		what   string
		change func() response
	}{
		{"PATCH", func() response {
			return e.do("PATCH", path, acme.key, map[string]any{"display_name": "Bob"}).want(t, http.StatusOK)
		}},
		{"POST with another name", func() response {
			return e.do("POST", "/v1/identities", acme.key, map[string]any{
				"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001", "display_name": "Carol"}).want(t, http.StatusOK)
		}},
	} {
		r := c.change()
		got := r.header.Get("ETag")
		if !etagPattern.MatchString(got) || seen[got] {
			t.Errorf("%s: ETag %q, want a new strong tag (seen %v)", c.what, got, seen)
		}
		seen[got] = true
		if read := e.do("GET", path, acme.key, nil).want(t, http.StatusOK); read.header.Get("ETag") != got {
			t.Errorf("GET after %s: ETag %q, want %q", c.what, read.header.Get("ETag"), got)
		}
	}

	if list := e.do("GET", "/v1/identities", acme.key, nil).want(t, http.StatusOK); list.header.Get("ETag") != "" {
		t.Errorf("a list page has ETag %q", list.header.Get("ETag"))
	}
}

// Each field value is read by GET's If-None-Match (weak comparison; a
// malformed field is ignored) and by PATCH's If-Match (strong comparison;
// a malformed field matches nothing).
func TestConditionalHeaders(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	created := e.newIdentity(acme, map[string]any{"external_key": "device-0001", "display_name": "Alice"})
	path := "/v1/identities/" + created.str("id")
	stale := created.header.Get("ETag")
	current := e.do("PATCH", path, acme.key, map[string]any{"display_name": "Bob"}).want(t, http.StatusOK)
	tag := current.header.Get("ETag")

	cases := []struct {
		name        string
		lines       []string
		notModified bool // GET with these If-None-Match lines answers 304
		matches     bool // PATCH with these If-Match lines goes ahead
	}{
		{"the tag", []string{tag}, true, true},
		{"a stale tag", []string{stale}, false, false},
		{"another tag", []string{`"other"`}, false, false},
		{"the empty tag", []string{`""`}, false, false},
		{"any", []string{"*"}, true, true},
		{"any, with spaces", []string{" \t* "}, true, true},
		{"in a list", []string{stale + ", " + tag}, true, true},
		{"in a list with empty elements", []string{", ," + stale + " ,," + tag + ","}, true, true},
		{"on a second line", []string{stale, tag}, true, true},
		{"weak", []string{"W/" + tag}, true, false},
		{"weak in a list", []string{`"other", W/` + tag}, true, false},
		{"weak and strong", []string{"W/" + tag + ", " + tag}, true, true},
		{"an empty field", []string{""}, false, false},
		{"malformed: unquoted", []string{strings.Trim(tag, `"`)}, false, false},
		{"malformed: lower-case weak prefix", []string{"w/" + tag}, false, false},
		{"malformed: any in a list", []string{"*, " + tag}, false, false},
		{"malformed: any on a second line", []string{tag, "*"}, false, false},
		{"malformed: no comma", []string{stale + " " + tag}, false, false},
		{"malformed: unterminated", []string{tag + `, "abc`}, false, false},
		{"malformed: a space inside", []string{`"a b", ` + tag}, false, false},
		{"malformed: a bad line among good ones", []string{tag, "nope"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.conditional("GET", path, acme.key, "", "If-None-Match", c.lines...)
			switch {
			case got.Header().Get("ETag") != tag:
				t.Errorf("GET: ETag %q, want %q", got.Header().Get("ETag"), tag)
			case c.notModified && (got.Code != http.StatusNotModified || got.Body.Len() != 0):
				t.Errorf("GET: %d %s, want 304 with no body", got.Code, got.Body)
			case !c.notModified && (got.Code != http.StatusOK || got.Body.String() != current.raw):
				t.Errorf("GET: %d %s, want 200 %s", got.Code, got.Body, current.raw)
			}

			// Renaming to the same name writes nothing: the tag stays.
			got = e.conditional("PATCH", path, acme.key, `{"display_name":"Bob"}`, "If-Match", c.lines...)
			switch {
			case c.matches && (got.Code != http.StatusOK || got.Header().Get("ETag") != tag || got.Body.String() != current.raw):
				t.Errorf("PATCH: %d %s, ETag %q; want 200 %s, ETag %q", got.Code, got.Body, got.Header().Get("ETag"), current.raw, tag)
			case !c.matches && (got.Code != http.StatusPreconditionFailed || got.Body.String() != `{"detail":"Precondition failed"}`):
				t.Errorf("PATCH: %d %s, want 412 Precondition failed", got.Code, got.Body)
			}
		})
	}
}

func TestIfMatchRefusesAChangedIdentity(t *testing.T) {
	e := newEnv(t)
	acme, other := e.newTenant("acme"), e.newTenant("other")
	created := e.newIdentity(acme, map[string]any{"external_key": "device-0001", "display_name": "Alice"})
	path := "/v1/identities/" + created.str("id")
	stale := created.header.Get("ETag")
	current := e.do("PATCH", path, acme.key, map[string]any{"display_name": "Bob"}, "If-Match", stale).want(t, http.StatusOK)

	for _, body := range []string{`{"display_name":"Mallory"}`, `{"deleted":true}`, `{}`} {
		if got := e.conditional("PATCH", path, acme.key, body, "If-Match", stale); got.Code != http.StatusPreconditionFailed {
			t.Errorf("PATCH %s with a stale tag: %d %s, want 412", body, got.Code, got.Body)
		}
		if got := e.do("GET", path, acme.key, nil).want(t, http.StatusOK); got.raw != current.raw {
			t.Fatalf("PATCH %s with a stale tag wrote %s", body, got.raw)
		}
	}

	t.Run("the contract's checks come first", func(t *testing.T) {
		for _, c := range []struct {
			name, path, key, body string
			status                int
			detail                string
		}{
			{"no key", path, "", `{"display_name":"Mallory"}`, http.StatusUnauthorized, "API key required"},
			{"invalid name", path, other.key, `{"display_name":""}`, http.StatusUnprocessableEntity, ""},
			{"named account", path + "?account_id=" + acme.account, other.key, `{"display_name":"Mallory"}`, http.StatusForbidden, "Access denied to the specified account"},
			{"another tenant's", path, other.key, `{"display_name":"Mallory"}`, http.StatusForbidden, "You do not have access to this identity's account"},
			{"superadmin names another account", path + "?account_id=" + other.account, e.super, `{}`, http.StatusNotFound, "Identity not found"},
			{"unknown", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000", acme.key, `{"display_name":"Mallory"}`, http.StatusNotFound, "Identity not found"},
		} {
			got := e.conditional("PATCH", c.path, c.key, c.body, "If-Match", stale)
			if got.Code != c.status || (c.detail != "" && got.Body.String() != fmt.Sprintf(`{"detail":%q}`, c.detail)) {
				t.Errorf("%s: %d %s, want %d %s", c.name, got.Code, got.Body, c.status, c.detail)
			}
		}
	})

	t.Run("a deleted identity is not found, whatever the tag", func(t *testing.T) {
		deleted := e.do("PATCH", path, acme.key, map[string]any{"deleted": true}, "If-Match", current.header.Get("ETag")).want(t, http.StatusOK)
		if !etagPattern.MatchString(deleted.header.Get("ETag")) {
			t.Fatalf("the deletion's answer has ETag %q", deleted.header.Get("ETag"))
		}
		for _, tag := range []string{"*", deleted.header.Get("ETag")} {
			if got := e.conditional("PATCH", path, acme.key, `{"display_name":"Back"}`, "If-Match", tag); got.Code != http.StatusNotFound {
				t.Errorf("If-Match %s on a deleted identity: %d %s, want 404", tag, got.Code, got.Body)
			}
			if got := e.conditional("GET", path, acme.key, "", "If-None-Match", tag); got.Code != http.StatusNotFound {
				t.Errorf("If-None-Match %s on a deleted identity: %d %s, want 404", tag, got.Code, got.Body)
			}
		}
	})
}

func TestConcurrentPatchesUnderOneTag(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	created := e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
	path := "/v1/identities/" + created.str("id")
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.conditional("PATCH", path, acme.key, fmt.Sprintf(`{"display_name":"name %d"}`, i),
				"If-Match", created.header.Get("ETag")).Code
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusPreconditionFailed] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 412", counts, n-1)
	}
}

func TestClientMeCarriesTheIdentitysETag(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	s := e.signIn(acme, "3f2a9c1e-device")
	me := e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK)
	admin := e.do("GET", "/v1/identities/"+me.str("id"), acme.key, nil).want(t, http.StatusOK)
	if tag := me.header.Get("ETag"); !etagPattern.MatchString(tag) || tag != admin.header.Get("ETag") {
		t.Fatalf("me ETag %q, admin ETag %q", tag, admin.header.Get("ETag"))
	}
	if got := raw(t, e.router, "GET", "/v1/client/me", "Authorization", "Bearer "+s.access, "If-None-Match", me.header.Get("ETag")); got.Code != http.StatusNotModified || got.Body.Len() != 0 || got.Header().Get("ETag") != me.header.Get("ETag") {
		t.Fatalf("GET /v1/client/me with its tag: %d %s, ETag %q", got.Code, got.Body, got.Header().Get("ETag"))
	}

	n := e.as(s.access, "GET", "/v1/client/nonce", nil).want(t, http.StatusOK).str("nonce_value")
	renamed := e.as(s.access, "PATCH", "/v1/client/me", map[string]any{"display_name": "Grace"}, "leadr-client-nonce", n).want(t, http.StatusOK)
	tag := renamed.header.Get("ETag")
	if !etagPattern.MatchString(tag) || tag == me.header.Get("ETag") {
		t.Fatalf("renamed ETag %q, before %q", tag, me.header.Get("ETag"))
	}
	if after := e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK); after.header.Get("ETag") != tag {
		t.Fatalf("GET after the rename: ETag %q, want %q", after.header.Get("ETag"), tag)
	}

	// If-Match: the stale tag of before the rename is refused and renames
	// nothing; the current one renames.
	n = e.as(s.access, "GET", "/v1/client/nonce", nil).want(t, http.StatusOK).str("nonce_value")
	e.as(s.access, "PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}, "leadr-client-nonce", n, "If-Match", me.header.Get("ETag")).
		want(t, http.StatusPreconditionFailed, "Precondition failed")
	if still := e.as(s.access, "GET", "/v1/client/me", nil).want(t, http.StatusOK); still.str("display_name") != "Grace" {
		t.Fatalf("a stale If-Match renamed to %q", still.str("display_name"))
	}
	n = e.as(s.access, "GET", "/v1/client/nonce", nil).want(t, http.StatusOK).str("nonce_value")
	e.as(s.access, "PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}, "leadr-client-nonce", n, "If-Match", tag).want(t, http.StatusOK)
}
