package acceptance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
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
)

// The requests of TestMalformedRequests come from this seed, so that a
// failure can be replayed: go test -run TestMalformedRequests -args
// -robustness.seed=N. (IDs of the test's own data differ from run to run;
// which request is sent where does not.)
var robustnessSeed = flag.Uint64("robustness.seed", 11, "seed of the requests TestMalformedRequests sends")

const (
	malformedRequests = 3200
	senders           = 4
	// An error answer stays small whatever the request: a 422 echoes its
	// input cut to maxInputDepth levels and about 1 KiB, all problems
	// together; in JSON, with brackets and escapes, at most twice that.
	maxErrorBody  = 16 << 10
	maxInputDepth = 32
	maxInputJSON  = 2 << 10
	// Request headers over 64 KiB are refused with 431; the requests that
	// test it send clearly more, and the others clearly less, so that the
	// test does not depend on whether the request line counts.
	headerLimit = 64 << 10
	bodyLimit   = 1 << 20
	// Client endpoints take bodies of 16 KiB at most.
	clientBodyLimit = 16 << 10
)

// Details the contract words.
const (
	notFound         = "Not Found"
	methodNotAllowed = "Method Not Allowed"
	bodyTooLarge     = "Request body too large"
	headersTooLarge  = "Request Header Fields Too Large"
	keyRequired      = "API key required"
	keyRefused       = "Invalid or expired API key"
)

// TestMalformedRequests sends thousands of malformed requests to every
// route of the OpenAPI document, admin and client, over raw connections:
// bad JSON and UTF-8, wrong types, huge and deep bodies, path tricks, bad
// IDs, cursors and sorts, hostile headers, wrong methods. Every answer must
// be a 4xx in the contract's shape, small, and no request may write: the
// state read through the API is the same afterwards. Some requests only
// look malformed (unknown parameters, upper-case hex IDs, a junk request
// ID on a valid read): those must succeed.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	f := newTarget(t, svc)
	g := &generator{rng: rand.New(rand.NewPCG(*robustnessSeed, 0)), f: f}
	routes := documentedRoutes(t, g)
	before := f.snapshot(t)

	probes := make([]probe, malformedRequests)
	for i := range probes {
		probes[i] = g.probe(routes[i%len(routes)])
	}
	failures := map[string][]int{} // by kind, the probes that failed
	whys := make([]string, len(probes))
	counts := map[string]int{}
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range work {
				p := probes[i]
				a, err := send(f.host, p)
				var why []string
				if err != nil {
					why = []string{"no answer: " + err.Error()}
				} else {
					why = p.check(a)
				}
				mu.Lock()
				counts[p.kind]++
				if len(why) > 0 {
					failures[p.kind] = append(failures[p.kind], i)
					whys[i] = fmt.Sprintf("#%d %s\n    → %s\n    %s", i, p, a, strings.Join(why, "; "))
				}
				mu.Unlock()
			}
		})
	}
	for i := range probes {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, kind := range slices.Sorted(maps.Keys(failures)) {
		fs := failures[kind]
		slices.Sort(fs)
		var first []string
		for _, i := range fs[:min(2, len(fs))] {
			first = append(first, whys[i])
		}
		t.Errorf("%s: %d of %d requests failed (seed %d); the first:\n  %s", kind, len(fs), counts[kind], *robustnessSeed, strings.Join(first, "\n  "))
	}

	if after := f.snapshot(t); !maps.Equal(before, after) {
		for list, b := range before {
			if after[list] != b {
				t.Errorf("a malformed request wrote: %s was\n%s\nand is now\n%s", list, b, after[list])
			}
		}
	}
	a, err := send(f.host, probe{method: "GET", target: "/v1/client/me", header: [][2]string{{"Authorization", "Bearer " + f.token}}})
	if err != nil || a.status != http.StatusOK || !bytes.Contains(a.body, []byte(f.identityID)) {
		t.Errorf("the service no longer answers a valid request: GET /v1/client/me → %s %v", a, err)
	}
}

// target is the service under test and the valid values that requests to
// it are made of.
type target struct {
	host                       string
	adminKey, tenantKey, token string
	identityID                 string
	params                     map[string]string // a path parameter's name → a valid value
	prefixes                   map[string]string // a parameter naming an ID → its prefix
	bodies                     map[string][]map[string]any
	documentedPaths            []string
}

