package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/ports/paging"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/ports"
)

// env is the HTTP API over the real use cases and in-memory repositories,
// with a clock the test moves and a log it can read.
type env struct {
	t      *testing.T
	mem    *apptest.Memory
	router http.Handler
	super  string // the superadmin's key
	clock  *clock
	logs   *syncBuffer
	pinger *pinger
	// What the aggregates' use cases share.
	now    ports.Clock
	hasher auth.Hasher
	codec  paging.Cursors
	opts   options
}

// sliceRoutes build each aggregate's routes over the env's fakes; each
// aggregate's test file adds its own.
var sliceRoutes []func(e *env) httpapi.Routes

// routes are every aggregate's routes over the env's fakes.
func (e *env) routes() []httpapi.Routes {
	out := make([]httpapi.Routes, len(sliceRoutes))
	for i, r := range sliceRoutes {
		out[i] = r(e)
	}
	return out
}

// newRouter builds the router and ends the test if that fails.
func newRouter(t *testing.T, d httpapi.Deps) http.Handler {
	t.Helper()
	r, err := httpapi.NewRouter(d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type pinger struct{ err error }

func (p *pinger) Ping(context.Context) error { return p.err }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const (
	testPepper       = "pepper-pepper-pepper-pepper-pepper!"
	testCursorSecret = "cursor-cursor-cursor-cursor-cursor!"
)

type options struct {
	identities ports.Identities // replaces the real use cases when set
	// requestTimeout and unavailable are Deps' RequestTimeout and
	// Unavailable.
	requestTimeout time.Duration
	unavailable    func(error) bool
	draining       func() bool
}

func newEnv(t *testing.T, opts ...func(*options)) *env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &env{t: t, mem: apptest.NewMemory(), clock: &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)},
		logs: &syncBuffer{}, pinger: &pinger{}, hasher: auth.NewHasher([]byte(testPepper)),
		codec: cursor.NewCodec([]byte(testCursorSecret)), opts: o}
	e.now = e.clock.Now
	key, created, err := auth.Bootstrap(t.Context(), e.mem.Tenancy(), e.hasher, e.now, "")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v", err)
	}
	e.super = key
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(e.logs), zapcore.DebugLevel)
	e.router = newRouter(t, httpapi.Deps{
		Routes:         e.routes(),
		Authenticator:  auth.NewAuthenticator(e.mem.Tenancy(), e.hasher, e.now),
		Health:         e.pinger,
		Logger:         zap.New(core),
		RequestTimeout: o.requestTimeout,
		Unavailable:    o.unavailable,
		Draining:       o.draining,
	})
	return e
}

// response is a recorded answer with its JSON body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (e *env) do(method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("leadr-api-key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		e.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, r.raw)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
		e.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, r.raw)
	}
	return r
}

// want checks the status, and the detail for error statuses given one.
func (r response) want(t *testing.T, status int, detail ...string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if len(detail) > 0 && r.body["detail"] != detail[0] {
		t.Fatalf("detail %v, want %q", r.body["detail"], detail[0])
	}
	return r
}

func (r response) str(field string) string {
	s, _ := r.body[field].(string)
	return s
}

// problems returns a 422 body's entries.
func (r response) problems(t *testing.T) []map[string]any {
	t.Helper()
	r.want(t, http.StatusUnprocessableEntity)
	list, ok := r.body["detail"].([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("422 without a list of problems: %s", r.raw)
	}
	out := make([]map[string]any, len(list))
	for i, p := range list {
		out[i] = p.(map[string]any)
		for _, k := range []string{"type", "loc", "msg"} {
			if _, ok := out[i][k]; !ok {
				t.Fatalf("problem without %q: %s", k, r.raw)
			}
		}
		if _, ok := out[i]["input"]; !ok {
			t.Fatalf("problem without input: %s", r.raw)
		}
	}
	return out
}

// wantProblem checks a 422 body holds a problem of type typ at loc.
func (r response) wantProblem(t *testing.T, typ string, loc ...any) map[string]any {
	t.Helper()
	for _, p := range r.problems(t) {
		l, _ := json.Marshal(p["loc"])
		w, _ := json.Marshal(loc)
		if p["type"] == typ && string(l) == string(w) {
			return p
		}
	}
	t.Fatalf("no %s problem at %v in %s", typ, loc, r.raw)
	return nil
}

// tenant is an account with a regular user, that user's key, and a game of
// the account: identities can only be created in a live game of their own
// account.
type tenant struct {
	account string
	user    string
	key     string
	game    string
}

func (e *env) newTenant(slug string) tenant {
	e.t.Helper()
	acc := e.do("POST", "/v1/accounts", e.super, map[string]any{"name": "Tenant " + slug, "slug": slug}).want(e.t, 201)
	usr := e.do("POST", "/v1/users", e.super, map[string]any{
		"account_id": acc.str("id"), "email": slug + "@example.com", "display_name": "User " + slug,
	}).want(e.t, 201)
	key := e.do("POST", "/v1/api-keys", e.super, map[string]any{
		"account_id": acc.str("id"), "user_id": usr.str("id"), "name": "key of " + slug,
	}).want(e.t, 201)
	g := e.do("POST", "/v1/games", key.str("key"), map[string]any{"name": "Game " + slug}).want(e.t, 201)
	return tenant{account: acc.str("id"), user: usr.str("id"), key: key.str("key"), game: g.str("id")}
}

// unknownGame is a well-formed game ID that no game has: for requests that
// must fail before the game is looked up, and for filters that match nothing.
const unknownGame = "gam_0195f2a0-0000-7000-8000-000000000001"

// newIdentity creates an identity with the tenant's key, in the tenant's
// game and as a DEVICE unless body says otherwise.
func (e *env) newIdentity(t tenant, body map[string]any) response {
	e.t.Helper()
	if _, ok := body["game_id"]; !ok {
		body["game_id"] = t.game
	}
	if _, ok := body["kind"]; !ok {
		body["kind"] = "DEVICE"
	}
	return e.do("POST", "/v1/identities", t.key, body).want(e.t, 201)
}
