package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leadr-oss/identity/client"
)

// target is one server under load and what its requests carry. The
// service's requests carry their account's own API key, a regular one,
// as most callers' do; the baseline's name their account instead.
type target struct {
	name    string
	service bool
	base    string
	fx      *fixture
	// debugAddr is a service's private listener, for its CPU profiles.
	debugAddr string
	// Per account: the headers of a request without and with a JSON body,
	// and the query that names the account (the service's keys imply it).
	headers, jsonHeaders []http.Header
	scope                []string

	// deep are cursors at least deepDepth rows into each account's list.
	deep      [][]string
	deepDepth int
	// bearers sign client requests in as the first DEVICE identities, until
	// bearersExpire.
	bearers       []http.Header
	bearersExpire time.Time
}

func newServiceTarget(name string, svc *serviceProcess, fx *fixture) *target {
	t := &target{name: name, service: true, base: svc.base, fx: fx, debugAddr: svc.debugAddr}
	for _, a := range fx.accounts {
		h := http.Header{}
		h.Set("leadr-api-key", a.key)
		j := h.Clone()
		j.Set("Content-Type", "application/json")
		t.headers, t.jsonHeaders, t.scope = append(t.headers, h), append(t.jsonHeaders, j), append(t.scope, "")
	}
	return t
}

func newBaselineTarget(b *server, fx *fixture) *target {
	t := &target{name: "baseline", base: b.base, fx: fx}
	j := http.Header{}
	j.Set("Content-Type", "application/json")
	for _, a := range fx.accounts {
		t.headers, t.jsonHeaders = append(t.headers, http.Header{}), append(t.jsonHeaders, j)
		t.scope = append(t.scope, "account_id="+a.id.String())
	}
	return t
}

// listURL is the list of account a, with more query parameters.
func (t *target) listURL(a int, query string) string {
	q := t.scope[a]
	if q != "" && query != "" {
		q += "&"
	}
	if q += query; q == "" {
		return t.base + "/v1/identities"
	}
	return t.base + "/v1/identities?" + q
}

// scenario is one kind of request. request fills in one, picked at random;
// it runs on every worker, so it is kept cheap. prepare, when set, readies
// a target before each timed run, untimed. status is the answer expected,
// 200 when zero; any other is an error.
type scenario struct {
	name    string
	request func(t *target, r *vegeta.Target)
	prepare func(ctx context.Context, t *target, run time.Duration) error
	status  int
}

func (s scenario) want() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