func newTarget(t *testing.T, svc *harness.Service) *target {
	t.Helper()
	ten := harness.NewTenant(t, svc)
	var ids []client.Identity
	for i := range 3 {
		ids = append(ids, harness.NewIdentity(t, ten.Client, client.CreateIdentityRequest{GameID: ten.Game.ID,
			Kind: client.KindDevice, ExternalKey: fmt.Sprintf("device-robust-%04d", i), DisplayName: ptr("Player")}))
	}
	s, err := ten.Client.CreateIdentitySession(t.Context(), client.CreateIdentitySessionRequest{IdentityID: ids[0].ID})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	hook, err := ten.Client.CreateWebhook(t.Context(), client.CreateWebhookRequest{URL: "https://93.184.216.34/robust", EventTypes: []string{"game.*"}})
	if err != nil {
		t.Fatalf("create a webhook: %v", err)
	}
	events, err := ten.Client.ListEvents(t.Context(), client.ListEventsParams{Limit: 1})
	if err != nil || len(events.Data) == 0 {
		t.Fatalf("read an event: %v", err)
	}
	// The player of identity_id, banned: its ban is ban_id, and a valid ban
	// or link sent to it is refused (409, 403) rather than made.
	player := ids[1].PlayerID
	ban := harness.Over(t, ten.Client).Do("POST", "/v1/players/"+player+"/bans", map[string]any{"reason": "Robustness"}).Want(http.StatusCreated)
	u, _ := url.Parse(svc.URL)
	slug := "robust-" + harness.Unique()
	return &target{
		host: u.Host, adminKey: svc.SuperadminKey, tenantKey: ten.Key.Key, token: s.AccessToken, identityID: ids[0].ID,
		params: map[string]string{"identity_id": ids[1].ID, "game_id": ten.Game.ID, "session_id": s.SessionID,
			"account_id": ten.Account.ID, "user_id": ten.User.ID, "key_id": ten.Key.ID, "asset": "init.js", "webhook_id": hook.ID,
			"player_id": player, "ban_id": ban.Str("id")},
		prefixes: map[string]string{"identity_id": "ide", "game_id": "gam", "session_id": "ses", "account_id": "acc",
			"user_id": "usr", "key_id": "key", "after": "evt", "webhook_id": "whk", "player_id": "ply", "ban_id": "ban"},
		// Requests that would write if they were not malformed: every
		// malformed variant of them must leave the state as it is.
		bodies: map[string][]map[string]any{
			"POST /v1/identities": {{"account_id": ten.Account.ID, "game_id": ten.Game.ID, "kind": "DEVICE",
				"external_key": "device-robust-new", "display_name": "New player"}},
			"PATCH /v1/identities/{identity_id}": {{"display_name": "Renamed", "deleted": true}},
			"POST /v1/games": {{"account_id": ten.Account.ID, "name": "Robust game", "slug": slug, "steam_app_id": "480",
				"steam_web_api_key": strings.Repeat("ab", 16), "device_sign_in": false}},
			"PATCH /v1/games/{game_id}": {{"name": "Renamed game", "steam_app_id": "481",
				"steam_web_api_key": strings.Repeat("cd", 16), "device_sign_in": false, "deleted": true}},
			"POST /v1/accounts": {{"name": "Robust account", "slug": slug}},
			"POST /v1/users": {{"account_id": ten.Account.ID, "email": slug + "@example.com", "display_name": "Robust user",
				"super_admin": false}},
			"POST /v1/api-keys": {{"account_id": ten.Account.ID, "user_id": ten.User.ID, "name": "robust key",
				"expires_at": "2030-01-01T00:00:00Z", "rate_limit": "50/s"}},
			"PATCH /v1/api-keys/{key_id}": {{"status": "revoked", "rate_limit": "off"}},
			"POST /v1/webhooks": {{"account_id": ten.Account.ID, "url": "https://93.184.216.34/new", "event_types": []string{"identity.*"},
				"description": "Robust hook"}},
			"PATCH /v1/webhooks/{webhook_id}": {{"url": "https://93.184.216.34/other", "event_types": []string{"player.*"},
				"description": "Renamed hook", "status": "disabled"}},
			"POST /v1/webhooks/{webhook_id}/replay": {{"event_id": events.Data[0].ID}, {"since": "2026-01-01T00:00:00Z"}},
			"POST /v1/identity-sessions":            {{"identity_id": ids[2].ID}},
			"PATCH /v1/client/me":                   {{"display_name": "Renamed by client"}},
			"POST /v1/client/sessions/refresh":      {{"refresh_token": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}},
			// A DEVICE sign-in reads no steam_ticket and a STEAM one no
			// external_key: each field is made wrong where it is read. The
			// game has no Steam configuration, so the STEAM one is a 400.
			"POST /v1/client/sessions": {
				{"game_id": ten.Game.ID, "kind": "DEVICE", "external_key": "device-robust-signin", "display_name": "Client"},
				{"game_id": ten.Game.ID, "kind": "STEAM", "steam_ticket": "abcd", "display_name": "Client"},
			},
			// The player is banned: a valid ban is a 409, a valid link a 403.
			"POST /v1/players/{player_id}/identities":     {{"identity_id": ids[2].ID, "merge": true}},
			"POST /v1/players/{player_id}/bans":           {{"reason": "Robust ban", "expires_at": "2030-01-01T00:00:00Z"}},
			"PATCH /v1/players/{player_id}/bans/{ban_id}": {{"expires_at": "2030-01-01T00:00:00Z", "lifted": true}},
			// As for a sign-in, each field is made wrong where it is read.
			"POST /v1/client/me/identities": {
				{"kind": "DEVICE", "external_key": "device-robust-link", "merge": true},
				{"kind": "STEAM", "steam_ticket": "abcd", "merge": false},
			},
		},
	}
}

