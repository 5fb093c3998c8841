package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/leadrcontainer"
)

// The failover's timeline: load on the pair before the crash, the time an
// operator takes to promote the standby (requests meanwhile find no
// primary), the bound on the return to full service after the
// promotion, and how long an answer may take: the request deadline and a
// margin for a loaded machine.
const (
	failoverWorkers = 6
	beforeCrash     = 1500 * time.Millisecond
	operatorDelay   = 2 * time.Second
	recoveryBound   = 10 * time.Second
	answerBound     = requestTimeout + 4*time.Second
	// calmRounds: the load stops once every worker has had this many rounds
	// of every kind of request answered 2xx, all begun after the promotion.
	calmRounds = 3
)

// TestFailover: the service on a primary and its synchronous standby,
// reached by a multi-host URL with target_session_attrs=read-write. Under
// a steady load of writes and reads the primary crashes and the standby is
// promoted: every acknowledged write is found on the new primary, every
// answer meanwhile is a 2xx or the contract's 503 (never a 500, never a
// hang, never a dropped connection), and every kind of request succeeds
// again within 10 s of the promotion, with no change to the service.
func TestFailover(t *testing.T) {
	service, postgresImage := leadrcontainer.TestImages(t)
	ctx := t.Context()
	pair, err := leadrcontainer.RunReplicated(ctx, postgresImage)
	t.Cleanup(func() {
		if err := pair.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	key := tenancy.GenerateKey()
	replica := runReplica(t, service, pair.Network, "leadr-1", pair.NetworkURL(), key)
	base, err := replica.BaseURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := replica.MetricsURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFeedLive(t, metrics, 1)

	tr := newTraffic(t, base, key)
	tr.start(failoverWorkers)
	time.Sleep(beforeCrash)
	crashed := time.Now()
	if err := pair.CrashPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(operatorDelay)
	asked := time.Now()
	if err := pair.PromoteStandby(ctx); err != nil {
		t.Fatal(err)
	}
	// The bound runs from the promotion, done (pg_promote waits for it):
	// how long PostgreSQL takes to promote is PostgreSQL's, not the
	// service's, and is reported apart.
	promoted := time.Now()
	promoting := promoted.Sub(asked)
	tr.settle(promoted, recoveryBound*2)
	waitFeedLive(t, metrics, 1)
	feedBack := time.Since(promoted)

	recovered := tr.lastFailure().Sub(promoted).Seconds()
	t.Logf("the primary crashed after %v of load; the standby's promotion was asked for %.2fs later and took %.2fs",
		beforeCrash, asked.Sub(crashed).Seconds(), promoting.Seconds())
	tr.report(t, promoted)
	t.Logf("full service again %.2fs after the promotion (the last answer other than 2xx; bound %v)", max(recovered, 0), recoveryBound)
	t.Logf("the change feed was live again (on the new primary) by %.2fs after the promotion", feedBack.Seconds())
	tr.checkAnswers(t)
	if recovered > recoveryBound.Seconds() {
		t.Errorf("full service came back %.2fs after the promotion, more than %v", recovered, recoveryBound)
	}
	if !tr.calm.Load() {
		t.Errorf("not every kind of request succeeded in %d rounds of each worker within %v of the promotion", calmRounds, 2*recoveryBound)
	}
	tr.checkWrites(t, promoted)
}

// encryptionKey is every replica's LEADR_ENCRYPTION_KEY: replicas of one
// database need the same.
var encryptionKey = leadrcontainer.NewEncryptionKey()

// runReplica starts a replica of the service on nw, named alias there,
// with the database URL dbURL and the superadmin key key, and removes it
// when t ends. The load is the database's: no rate limit stands in its way
// (the tests' clients all come from one address). opts customise it
// further.
func runReplica(t *testing.T, image string, nw *testcontainers.DockerNetwork, alias, dbURL, key string,
	opts ...testcontainers.ContainerCustomizer) *leadrcontainer.Container {
	t.Helper()
	r, err := leadrcontainer.Run(t.Context(), image, append([]testcontainers.ContainerCustomizer{
		network.WithNetwork([]string{alias}, nw),
		leadrcontainer.WithDatabaseURL(dbURL), leadrcontainer.WithSuperadminKey(key),
		leadrcontainer.WithEncryptionKey(encryptionKey),
		leadrcontainer.WithConfig("LEADR_RATE_LIMIT_API_KEY", "off"),
		leadrcontainer.WithConfig("LEADR_RATE_LIMIT_SESSION", "off"),
		leadrcontainer.WithConfig("LEADR_RATE_LIMIT_CLIENT_IP", "off"),
		leadrcontainer.WithConfig("LEADR_RATE_LIMIT_SIGN_UP", "off"),
	}, opts...)...)
	t.Cleanup(func() {
		if r != nil {
			_ = r.Terminate(context.Background())
		}
	})
	if err != nil {
		t.Fatalf("%s: %v", alias, err)
	}
	return r
}

// The kinds of request the traffic sends, each round.
const (
	kindCreate = "get-or-create"
	kindRead   = "read"
	kindList   = "list"
	kindSignIn = "sign-in"
	kindMe     = "me"
)

// traffic is a steady load of every kind of request on one address: each
// worker gets or creates identities of its own keys (the same key again
// after an answer that did not acknowledge it), reads the last one, lists a
// page, and signs a player in and calls as that player. Every answer is
// recorded.
type traffic struct {
	admin         *client.Client
	account, game string
	stop          context.CancelFunc
	wg            sync.WaitGroup
	calm          atomic.Bool // every worker had calmRounds clean rounds, begun after settle's since

	mu sync.Mutex
	// acked: external key → identity, for every acknowledged get-or-create,
	// with when the first acknowledgement was.
	acked   map[string]ack
	answers []answer
	// wrong: answers outside the contract, and acknowledgements that
	// contradict one another.
	wrong []string
	since time.Time // rounds begun from then on count towards calm
	clean map[int]int
}

type ack struct {
	id string
	at time.Time
}

type answer struct {
	kind, replica string
	end           time.Time
	took          time.Duration
	status        int // 0: no answer
}

type kindKey struct{}

// replicaHeader is the header HAProxy names the replica that answered in
// (build/ha/haproxy.cfg).
const replicaHeader = "X-Leadr-Replica"

// newTraffic creates the account and game the traffic works in, as the
// superadmin.
func newTraffic(t *testing.T, base, superadmin string) *traffic {
	t.Helper()
	tr := &traffic{acked: map[string]ack{}, clean: map[int]int{}}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	// A hang shows as a slow answer, which checkAnswers reports, rather
	// than as the client giving up.
	hc := &http.Client{Timeout: 30 * time.Second, Transport: recorder{tr, transport}}
	tr.admin = client.New(base, client.WithAPIKey(superadmin), client.WithHTTPClient(hc))
	acc, err := tr.admin.CreateAccount(t.Context(), client.CreateAccountRequest{Name: "Scale", Slug: "scale"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := tr.admin.CreateGame(t.Context(), client.CreateGameRequest{AccountID: acc.ID, Name: "Scale Game"})
	if err != nil {
		t.Fatal(err)
	}
	tr.account, tr.game = acc.ID, g.ID
	tr.mu.Lock()
	tr.answers = nil // the set-up's
	tr.mu.Unlock()
	return tr
}

// recorder records every answer, and checks those that are not 2xx
// against the contract: a database fault is a 503 with Retry-After and
// the contract's body, in no more than answerBound.
type recorder struct {
	tr   *traffic
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := r.next.RoundTrip(req)
	kind, _ := req.Context().Value(kindKey{}).(string)
	a := answer{kind: kind, end: time.Now()}
	a.took = a.end.Sub(start)
	var wrong []string
	if a.took > answerBound {
		wrong = append(wrong, fmt.Sprintf("%s: answered in %v, more than the deadline and a margin (%v)", kind, a.took.Round(time.Millisecond), answerBound))
	}
	if err != nil {
		wrong = append(wrong, fmt.Sprintf("%s: no answer: %v", kind, err))
	} else {
		a.status, a.replica = resp.StatusCode, resp.Header.Get(replicaHeader)
		if resp.StatusCode >= 300 {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if problem := outsideContract(resp, body, rerr); problem != "" {
				wrong = append(wrong, fmt.Sprintf("%s: %s", kind, problem))
			}
		}
	}
	r.tr.mu.Lock()
	r.tr.answers = append(r.tr.answers, a)
	r.tr.wrong = append(r.tr.wrong, wrong...)
	r.tr.mu.Unlock()
	return resp, err
}

// unavailable is the body of every 503 the service answers for a fault of
// its database.
const unavailable = "Service temporarily unavailable"

func outsideContract(resp *http.Response, body []byte, readErr error) string {
	if readErr != nil {
		return fmt.Sprintf("%d, body cut: %v", resp.StatusCode, readErr)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		return fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var problem struct{ Detail string }
	if err := json.Unmarshal(body, &problem); err != nil || problem.Detail != unavailable || resp.Header.Get("Retry-After") == "" {
		return fmt.Sprintf("a 503 not in the contract's shape (Retry-After %q): %s", resp.Header.Get("Retry-After"), bytes.TrimSpace(body))
	}
	return ""
}

// start sends the load from n workers until settle or finish ends it.
func (tr *traffic) start(n int) {
	ctx, cancel := context.WithCancel(context.Background())
	tr.stop = cancel
	for w := range n {
		tr.wg.Go(func() { tr.work(ctx, w, n) })
	}
}

func (tr *traffic) work(ctx context.Context, w, workers int) {
	var key, last string // the key to get or create, the last identity acknowledged
	seq := 0
	for ctx.Err() == nil {
		if key == "" {
			seq++
			key = fmt.Sprintf("device-scale-%02d-%06d", w, seq)
		}
		began := time.Now()
		ok := true
		call := func(kind string, f func(context.Context) error) bool {
			// Stopping the load lets the requests in flight finish.
			err := f(context.WithValue(context.WithoutCancel(ctx), kindKey{}, kind))
			ok = ok && err == nil
			return err == nil
		}
		call(kindCreate, func(ctx context.Context) error {
			i, _, err := tr.admin.CreateIdentity(ctx, client.CreateIdentityRequest{AccountID: tr.account, GameID: tr.game,
				Kind: client.KindDevice, ExternalKey: key})
			if err == nil {
				tr.acknowledge(key, i.ID)
				key, last = "", i.ID
			}
			return err
		})
		if last != "" {
			call(kindRead, func(ctx context.Context) error { _, err := tr.admin.GetIdentity(ctx, last); return err })
		}
		call(kindList, func(ctx context.Context) error {
			_, err := tr.admin.ListIdentities(ctx, client.ListIdentitiesParams{AccountID: tr.account, GameID: tr.game, Limit: 20})
			return err
		})
		var p *client.Player
		if call(kindSignIn, func(ctx context.Context) (err error) {
			p, err = tr.admin.SignIn(ctx, client.SignInRequest{GameID: tr.game, Kind: client.KindDevice,
				ExternalKey: fmt.Sprintf("device-scale-player-%02d", w)})
			return err
		}) {
			call(kindMe, func(ctx context.Context) error { _, err := p.Me(ctx); return err })
		}
		tr.round(w, workers, began, ok && last != "" && ctx.Err() == nil)
	}
}

func (tr *traffic) acknowledge(key, id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if prev, ok := tr.acked[key]; ok && prev.id != id {
		tr.wrong = append(tr.wrong, fmt.Sprintf("%s: acknowledged as %s, then as %s", key, prev.id, id))
		return
	}
	if _, ok := tr.acked[key]; !ok {
		tr.acked[key] = ack{id: id, at: time.Now()}
	}
}

// round counts a worker's rounds of every kind answered 2xx since settle
// began waiting, and sets calm once each worker has had enough.
func (tr *traffic) round(w, workers int, began time.Time, clean bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.since.IsZero() || began.Before(tr.since) {
		return
	}
	if !clean {
		tr.clean[w] = 0
		return
	}
	tr.clean[w]++
	for i := range workers {
		if tr.clean[i] < calmRounds {
			return
		}
	}
	tr.calm.Store(true)
}

// settle lets the load go on until every worker has had calmRounds clean
// rounds begun after since, or for at most bound, then stops it.
func (tr *traffic) settle(since time.Time, bound time.Duration) {
	tr.mu.Lock()
	tr.since = since
	tr.mu.Unlock()
	for deadline := since.Add(bound); !tr.calm.Load() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	tr.finish()
}

// finish stops the load and waits for the requests in flight.
func (tr *traffic) finish() {
	tr.stop()
	tr.wg.Wait()
}

// lastFailure is when the last answer other than 2xx came.
func (tr *traffic) lastFailure() time.Time {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var last time.Time
	for _, a := range tr.answers {
		if (a.status < 200 || a.status >= 300) && a.end.After(last) {
			last = a.end
		}
	}
	return last
}

// report prints the answers by status, before and after a moment (zero:
// all together), and by kind.
func (tr *traffic) report(t *testing.T, split time.Time) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	before, after := map[int]int{}, map[int]int{}
	kinds := map[string]int{}
	var slowest time.Duration
	for _, a := range tr.answers {
		slowest = max(slowest, a.took)
		if !split.IsZero() && a.end.Before(split) {
			before[a.status]++
		} else {
			after[a.status]++
		}
		kinds[a.kind]++
	}
	if split.IsZero() {
		t.Logf("%d requests; answers by status: %s", len(tr.answers), counts(after))
	} else {
		t.Logf("%d requests; answers by status before the promotion: %s; after it: %s", len(tr.answers), counts(before), counts(after))
	}
	t.Logf("requests by kind: %s; the slowest answered in %.2fs", counts(kinds), slowest.Seconds())
}

// counts prints a tally as "key: n, …", its keys in order (status 0 is
// no answer).
func counts[K int | string](m map[K]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%v: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// checkAnswers fails t for every answer outside the contract.
func (tr *traffic) checkAnswers(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i, w := range tr.wrong {
		if i == 10 {
			t.Errorf("… and %d more", len(tr.wrong)-i)
			break
		}
		t.Error(w)
	}
}

// checkWrites fails t unless every acknowledged identity is found, under
// its key, by the service (on the database it serves from now), and prints
// how many were acknowledged before and after a moment.
func (tr *traffic) checkWrites(t *testing.T, split time.Time) {
	t.Helper()
	found := map[string]string{}
	for i, err := range tr.admin.Identities(t.Context(), client.ListIdentitiesParams{AccountID: tr.account, GameID: tr.game, Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		found[i.ExternalKey] = i.ID
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	missing, after := 0, 0
	for key, a := range tr.acked {
		if found[key] != a.id {
			missing++
		}
		if !split.IsZero() && !a.at.Before(split) {
			after++
		}
	}
	if split.IsZero() {
		t.Logf("writes: %d identities acknowledged, %d found, %d missing", len(tr.acked), len(tr.acked)-missing, missing)
	} else {
		t.Logf("writes: %d identities acknowledged (%d of them after the promotion), %d found, %d missing",
			len(tr.acked), after, len(tr.acked)-missing, missing)
	}
	if missing > 0 {
		t.Errorf("%d acknowledged identities are missing", missing)
	}
	if len(tr.acked) == 0 || (!split.IsZero() && after == 0) {
		t.Errorf("%d writes acknowledged, %d after the promotion: the load did not write through the switch", len(tr.acked), after)
	}
}
