package verifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publicJWK is k's public key as the service publishes it.
func publicJWK(kid string, k *ecdsa.PrivateKey) map[string]any {
	b, err := k.PublicKey.Bytes()
	if err != nil {
		panic(err)
	}
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
		"x": b64.EncodeToString(b[1:33]), "y": b64.EncodeToString(b[33:])}
}

func segment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b64.EncodeToString(b)
}

// signES256 is a token of header and claims signed by k.
func signES256(k *ecdsa.PrivateKey, header, claims map[string]any) string {
	input := segment(header) + "." + segment(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s) // the low-S form the service issues and takes
	}
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

// fakeEvent is an event of the fake service.
type fakeEvent struct {
	ID, Type, Subject string
	At                time.Time
	Data              map[string]any
	pos               int // in the feed
}

func (e fakeEvent) MarshalJSON() ([]byte, error) {
	subjectType, _, _ := strings.Cut(e.Type, ".")
	return json.Marshal(map[string]any{"id": e.ID, "type": e.Type, "account_id": accountID,
		"occurred_at": e.At.Format(time.RFC3339Nano), "actor": map[string]any{"type": "system", "id": nil},
		"subject": map[string]any{"type": subjectType, "id": e.Subject}, "data": e.Data})
}

const apiKey = "ldr_test-key"

var accountID = newID("acc_")

// service fakes the identity service: its key set, its audit log and its
// change feed.
type service struct {
	*httptest.Server
	mu           sync.Mutex
	keys         []map[string]any
	keysBody     string // when set, the key set's body as is
	cacheControl string
	failKeys     bool
	keyFetches   int
	events       []fakeEvent // in the feed's order
	failEvents   bool
	gone         map[string]bool // feed positions that expired
	heads        int             // reads of the newest event
	// superadmin makes the API key a superadmin's: it may name any account,
	// and lists them all. A regular key naming another account is 403.
	superadmin bool
}

func newService(t *testing.T) *service {
	s := &service{cacheControl: "public, max-age=300", gone: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *service) publish(keys ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *service) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyFetches
}

func (s *service) set(f func(s *service)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// record appends an event of type typ about subject (data: a merge's)
// that occurred at at.
func (s *service) record(typ, subject string, at time.Time, data map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fakeEvent{ID: newID("evt_"), Type: typ, Subject: subject, At: at, Data: data, pos: len(s.events)})
}

// recordLate appends an event the audit log shows but the feed never
// serves after any position: on PostgreSQL, an event of a transaction that
// began before the feed's position and committed after it was taken.
func (s *service) recordLate(typ, subject string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fakeEvent{ID: newID("evt_"), Type: typ, Subject: subject, At: at, pos: -1})
}