// snapshot reads every list the superadmin sees.
func (f *target) snapshot(t *testing.T) map[string]string {
	t.Helper()
	lists := map[string]string{}
	for _, path := range []string{"/v1/accounts", "/v1/users", "/v1/api-keys", "/v1/games", "/v1/identities", "/v1/identity-sessions", "/v1/webhooks",
		"/v1/players", "/v1/players?deleted=true", "/v1/players/" + f.params["player_id"] + "/bans"} {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		a, err := send(f.host, probe{method: "GET", target: path + sep + "limit=100", header: [][2]string{{"leadr-api-key", f.adminKey}}})
		if err != nil || a.status != http.StatusOK {
			t.Fatalf("GET %s: %s %v", path, a, err)
		}
		lists[path] = string(a.body)
	}
	return lists
}

// route is one operation of the OpenAPI document.
type route struct {
	method, path string
	auth         string   // "key", "bearer" or "" (none)
	methods      []string // every method of the path
	query        []string
	nonce        bool                // takes the leadr-client-nonce header
	fields       map[string][]string // body field → its JSON types; nil: no body
	required     []string
}

// documentedRoutes reads the routes from the service's OpenAPI document.
// A route whose body or path parameters the test has no valid values for
// fails the test: it would not be exercised.
func documentedRoutes(t *testing.T, g *generator) []route {
	t.Helper()
	f := g.f
	a, err := send(f.host, probe{method: "GET", target: "/openapi.json"})
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %s %v", a, err)
	}
	type schema struct {
		Ref        string `json:"$ref"`
		Required   []string
		Properties map[string]struct {
			Type json.RawMessage
		}
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct{ Schemas map[string]schema }
	}
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatal(err)
	}
	var routes []route
	for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
		f.documentedPaths = append(f.documentedPaths, path)
		// A path's other keys (its parameters, a summary) are no methods.
		ops := maps.Clone(doc.Paths[path])
		maps.DeleteFunc(ops, func(k string, _ json.RawMessage) bool {
			return !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, k)
		})
		var methods []string
		for m := range ops {
			methods = append(methods, strings.ToUpper(m))
		}
		for _, m := range slices.Sorted(maps.Keys(ops)) {
			var op struct {
				Parameters []struct{ Name, In string }
				Security   []map[string]any
				// Only application/json bodies are documented.
				RequestBody *struct {
					Content map[string]struct{ Schema schema }
				}
			}
			if err := json.Unmarshal(ops[m], &op); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			r := route{method: strings.ToUpper(m), path: path, methods: methods}
			for _, s := range op.Security {
				switch {
				case s["APIKeyHeader"] != nil:
					r.auth = "key"
				case s["bearerAuth"] != nil:
					r.auth = "bearer"
				}
			}
			for _, p := range op.Parameters {
				switch p.In {
				case "query":
					r.query = append(r.query, p.Name)
					if _, ok := g.badQueryValue(p.Name); !ok && !slices.Contains(anyString, p.Name) {
						t.Fatalf("%s %s: no malformed value for the query parameter %s", r.method, path, p.Name)
					}
				case "header":
					r.nonce = r.nonce || p.Name == client.NonceHeader
				case "path":
					if _, ok := f.params[p.Name]; !ok {
						t.Fatalf("%s %s: no valid value for the path parameter %s", r.method, path, p.Name)
					}
				}
			}
			if op.RequestBody != nil {
				s := op.RequestBody.Content["application/json"].Schema
				s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
				r.fields, r.required = map[string][]string{}, s.Required
				for name, p := range s.Properties {
					var types []string
					if json.Unmarshal(p.Type, &types) != nil {
						var one string
						_ = json.Unmarshal(p.Type, &one)
						types = []string{one}
					}
					if !slices.Contains(types, "string") && !slices.Contains(types, "boolean") && !slices.Contains(types, "array") {
						t.Fatalf("%s %s: no wrong value for the field %s of type %v", r.method, path, name, types)
					}
					r.fields[name] = types
				}
				covered := map[string]bool{}
				for _, b := range f.bodies[r.method+" "+path] {
					for k := range b {
						covered[k] = true
					}
				}
				for name := range r.fields {
					if !covered[name] {
						t.Fatalf("%s %s: no valid body sets the field %s", r.method, path, name)
					}
				}
			}
			routes = append(routes, r)
		}
	}
	return routes
}

// probe is a request and what its answer must be.
type probe struct {
	kind           string // what is wrong with it; failures are grouped by it
	method, target string
	header         [][2]string
	body           []byte
	chunked        bool
	want           int // the status; 0: any 4xx
	details        []string
	bearer         bool // a 401 must ask for a bearer token
	valid          bool // it only looks malformed: 200
}

