package verifier

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	e := newEnv(t)
	token := e.token(nil)
	var seen Claims
	h := e.v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFrom(r.Context())
		if !ok {
			t.Error("no claims in the request's context")
		}
		seen = c
		w.WriteHeader(http.StatusNoContent)
	}))
	cases := []struct {
		name, authorization string
		status              int
		body                string
	}{
		{"no header", "", 401, `{"detail":"Access token required"}`},
		{"another scheme", "Basic dXNlcjpwYXNz", 401, `{"detail":"Access token required"}`},
		{"no token", "Bearer ", 401, `{"detail":"Access token required"}`},
		{"a bad token", "Bearer " + token + "x", 401, `{"detail":"Invalid or expired access token"}`},
		{"a token", "Bearer " + token, 204, ""},
		{"the scheme in lower case", "bearer " + token, 204, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/scores", nil)
			if c.authorization != "" {
				r.Header.Set("Authorization", c.authorization)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status || w.Body.String() != c.body {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, c.status, c.body)
			}
			if c.status == 401 && (w.Header().Get("WWW-Authenticate") != "Bearer" || w.Header().Get("Content-Type") != "application/json; charset=utf-8") {
				t.Fatalf("headers %v", w.Header())
			}
		})
	}
	if seen.SessionID != e.claimsOf(token).SessionID {
		t.Fatalf("the handler saw %+v", seen)
	}
	if _, ok := ClaimsFrom(t.Context()); ok {
		t.Fatal("claims in a context Middleware did not make")
	}
}

func TestMiddlewareWithoutKeys(t *testing.T) {
	e := newEnv(t)
	e.svc.set(func(s *service) { s.failKeys = true })
	h := e.v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("let through") }))
	r := httptest.NewRequest(http.MethodGet, "/scores", nil)
	r.Header.Set("Authorization", "Bearer "+e.token(nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 503 || w.Body.String() != `{"detail":"Service temporarily unavailable"}` || w.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %s %v", w.Code, w.Body, w.Header())
	}
}

func TestNewConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {BaseURL: "id.example.com"}, {BaseURL: "ftp://id.example.com"},
		{BaseURL: "https://id.example.com", Leeway: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// The feed's API key must not follow a redirect to another host.
func TestNoRedirects(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a redirect was followed")
	}))
	defer elsewhere.Close()
	svc := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusFound))
	defer svc.Close()
	v, err := New(Config{BaseURL: svc.URL, HTTPClient: svc.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(t.Context()); err == nil {
		t.Fatal("a redirect was taken for a key set")
	}
	if err := v.FollowFeed(t.Context(), FeedConfig{APIKey: apiKey, PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the feed fails", func() bool { return v.Status().FeedErr != nil })
}