var scenarios = []scenario{
	{name: "get", request: getIdentity},
	{name: "list_first", request: listFirst},
	{name: "list_filtered", request: func(t *target, r *vegeta.Target) {
		a := rand.IntN(len(t.fx.accounts))
		games := t.fx.accounts[a].games
		t.get(r, a, t.listURL(a, "game_id="+games[rand.IntN(len(games))].String()+"&kind="+kinds[rand.IntN(len(kinds))]))
	}},
	{name: "list_by_name", request: func(t *target, r *vegeta.Target) {
		a := rand.IntN(len(t.fx.accounts))
		t.get(r, a, t.listURL(a, "sort=display_name:asc"))
	}},
	{name: "list_deep", prepare: collectDeepCursors, request: func(t *target, r *vegeta.Target) {
		a := rand.IntN(len(t.fx.accounts))
		t.get(r, a, t.listURL(a, "cursor="+t.deep[a][rand.IntN(len(t.deep[a]))]))
	}},
	{name: "patch", request: patchName},
	{name: "get_or_create", request: func(t *target, r *vegeta.Target) {
		i := rand.IntN(len(t.fx.identities))
		s := t.fx.identities[i]
		body := client.CreateIdentityRequest{GameID: t.fx.gameOf(i).String(), Kind: kinds[s.kind], ExternalKey: t.fx.externalKey(i)}
		if !t.service {
			body.AccountID = t.fx.accounts[s.account].id.String()
		}
		t.send(r, http.MethodPost, int(s.account), t.base+"/v1/identities", body)
	}},
	{name: "client_me", prepare: signIn, request: func(t *target, r *vegeta.Target) {
		r.Method, r.URL, r.Header = http.MethodGet, t.base+"/v1/client/me", t.bearers[rand.IntN(len(t.bearers))]
	}},
	{name: "mix", request: mix},
	// The writes that make rows last, so that the scenarios above read the
	// table as it was seeded and analysed.
	{name: "create", request: createIdentity, status: http.StatusCreated},
	{name: "sign_in", request: signInDevice, status: http.StatusCreated},
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

func (t *target) get(r *vegeta.Target, account int, url string) {
	r.Method, r.URL, r.Header = http.MethodGet, url, t.headers[account]
}

func (t *target) send(r *vegeta.Target, method string, account int, url string, body any) {
	b, _ := json.Marshal(body)
	r.Method, r.URL, r.Header, r.Body = method, url, t.jsonHeaders[account], b
}

func getIdentity(t *target, r *vegeta.Target) {
	s := t.fx.identities[rand.IntN(len(t.fx.identities))]
	t.get(r, int(s.account), t.base+"/v1/identities/"+s.id.String())
}

func listFirst(t *target, r *vegeta.Target) {
	a := rand.IntN(len(t.fx.accounts))
	t.get(r, a, t.listURL(a, ""))
}

func patchName(t *target, r *vegeta.Target) {
	s := t.fx.identities[rand.IntN(len(t.fx.identities))]
	name := displayName(rand.IntN)
	t.send(r, http.MethodPatch, int(s.account), t.base+"/v1/identities/"+s.id.String(), client.UpdateIdentityRequest{DisplayName: &name})
}

// fresh numbers the identities that create makes: unique across servers
// and rounds, and, with freshRun, across runs on one database.
var (
	fresh    atomic.Uint64
	freshRun = fmt.Sprintf("%08x", rand.Uint32())
)

// createIdentity is a get-or-create that creates: a new DEVICE identity, in
// a game at random, and with it its player.
func createIdentity(t *target, r *vegeta.Target) {
	a := rand.IntN(len(t.fx.accounts))
	games := t.fx.accounts[a].games
	body := client.CreateIdentityRequest{GameID: games[rand.IntN(len(games))].String(), Kind: client.KindDevice,
		ExternalKey: fmt.Sprintf("bench-%s-%010d", freshRun, fresh.Add(1))}
	if !t.service {
		body.AccountID = t.fx.accounts[a].id.String()
	}
	t.send(r, http.MethodPost, a, t.base+"/v1/identities", body)
}

// jsonOnly is the header of a client's request before it has a token.
var jsonOnly = http.Header{"Content-Type": {"application/json"}}

// signInDevice is a game client signing in again as a seeded DEVICE
// identity: a new session, whose player's bans are checked.
func signInDevice(t *target, r *vegeta.Target) {
	i := t.fx.devices[rand.IntN(len(t.fx.devices))]
	b, _ := json.Marshal(client.SignInRequest{GameID: t.fx.gameOf(i).String(), Kind: client.KindDevice, ExternalKey: t.fx.externalKey(i)})
	r.Method, r.URL, r.Header, r.Body = http.MethodPost, t.base+"/v1/client/sessions", jsonOnly, b
}

// mix is nine reads in ten, half of them lists, and one rename.
func mix(t *target, r *vegeta.Target) {
	switch n := rand.IntN(20); {
	case n < 9:
		getIdentity(t, r)
	case n < 18:
		listFirst(t, r)
	default:
		patchName(t, r)
	}
}

// Deep pages start deepDepth rows into an account's list, or half-way in
// a table too small for that; deepCursors of them per account.
const (
	deepDepth   = 10_000
	deepCursors = 50
)

// collectDeepCursors follows each account's list (pages of 100, the most a
// page holds, to get there sooner) to the depth, then keeps the cursors of
// the next pages of 20.
func collectDeepCursors(ctx context.Context, t *target, _ time.Duration) error {
	if t.deep != nil {
		return nil
	}
	depth := min(deepDepth, len(t.fx.identities)/len(t.fx.accounts)/2)
	t.deepDepth = depth
	for a, acc := range t.fx.accounts {
		c := client.New(t.base, client.WithAPIKey(t.headers[a].Get("leadr-api-key")))
		p := client.ListIdentitiesParams{Limit: 100}
		if !t.service {
			p.AccountID = acc.id.String()
		}
		var cursors []string
		for walked := 0; len(cursors) < deepCursors; {
			if walked >= depth {
				p.Limit = 20
			}
			page, err := c.ListIdentities(ctx, p)
			if err != nil {
				return fmt.Errorf("walk to depth %d: %w", depth, err)
			}
			if walked += len(page.Data); !page.Pagination.HasNext {
				break
			}
			p.Cursor = *page.Pagination.NextCursor
			if walked >= depth {
				cursors = append(cursors, url.QueryEscape(p.Cursor))
			}
		}
		if len(cursors) == 0 {
			return fmt.Errorf("account %d: no page past depth %d", a+1, depth)
		}
		t.deep = append(t.deep, cursors)
	}
	return nil
}

// signedIn is how many DEVICE identities the client scenario signs in.
const signedIn = 200

// signIn gives the target bearer tokens that outlive the coming run: the
// service's from POST /v1/client/sessions; the baseline has no sessions,
// and its token is the identity's ID.
func signIn(ctx context.Context, t *target, run time.Duration) error {
	if time.Now().Add(run + time.Minute).Before(t.bearersExpire) {
		return nil
	}
	t.bearers, t.bearersExpire = nil, time.Now().Add(100*365*24*time.Hour)
	anonymous := client.New(t.base)
	for i, s := range t.fx.identities {
		if len(t.bearers) == signedIn {
			break
		}
		if kinds[s.kind] != client.KindDevice {
			continue
		}
		token := s.id.String()
		if t.service {
			sent := time.Now()
			resp, err := anonymous.Do(ctx, http.MethodPost, "/v1/client/sessions", client.SignInRequest{
				GameID: t.fx.gameOf(i).String(), Kind: client.KindDevice, ExternalKey: t.fx.externalKey(i)})
			if err != nil {
				return err
			}
			var in client.SignInResponse
			if resp.Status != http.StatusCreated || json.Unmarshal(resp.Body, &in) != nil {
				return fmt.Errorf("sign in: %d %s", resp.Status, resp.Body)
			}
			token = in.AccessToken
			if expires := sent.Add(time.Duration(in.ExpiresIn) * time.Second); expires.Before(t.bearersExpire) {
				t.bearersExpire = expires
			}
		}
		h := http.Header{}
		h.Set("Authorization", "Bearer "+token)
		t.bearers = append(t.bearers, h)
	}
	if len(t.bearers) == 0 {
		return fmt.Errorf("no DEVICE identity to sign in")
	}
	return nil
}