// String describes the request without the secrets it carries.
func (p probe) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s %s", p.kind, p.method, cut(p.target, 200))
	for _, h := range p.header {
		switch strings.ToLower(h[0]) {
		case "leadr-api-key", "authorization", "leadr-client-nonce":
			fmt.Fprintf(&b, " | %s: [redacted, %d bytes]", h[0], len(h[1]))
		default:
			fmt.Fprintf(&b, " | %s: %s", h[0], cut(h[1], 80))
		}
	}
	if p.body != nil {
		fmt.Fprintf(&b, " | body (%d bytes, chunked %v): %s", len(p.body), p.chunked, cut(string(p.body), 160))
	}
	return b.String()
}

func cut(s string, n int) string {
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:n], len(s))
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s %s", a.status, a.header.Get("Content-Type"), cut(string(a.body), 300))
}

var wellFormedRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// check returns what is wrong with the answer.
func (p probe) check(a answer) []string {
	var why []string
	if p.valid {
		if a.status != http.StatusOK {
			why = append(why, "a valid request was refused")
		}
		return why
	}
	switch {
	case a.status >= 500:
		why = append(why, "server error")
	case p.want != 0 && a.status != p.want:
		why = append(why, fmt.Sprintf("status %d, want %d", a.status, p.want))
	case a.status < 400:
		why = append(why, "a malformed request succeeded")
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		why = append(why, "Content-Type "+ct)
	}
	if len(a.body) > maxErrorBody {
		why = append(why, fmt.Sprintf("error body of %d bytes", len(a.body)))
	}
	if rid := a.header.Get("X-Request-ID"); rid != "" && !wellFormedRequestID.MatchString(rid) {
		why = append(why, "X-Request-ID echoed though malformed")
	}
	if p.bearer && a.status == http.StatusUnauthorized && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		why = append(why, "401 without WWW-Authenticate: Bearer")
	}
	var body map[string]any
	if err := json.Unmarshal(a.body, &body); err != nil || len(body) != 1 && !tellsItsFact(body) {
		return append(why, `body is not {"detail": …}`)
	}
	if a.status != http.StatusUnprocessableEntity {
		if d, ok := body["detail"].(string); !ok || d == "" || len(p.details) > 0 && !slices.Contains(p.details, d) {
			why = append(why, fmt.Sprintf("detail %v, want one of %q", body["detail"], p.details))
		}
		return why
	}
	list, ok := body["detail"].([]any)
	if !ok || len(list) == 0 {
		return append(why, "422 without a list of problems")
	}
	inputs := 0
	for _, e := range list {
		pr, _ := e.(map[string]any)
		in, _ := json.Marshal(pr["input"])
		inputs += len(in)
		loc, _ := pr["loc"].([]any)
		_, typed := pr["type"].(string)
		_, msg := pr["msg"].(string)
		_, input := pr["input"]
		if !typed || !msg || !input || len(loc) == 0 || !slices.Contains([]any{"path", "query", "header", "body"}, loc[0]) {
			why = append(why, "a problem not in FastAPI's shape")
		}
		if d := depth(pr["input"]); d > maxInputDepth {
			why = append(why, fmt.Sprintf("a problem's input is %d levels deep", d))
		}
	}
	if inputs > maxInputJSON {
		why = append(why, fmt.Sprintf("the problems echo %d bytes of input", inputs))
	}
	return why
}

// facts are the errors that tell one fact beside their detail (contract
// section 11), and its member.
var facts = map[string]string{"Player is banned": "expires_at", "Identity belongs to another player": "player_id"}

func tellsItsFact(body map[string]any) bool {
	detail, _ := body["detail"].(string)
	_, told := body[facts[detail]]
	return len(body) == 2 && facts[detail] != "" && told
}

func depth(v any) int {
	var d int
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			d = max(d, depth(e))
		}
	case map[string]any:
		for _, e := range v {
			d = max(d, depth(e))
		}
	default:
		return 0
	}
	return d + 1
}

// send writes the request on a connection of its own, as it is (net/http
// would refuse or rewrite some of them), and reads the answer. The body is
// written while the answer is read: the server may answer before it has
// read it all.
func send(host string, p probe) (answer, error) {
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	// A generous bound: a request that gets no answer by then hangs.
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", p.method, p.target, host)
	for _, h := range p.header {
		fmt.Fprintf(&head, "%s: %s\r\n", h[0], h[1])
	}
	switch {
	case p.chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n")
	case p.body != nil:
		fmt.Fprintf(&head, "Content-Length: %d\r\n", len(p.body))
	}
	head.WriteString("\r\n")
	go func() {
		w := bufio.NewWriter(conn)
		_, _ = w.Write(head.Bytes())
		if !p.chunked {
			_, _ = w.Write(p.body)
			_ = w.Flush()
			return
		}
		for b := p.body; len(b) > 0; {
			n := min(len(b), 32<<10)
			fmt.Fprintf(w, "%x\r\n%s\r\n", n, b[:n])
			b = b[n:]
		}
		_, _ = w.WriteString("0\r\n\r\n")
		_ = w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: p.method})
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, err
}

// generator makes probes, all from one seeded source.
type generator struct {
	rng *rand.Rand
	f   *target
}

func pick[T any](g *generator, vs ...T) T { return vs[g.rng.IntN(len(vs))] }