func (s *service) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	if r.URL.Path == "/.well-known/jwks.json" {
		s.keyFetches++
		if s.failKeys {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		body := s.keysBody
		if body == "" {
			b, _ := json.Marshal(map[string]any{"keys": s.keys})
			body = string(b)
		}
		if s.cacheControl != "" {
			w.Header().Set("Cache-Control", s.cacheControl)
		}
		_, _ = w.Write([]byte(body))
		return
	}
	if r.Header.Get("leadr-api-key") != apiKey {
		http.Error(w, `{"detail":"Invalid or expired API key"}`, http.StatusUnauthorized)
		return
	}
	if acc := q.Get("account_id"); acc != "" && acc != accountID && !s.superadmin {
		http.Error(w, `{"detail":"Access denied to the specified account"}`, http.StatusForbidden)
		return
	}
	if r.URL.Path == "/v1/accounts" {
		accounts := []map[string]any{{"id": accountID}}
		if s.superadmin {
			accounts = append(accounts, map[string]any{"id": newID("acc_")})
		}
		writeJSON(w, map[string]any{"data": accounts, "pagination": map[string]any{"next_cursor": nil, "has_next": false, "count": len(accounts)}})
		return
	}
	if s.failEvents {
		http.Error(w, `{"detail":"Service temporarily unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	var matching []fakeEvent
	for _, e := range s.events {
		typ := q.Get("type")
		if prefix, ok := strings.CutSuffix(typ, "*"); typ == "" || e.Type == typ || ok && strings.HasPrefix(e.Type, prefix) {
			matching = append(matching, e)
		}
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	switch r.URL.Path {
	case "/v1/events": // newest first; the cursor is an offset
		if limit == 1 && q.Get("type") == "" {
			s.heads++
		}
		slices.Reverse(matching)
		from, _ := strconv.Atoi(q.Get("cursor"))
		to := min(from+limit, len(matching))
		var next *string
		if to < len(matching) {
			n := strconv.Itoa(to)
			next = &n
		}
		writeJSON(w, map[string]any{"data": matching[from:to],
			"pagination": map[string]any{"next_cursor": next, "has_next": next != nil, "count": to - from}})
	case "/v1/events/feed":
		after := q.Get("after")
		if s.gone[after] {
			http.Error(w, `{"detail":"Event feed position expired"}`, http.StatusGone)
			return
		}
		at := -1
		if after != "" {
			if at = slices.IndexFunc(s.events, func(e fakeEvent) bool { return e.ID == after }); at < 0 {
				http.Error(w, `{"detail":"Event not found"}`, http.StatusNotFound)
				return
			}
		}
		page := []fakeEvent{}
		for _, e := range matching {
			if e.pos > at && len(page) < limit {
				page = append(page, e)
			}
		}
		var next *string
		if len(page) > 0 {
			next = &page[len(page)-1].ID
		} else if after != "" {
			next = &after
		}
		writeJSON(w, map[string]any{"data": page, "next_after": next})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// env is a verifier of tokens that the fake service's key "k1" signs.
type env struct {
	t     *testing.T
	svc   *service
	clock *clock
	key   *ecdsa.PrivateKey
	v     *Verifier
	errs  chan error
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	e := &env{t: t, svc: newService(t), clock: &clock{t: start}, key: newKey(t), errs: make(chan error, 1000)}
	e.svc.publish(publicJWK("k1", e.key))
	v, err := New(Config{BaseURL: e.svc.URL, Now: e.clock.Now, OnError: func(err error) {
		select {
		case e.errs <- err:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.v = v
	return e
}

// claims are a token's claims, issued now for 15 minutes.
func (e *env) claims() map[string]any {
	now := e.clock.Now()
	return map[string]any{"iss": "leadr", "aud": "leadr", "sub": newID("ide_"), "sid": newID("ses_"),
		"ply": newID("ply_"), "acc": accountID, "gam": newID("gam_"),
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
}

func header(kid string) map[string]any {
	return map[string]any{"alg": "ES256", "kid": kid, "typ": "JWT"}
}

// token is a token signed by k1, of the claims edited by edit.
func (e *env) token(edit func(c map[string]any)) string {
	c := e.claims()
	if edit != nil {
		edit(c)
	}
	return signES256(e.key, header("k1"), c)
}

// follow follows the fake feed, polling every millisecond, until the test
// ends, and waits for its start-up read.
func (e *env) follow(cfg FeedConfig) {
	e.t.Helper()
	cfg.APIKey, cfg.AccountID, cfg.PollInterval = apiKey, accountID, time.Millisecond
	if err := e.v.FollowFeed(e.t.Context(), cfg); err != nil {
		e.t.Fatal(err)
	}
	eventually(e.t, "the feed is read", func() bool { return !e.v.Status().FeedRead.IsZero() })
}

// eventually waits until ok, for at most 10 s.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain until %s", what)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// heard is the next error OnError heard.
func (e *env) heard() error {
	e.t.Helper()
	select {
	case err := <-e.errs:
		return err
	case <-time.After(10 * time.Second):
		e.t.Fatal("OnError heard nothing")
		return nil
	}
}