// junk is n printable ASCII characters that are not JSON's or a URL's
// special ones.
func (g *generator) junk(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// id is a well-formed ID of no resource.
func (g *generator) id(prefix string) string {
	h := fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64())
	return prefix + "_" + h[0:8] + "-" + h[8:12] + "-7" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// badID is a value that is not a well-formed ID with that prefix.
func (g *generator) badID(prefix, valid string) string {
	other := pick(g, "ide", "gam", "ses", "acc", "usr", "key")
	if other == prefix {
		other = "zzz"
	}
	return pick(g,
		g.id(other), strings.TrimPrefix(g.id(prefix), prefix+"_"), prefix+"_"+g.junk(8), prefix+"_", "..", ".",
		"\x00", valid+"\x00", valid[:len(valid)-1], valid+"0", valid+" ", strings.Repeat("a", 10_000), prefix+"_ü",
		prefix+"_"+strings.Repeat("0", 36))
}

// base is a valid request to r.
func (g *generator) base(r route) probe {
	path := r.path
	for name, v := range g.f.params {
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	p := probe{method: r.method, target: path, header: g.auth(r), bearer: r.auth == "bearer"}
	if r.fields != nil {
		p.body, _ = json.Marshal(pick(g, g.f.bodies[r.method+" "+r.path]...))
		p.header = append(p.header, [2]string{"Content-Type", "application/json"})
	}
	return p
}

func (g *generator) auth(r route) [][2]string {
	switch r.auth {
	case "key":
		return [][2]string{{"leadr-api-key", pick(g, g.f.adminKey, g.f.tenantKey)}}
	case "bearer":
		return [][2]string{{"Authorization", "Bearer " + g.f.token}}
	}
	return nil
}

// probe makes a request to r that is wrong in one way, chosen at random
// among those r can be wrong in, with noise that changes nothing.
func (g *generator) probe(r route) probe {
	ways := []func(route) probe{g.wrongMethod, g.unknownPath, g.hugeHeaders}
	if r.auth != "" {
		ways = append(ways, g.badAuth)
	}
	if strings.Contains(r.path, "{") {
		ways = append(ways, g.badPathID)
	}
	if len(g.badQueryParams(r)) > 0 {
		ways = append(ways, g.badQuery)
	}
	if r.fields != nil {
		ways = append(ways, g.badSyntax, g.badType, g.badString, g.badShape, g.badContentType, g.tooLarge)
	}
	// Reads that look malformed but are not; not the nonce, which is made
	// for each read.
	if r.method == "GET" && r.path != "/v1/client/nonce" {
		ways = append(ways, g.oddButValid)
	}
	p := pick(g, ways...)(r)
	if p.want == http.StatusUnprocessableEntity && strings.HasPrefix(r.path, "/v1/client/") && len(p.body) > clientBodyLimit {
		// Too large for a client endpoint before it is anything else.
		p.kind, p.want, p.details = p.kind+", over 16 KiB", http.StatusRequestEntityTooLarge, []string{bodyTooLarge}
	}
	if g.rng.IntN(2) == 0 {
		p.header = append(p.header, [2]string{"X-Request-ID", pick(g, "", "a b", strings.Repeat("r", 200), "\xff\xfe",
			"<script>", "../../etc/passwd", "id\tx", g.junk(20)+"ü")})
	}
	if g.rng.IntN(3) == 0 {
		p.header = append(p.header, [2]string{"X-Junk-" + g.junk(4), g.junk(g.rng.IntN(8 << 10))})
	}
	if g.rng.IntN(3) == 0 {
		sep := "?"
		if strings.Contains(p.target, "?") {
			sep = "&"
		}
		p.target += sep + pick(g, "x_unknown=1", "callback=alert(1)", "__proto__=x", "limit%5B%5D=5", "debug=true&debug=false")
	}
	return p
}

func (g *generator) wrongMethod(r route) probe {
	p := g.base(r)
	var others []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "get", "FOO"} {
		if !slices.Contains(r.methods, m) {
			others = append(others, m)
		}
	}
	p.kind, p.method, p.want, p.details = "wrong method", pick(g, others...), http.StatusMethodNotAllowed, []string{methodNotAllowed}
	return p
}

// unknownPath bends r's path into one no route has (404), or into one
// whose parameter is not a valid value (some 4xx).
func (g *generator) unknownPath(r route) probe {
	p := g.base(r)
	segs := strings.Split(p.target, "/")
	i := 1 + g.rng.IntN(len(segs)-1)
	switch g.rng.IntN(6) {
	case 0:
		segs = append(segs, "")
	case 1:
		segs[i] = "/" + segs[i]
	case 2:
		segs[i] = strings.ToUpper(segs[i])
	case 3:
		segs[i] += pick(g, ";x", "%20", "%00", "%2F", "%2e", ".json", "#x")
	case 4:
		segs = slices.Insert(segs, i, pick(g, "..", ".", "%2e%2e", "%2E", "%00", "x%2F..", strings.Repeat("s", 10_000)))
	default:
		segs = append(segs, pick(g, "..", "%2e%2e", "x", "%2F", strings.Repeat("s", 10_000)))
	}
	p.target = strings.Join(segs, "/")
	p.kind, p.want, p.details = "unknown path", http.StatusNotFound, []string{notFound}
	// The router sees the path unescaped, and a request's target has no
	// fragment: "#" is part of the path.
	path, _ := url.PathUnescape(p.target)
	for _, d := range g.f.documentedPaths {
		if matches(d, path) {
			p.kind, p.want, p.details = "path: bad parameter", 0, nil
		}
	}
	return p
}

// matches reports whether path is one of template's, as the router sees
// it: a parameter is any segment but an empty one.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if ts[i] != ps[i] && !(strings.HasPrefix(ts[i], "{") && ps[i] != "") {
			return false
		}
	}
	return true
}

// hugeHeaders sends more than 64 KiB of headers: 431 before anything else.
// Without it, a request that changes something would still be refused.
func (g *generator) hugeHeaders(r route) probe {
	p := g.base(r)
	if r.method != "GET" && r.auth != "" {
		p.header = [][2]string{{"leadr-api-key", g.junk(40)}, {"Authorization", "Bearer " + g.junk(40)}}
	}
	if r.fields != nil {
		p.body = []byte("{")
	}
	size := headerLimit + 8<<10 + g.rng.IntN(8<<10)
	switch g.rng.IntN(3) {
	case 0:
		p.header = append(p.header, [2]string{"X-Padding", g.junk(size)})
	case 1:
		for i := 0; i < size; i += 1 << 10 {
			p.header = append(p.header, [2]string{fmt.Sprintf("X-Padding-%d", i), g.junk(1 << 10)})
		}
	default:
		p.header = append(p.header, [2]string{"Cookie", strings.Repeat("c="+g.junk(98)+"; ", size/102)})
	}
	p.kind, p.want, p.details = "headers over 64 KiB", http.StatusRequestHeaderFieldsTooLarge, []string{headersTooLarge}
	return p
}

func (g *generator) badAuth(r route) probe {
	p := g.base(r)
	p.kind, p.want, p.header = "auth: "+r.auth, http.StatusUnauthorized, slices.DeleteFunc(p.header, func(h [2]string) bool {
		return h[0] != "Content-Type"
	})
	if r.auth == "key" {
		wellFormed := "ldr_" + g.junk(43)
		switch g.rng.IntN(4) {
		case 0:
			p.details = []string{keyRequired}
			if g.rng.IntN(2) == 0 {
				p.header = append(p.header, [2]string{"Authorization", "Bearer " + g.f.token})
			}
		case 1:
			p.header = append(p.header, [2]string{"leadr-api-key", wellFormed}, [2]string{"leadr-api-key", "ldr_" + g.junk(43)})
		default:
			p.details = []string{keyRefused}
			p.header = append(p.header, [2]string{"leadr-api-key", pick(g, "x", "ldr_", wellFormed, wellFormed[:46],
				wellFormed+"A", g.f.tenantKey[:len(g.f.tenantKey)-1]+flip(g.f.tenantKey), strings.ToUpper(g.f.tenantKey),
				"ldr_"+strings.Repeat("\xff", 43), "Bearer "+g.f.token, g.f.token, "ldr_"+g.junk(24<<10))})
		}
		return p
	}
	p.details = []string{accessRequired, accessRefused}
	switch g.rng.IntN(4) {
	case 0:
		p.details = []string{accessRequired}
		if g.rng.IntN(2) == 0 {
			p.header = append(p.header, [2]string{"leadr-api-key", g.f.tenantKey})
		}
	case 1:
		p.header = append(p.header, [2]string{"Authorization", "Bearer " + g.junk(40)}, [2]string{"Authorization", "Bearer " + g.junk(40)})
	default:
		head, payload, _ := strings.Cut(g.f.token, ".")
		payload, _, _ = strings.Cut(payload, ".")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + "."
		p.header = append(p.header, [2]string{"Authorization", pick(g, "Bearer", "Bearer ", "Bearer "+g.junk(30),
			"Basic dXNlcjpwYXNz", "Token "+g.f.token, "Bearer "+g.f.token[:len(g.f.token)-1]+flip(g.f.token),
			"Bearer "+none, "Bearer "+head+".."+"x", "Bearer "+g.f.tenantKey, "Bearer a.b.c", "Bearer "+g.f.token+"x",
			"Bearer "+g.junk(24<<10), "Bearer \xff\xfe")})
	}
	return p
}

// flip is a last character that differs from s's.
func flip(s string) string {
	if s[len(s)-1] == 'A' {
		return "B"
	}
	return "A"
}

func (g *generator) badPathID(r route) probe {
	p := g.base(r)
	var names []string
	for name := range g.f.params {
		if strings.Contains(r.path, "{"+name+"}") {
			names = append(names, name)
		}
	}
	name := pick(g, slices.Sorted(slices.Values(names))...)
	bad := url.PathEscape(g.badID(g.f.prefixes[name], g.f.params[name]))
	switch g.rng.IntN(5) {
	case 0:
		bad = pick(g, "%2e%2e", "%2E", "x%2Fy", g.f.params[name]+"%2F")
	case 1:
		bad = g.id(g.f.prefixes[name]) // of no resource: 404
	}
	p.target = strings.Replace(r.path, "{"+name+"}", bad, 1)
	for other, v := range g.f.params {
		p.target = strings.ReplaceAll(p.target, "{"+other+"}", v)
	}
	p.kind = "path: bad parameter"
	return p
}

// anyString are the query parameters that no value makes malformed: filters
// that match nothing.
var anyString = []string{"slug", "external_key"}

// badQueryValue is a malformed value of the query parameter name, or ""
// and false when the test knows of none.
func (g *generator) badQueryValue(name string) (string, bool) {
	switch name {
	case "limit":
		return pick(g, "0", "1001", "-1", "abc", "1.5", "", "99999999999999999999", "0x10", "1e2", "\x00", strings.Repeat("9", 10_000)), true
	case "cursor":
		return pick(g, "junk", "%%%", "eyJhbGciOiJub25lIn0", g.junk(40), "\x00", strings.Repeat("A", 10_000)), true
	case "sort":
		return pick(g, "foo:asc", "id", "id:up", "id:asc,id:asc", ",", "id:asc,", "created_at:desc,,id:asc", ":asc", "id:",
			"\x00", strings.Repeat("id:asc,", 1_000)), true
	case "kind":
		return pick(g, "device", "X", "DEVICE,STEAM", "DEVICE ", "\x00", strings.Repeat("K", 10_000)), true
	case "type":
		return pick(g, "identity", "Identity.created", "identity.", ".*", "identity.**", "*", "identity.created\x00", strings.Repeat("t", 10_000)), true
	case "subject_id", "actor_id":
		return pick(g, "", "ide_", "ide_"+strings.Repeat("0", 36), "ide_x\x00", strings.Repeat("i", 10_000)), true
	case "banned", "deleted", "erase":
		return pick(g, "maybe", "2", "-1", "tru", "truee", "yes please", "\x00", strings.Repeat("t", 10_000)), true
	}
	if prefix := g.f.prefixes[name]; prefix != "" {
		return g.badID(prefix, g.id(prefix)), true
	}
	return "", false
}

// badQueryParams are r's query parameters that have malformed values.
func (g *generator) badQueryParams(r route) []string {
	return slices.DeleteFunc(slices.Clone(r.query), func(name string) bool { return slices.Contains(anyString, name) })
}

func (g *generator) badQuery(r route) probe {
	p := g.base(r)
	name := pick(g, g.badQueryParams(r)...)
	var q []string
	for range 1 + g.rng.IntN(3) {
		v, _ := g.badQueryValue(name)
		q = append(q, url.QueryEscape(name)+"="+url.QueryEscape(v))
	}
	p.target += "?" + strings.Join(q, "&")
	p.kind = "query: " + name
	return p
}

// The body problems: each request carries a valid API key or token, so
// that what is wrong with it is its body.

func (g *generator) nonce(r route, p *probe) {
	if r.nonce && g.rng.IntN(2) == 0 {
		p.header = append(p.header, [2]string{client.NonceHeader, pick(g, g.junk(40), "", g.junk(8<<10))})
	}
}

func (g *generator) badSyntax(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	valid := string(p.body)
	p.kind, p.want = "body: not JSON", http.StatusUnprocessableEntity
	p.body = []byte(pick(g, "{", `{"a":}`, "[1,", valid+"}", valid+" "+valid, "{'a':1}", "nul", "tru", `{"a":1,}`,
		`{"a":NaN}`, valid[:len(valid)/2], g.junk(100), "\x00", valid+"x", `{"a":"\x01"}`))
	if g.rng.IntN(3) == 0 {
		// Invalid UTF-8 in a string of an otherwise valid body.
		i := strings.Index(valid, `":"`) + 3
		p.kind, p.body = "body: invalid UTF-8", []byte(valid[:i]+pick(g, "\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf")+valid[i:])
	}
	return p
}

// wrongValue is a value of none of the types.
func (g *generator) wrongValue(types []string, required bool) any {
	var vs []any
	if slices.Contains(types, "string") {
		vs = append(vs, 1, 1.5, true, false, []any{}, map[string]any{}, []any{"x"}, map[string]any{"a": "b"})
	}
	if slices.Contains(types, "boolean") {
		vs = append(vs, "maybe", "", 2, -1, 0.5, []any{}, map[string]any{}, []any{true})
	}
	if slices.Contains(types, "array") { // of strings
		vs = append(vs, "x", 1, true, map[string]any{}, []any{1}, []any{nil}, []any{"x", false}, []any{map[string]any{}})
	}
	if required && !slices.Contains(types, "null") {
		vs = append(vs, nil)
	}
	return pick(g, vs...)
}

func (g *generator) body(r route) map[string]any {
	return maps.Clone(pick(g, g.f.bodies[r.method+" "+r.path]...))
}

func (g *generator) badType(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	b := g.body(r)
	name := pick(g, slices.Sorted(maps.Keys(b))...)
	b[name] = g.wrongValue(r.fields[name], slices.Contains(r.required, name))
	p.body, _ = json.Marshal(b)
	p.kind, p.want = "body: wrong type", http.StatusUnprocessableEntity
	return p
}

// badString makes a string field invalid whatever its rule: a NUL, a lone
// surrogate, or far too long.
func (g *generator) badString(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	b := g.body(r)
	var names []string
	for k, v := range b {
		if _, ok := v.(string); ok {
			names = append(names, k)
		}
	}
	name := pick(g, slices.Sorted(slices.Values(names))...)
	s := b[name].(string)
	switch g.rng.IntN(3) {
	case 0:
		b[name] = s[:len(s)/2] + "\x00" + s[len(s)/2:]
	case 1:
		b[name] = s + "\x01LONE\x01"
	default:
		b[name] = s + strings.Repeat("a", 4<<10+g.rng.IntN(128<<10))
	}
	p.body, _ = json.Marshal(b)
	p.body = bytes.ReplaceAll(p.body, []byte(`\u0001LONE\u0001`), []byte(`\ud800`))
	p.kind = "body: bad string"
	return p
}

// deep is n levels of arrays or objects.
func (g *generator) deep(n int) string {
	if g.rng.IntN(2) == 0 {
		return strings.Repeat("[", n) + strings.Repeat("]", n)
	}
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
}

// badShape: a body that is not an object, a missing field, a field deep
// as a stack. Problems of such bodies echo them, so their answers must
// cut what they echo.
func (g *generator) badShape(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	p.kind, p.want = "body: bad shape", http.StatusUnprocessableEntity
	b := g.body(r)
	levels := pick(g, 100, 5_000, 12_000)
	deep := g.deep(levels)
	switch g.rng.IntN(4) {
	case 0:
		valid := string(p.body)
		p.body = []byte(pick(g, "null", "[]", "["+valid+"]", "123", `"str"`, "true", strings.Repeat("[", levels)+strings.Repeat("]", levels),
			`"`+strings.Repeat("s", 128<<10)+`"`))
	case 1:
		if len(r.required) > 0 {
			delete(b, pick(g, r.required...))
			// Unknown fields are ignored, but a missing field's problem
			// echoes the whole body, them included.
			p.body = withRaw(b, "unknown", pick(g, deep, `"`+strings.Repeat("u", 64<<10)+`"`))
			return p
		}
		fallthrough
	default:
		p.body = withRaw(b, pick(g, slices.Sorted(maps.Keys(b))...), deep)
	}
	return p
}

// withRaw is b with the field name set to raw, spliced in as it is: JSON
// deeper than 10,000 levels cannot be marshalled.
func withRaw(b map[string]any, name, raw string) []byte {
	delete(b, name)
	rest, _ := json.Marshal(b)
	field := fmt.Sprintf("{%q:%s", name, raw)
	if len(b) == 0 {
		return []byte(field + "}")
	}
	return []byte(field + "," + string(rest[1:]))
}

// badContentType sends a valid body as something that is not JSON.
func (g *generator) badContentType(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	p.header = slices.DeleteFunc(p.header, func(h [2]string) bool { return h[0] == "Content-Type" })
	p.header = append(p.header, [2]string{"Content-Type", pick(g, "text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/xml", "json", "application/jsonx", "text/json",
		"application/"+g.junk(24<<10), "\xff\xfe", ";;;", "application/json/x")})
	p.kind = "body: not JSON's content type"
	return p
}

// tooLarge sends a body just over 1 MiB, with its length or chunked.
func (g *generator) tooLarge(r route) probe {
	p := g.base(r)
	g.nonce(r, &p)
	n := bodyLimit + 1 + g.rng.IntN(64)
	p.body = []byte(`{"display_name":"` + strings.Repeat("x", n-len(`{"display_name":""}`)) + `"}`)
	p.chunked = g.rng.IntN(2) == 0
	p.kind, p.want, p.details = "body over 1 MiB", http.StatusRequestEntityTooLarge, []string{bodyTooLarge}
	return p
}

// oddButValid reads with unknown parameters, repeated identical ones, an
// ID in upper-case hex, odd headers: all valid, all 200.
func (g *generator) oddButValid(r route) probe {
	p := g.base(r)
	p.kind, p.valid = "valid read", true
	for name, v := range g.f.params {
		if strings.Contains(r.path, "{"+name+"}") && g.f.prefixes[name] != "" && g.rng.IntN(2) == 0 {
			p.target = strings.Replace(p.target, v, g.f.prefixes[name]+"_"+strings.ToUpper(strings.TrimPrefix(v, g.f.prefixes[name]+"_")), 1)
		}
	}
	q := url.Values{"unknown": {g.junk(10), g.junk(10)}}
	if slices.Contains(r.query, "limit") {
		q["limit"] = []string{"7", "7"}
	}
	p.target += "?" + q.Encode()
	p.header = append(p.header, [2]string{"Accept", pick(g, "text/html", "*/*", g.junk(30))},
		[2]string{"Content-Type", pick(g, "text/plain", "application/json", g.junk(10))})
	return p
}
