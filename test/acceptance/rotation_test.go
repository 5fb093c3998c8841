package acceptance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
	"github.com/leadr-oss/identity/verifier"
	"github.com/leadr-oss/identity/wire"
)

// accessTokenTTL is LEADR_ACCESS_TOKEN_TTL's default, which the replicas
// of TestRotationUnderLoad run with.
const accessTokenTTL = 15 * time.Minute

// TestRotationUnderLoad rotates the signing key (contract section 12) while
// three replicas on one database sign devices in and accept each other's
// tokens, on one clock that the test moves on by minutes: no request is
// refused, the replicas switch from the old key to the new one at its
// SignsFrom and not before, a verifier that fetched the keys just before
// the rotation has the new key before it sees a token of it without
// fetching more than its cache's max-age asks, and the old key's tokens
// are accepted everywhere until they expire. Replicas share a database,
// and an SQLite file serves one process, so the suite's SQLite pass runs
// this on PostgreSQL too (as twoReplicas).
func TestRotationUnderLoad(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	db := pgtest.Empty(t)
	var replicas [3]*harness.Service
	for i := range replicas {
		replicas[i] = harness.StartService(t, harness.WithDatabaseURL(db), harness.WithClock(clock.Now))
	}
	moveTo := func(at time.Time) { clock.Skip(at.Sub(clock.Now())) }
	tenant := harness.NewTenant(t, replicas[0])
	first := publishedKids(t, replicas[0])
	if len(first) != 1 {
		t.Fatalf("a new database publishes %d keys, want 1", len(first))
	}
	oldKid := first[0]

	fetches := &jwksFetches{now: clock.Now}
	v, err := verifier.New(verifier.Config{BaseURL: replicas[2].URL, Now: clock.Now,
		HTTPClient: &http.Client{Transport: fetches, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}

	load := startRotationLoad(t, replicas, tenant.Game.ID, v, clock.Now)
	load.awaitEach(t, clock.Now())

	rotating := clock.Now()
	next, created, err := replicas[0].SigningKeys.Rotate(t.Context())
	rotated := clock.Now()
	if err != nil || !created || next.State != signingkey.Pending {
		t.Fatalf("rotate: %+v, created %v, %v", next, created, err)
	}
	if next.SignsFrom.Before(rotating.Add(signingkey.Lead)) || next.SignsFrom.After(rotated.Add(signingkey.Lead)) {
		t.Fatalf("rotated between %s and %s, and the next key signs from %s: want Lead (%v) later",
			rotating.Format(time.RFC3339Nano), rotated.Format(time.RFC3339Nano), next.SignsFrom.Format(time.RFC3339Nano), signingkey.Lead)
	}
	newKid := next.ID.String()
	// The other replicas hear of the new key through PostgreSQL's
	// notifications: the clock moves on only once all publish it.
	deadline := time.Now().Add(10 * time.Second)
	for i, svc := range replicas {
		for !slices.Contains(publishedKids(t, svc), newKid) {
			if time.Now().After(deadline) {
				t.Fatalf("replica %d does not publish the new key 10 s after the rotation", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The replicas switch at the stored SignsFrom, which the database keeps
	// to the microsecond.
	signsFrom := storedSignsFrom(t, replicas[1], newKid)

	// Minute by minute up to the verifier's max-age, then across SignsFrom
	// in real time, so that sign-ins are under way at that instant.
	for m := 1; m <= 5; m++ {
		moveTo(rotating.Add(time.Duration(m) * time.Minute))
		load.awaitEach(t, clock.Now())
	}
	moveTo(signsFrom.Add(-500 * time.Millisecond))
	load.awaitEach(t, signsFrom.Add(500*time.Millisecond))
	for m := 1; m <= 2; m++ {
		moveTo(signsFrom.Add(time.Duration(m) * time.Minute))
		load.awaitEach(t, clock.Now())
	}
	issued, refusals := load.stop()

	errorsUpTo(t, 10, "refused: ", refusals)
	signed := make([]map[string]int, len(replicas)) // kid → tokens, by replica
	for i := range signed {
		signed[i] = map[string]int{}
	}
	oldAfterRotation := 0
	var lastOld [3]rotationSignIn // by replica, its old key's token that expires last
	var misSigned []string
	for _, s := range issued {
		signed[s.replica][s.kid]++
		// Each token was signed at some instant between before and after.
		switch s.kid {
		case oldKid:
			if !s.before.Before(signsFrom) {
				misSigned = append(misSigned, fmt.Sprintf("replica %d signed with the old key a sign-in requested at %s",
					s.replica, s.before.Format(time.RFC3339Nano)))
			}
			if !s.before.Before(rotated) {
				oldAfterRotation++
			}
			if s.expires.After(lastOld[s.replica].expires) {
				lastOld[s.replica] = s
			}
		case newKid:
			if s.after.Before(signsFrom) {
				misSigned = append(misSigned, fmt.Sprintf("replica %d signed with the new key a sign-in answered at %s",
					s.replica, s.after.Format(time.RFC3339Nano)))
			}
		default:
			misSigned = append(misSigned, fmt.Sprintf("replica %d signed a token with %s, neither the old nor the new key", s.replica, s.kid))
		}
	}
	errorsUpTo(t, 10, "the new key signs from "+signsFrom.Format(time.RFC3339Nano)+", and ", misSigned)
	for i, kids := range signed {
		if kids[oldKid] == 0 || kids[newKid] == 0 {
			t.Errorf("replica %d signed %d tokens with the old key and %d with the new one: want both", i, kids[oldKid], kids[newKid])
		}
	}
	if oldAfterRotation == 0 {
		t.Error("no token signed with the old key after the rotation: the new key signed at once, or the load did not run")
	}
	t.Logf("%d sign-ins, %d with the old key after the rotation", len(issued), oldAfterRotation)
	if t.Failed() {
		t.FailNow()
	}

	// The old key's last tokens, 10 s before the first of them expires:
	// every replica and the verifier check their signatures again (the
	// replicas' caches of verified tokens keep them 10 s at most).
	expiring := slices.MinFunc(lastOld[:], func(a, b rotationSignIn) int { return a.expires.Compare(b.expires) }).expires
	moveTo(expiring.Add(-10 * time.Second))
	for _, s := range lastOld {
		for _, svc := range replicas {
			bearer(t, svc, s.token).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		}
		if _, err := v.Verify(t.Context(), s.token); err != nil {
			t.Errorf("the verifier refuses a token of the old key before it expires: %v", err)
		}
	}

	// Every fetch of the verifier but its first was due by the max-age of
	// the one before: none was for an unknown kid.
	at := fetches.times()
	t.Logf("the verifier fetched the keys %d times", len(at))
	if len(at) == 0 || !at[0].Before(rotating) {
		t.Fatalf("the verifier's fetches of the keys: %v, want the first before the rotation (%s)", at, rotating.Format(time.RFC3339Nano))
	}
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) < signingkey.JWKSMaxAge {
			t.Errorf("the verifier fetched the keys at %s, %v after the fetch before: not for their max-age (%v) but for an unknown kid",
				at[i].Format(time.RFC3339Nano), at[i].Sub(at[i-1]), signingkey.JWKSMaxAge)
		}
	}

	// The old key is published until a minute (verifiers' leeway) after
	// the last token it can have signed expired, and no longer.
	unpublished := signsFrom.Add(accessTokenTTL + signingkey.Margin)
	moveTo(unpublished.Add(-5 * time.Second))
	for i, svc := range replicas {
		if !slices.Contains(publishedKids(t, svc), oldKid) {
			t.Errorf("replica %d no longer publishes the old key 5 s before %s", i, unpublished.Format(time.RFC3339Nano))
		}
	}
	moveTo(unpublished.Add(time.Second))
	for i, svc := range replicas {
		if kids := publishedKids(t, svc); !slices.Equal(kids, []string{newKid}) {
			t.Errorf("replica %d publishes %v after the old key's tokens expired, want only %s", i, kids, newKid)
		}
	}
}

// errorsUpTo fails t with the first n of errs, each after prefix.
func errorsUpTo(t *testing.T, n int, prefix string, errs []string) {
	t.Helper()
	for i, e := range errs {
		if i == n {
			t.Errorf("… and %d more", len(errs)-n)
			return
		}
		t.Error(prefix + e)
	}
}

// publishedKids are the kids of svc's JWKS.
func publishedKids(t *testing.T, svc *harness.Service) []string {
	t.Helper()
	resp, err := svc.Anonymous().Do(t.Context(), http.MethodGet, "/.well-known/jwks.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var set wire.JWKS
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &set) != nil {
		t.Fatalf("GET /.well-known/jwks.json: %d %s", resp.Status, resp.Body)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.Kid
	}
	return kids
}

func storedSignsFrom(t *testing.T, svc *harness.Service, kid string) time.Time {
	t.Helper()
	keys, err := svc.SigningKeys.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID.String() == kid {
			return k.SignsFrom
		}
	}
	t.Fatalf("%s is not stored", kid)
	return time.Time{}
}

// jwksFetches is a verifier's transport that notes when, by the verifier's
// clock, it fetched the keys.
type jwksFetches struct {
	now func() time.Time
	mu  sync.Mutex
	at  []time.Time
}

func (f *jwksFetches) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/.well-known/jwks.json" {
		f.mu.Lock()
		f.at = append(f.at, f.now())
		f.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (f *jwksFetches) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.at)
}

// rotationSignIn is a sign-in of the load: which replica answered it, the clock
// when it was sent and when its answer came, and its access token.
type rotationSignIn struct {
	replica       int
	before, after time.Time
	kid           string
	expires       time.Time
	token         string // a credential: never printed
}

// rotationLoad signs devices in on every replica in turn, from a few
// goroutines, and has each token accepted by the next replica's
// GET /v1/client/me (which had never seen it: no cache answers for the
// signature) and by a verifier. The verifier checks the tokens one at a
// time, as they come: its fetches of the keys are then due to the tokens
// alone, not to callers racing for a refresh.
type rotationLoad struct {
	replicas [3]*harness.Service
	game     string
	now      func() time.Time
	stopping atomic.Bool
	workers  sync.WaitGroup
	checked  chan rotationSignIn
	verified sync.WaitGroup

	mu       sync.Mutex
	issued   []rotationSignIn
	refusals []string
	// latest is, by replica, when the latest sign-in whose checks are done
	// was sent.
	latest [3]time.Time
}

const rotationWorkers = 3

func startRotationLoad(t *testing.T, replicas [3]*harness.Service, game string, v *verifier.Verifier, now func() time.Time) *rotationLoad {
	l := &rotationLoad{replicas: replicas, game: game, now: now, checked: make(chan rotationSignIn, rotationWorkers)}
	ctx := t.Context()
	l.verified.Go(func() {
		for s := range l.checked {
			if _, err := v.Verify(ctx, s.token); err != nil {
				l.refuse("the verifier refused a token of replica %d (kid %s) requested at %s: %v", s.replica, s.kid, s.before.Format(time.RFC3339Nano), err)
			}
		}
	})
	for w := range rotationWorkers {
		l.workers.Go(func() {
			for i := w; !l.stopping.Load(); i++ {
				l.signIn(ctx, i%len(replicas))
			}
		})
	}
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *rotationLoad) signIn(ctx context.Context, replica int) {
	before := l.now()
	defer func() {
		l.mu.Lock()
		l.latest[replica] = later(l.latest[replica], before)
		l.mu.Unlock()
	}()
	resp, err := l.replicas[replica].Anonymous().Do(ctx, http.MethodPost, "/v1/client/sessions",
		map[string]any{"game_id": l.game, "kind": "DEVICE", "external_key": newDevice()})
	after := l.now()
	if err != nil {
		l.refuse("replica %d: sign-in: %v", replica, err)
		return
	}
	var s client.SignInResponse
	if resp.Status != http.StatusCreated || json.Unmarshal(resp.Body, &s) != nil {
		l.refuse("replica %d: sign-in: %d %s", replica, resp.Status, resp.Body)
		return
	}
	token, err := verifier.Parse(s.AccessToken)
	if err != nil {
		l.refuse("replica %d: sign-in: the access token does not parse: %v", replica, err)
		return
	}
	signed := rotationSignIn{replica: replica, before: before, after: after, kid: token.KID, expires: token.Claims.ExpiresAt, token: s.AccessToken}
	other := (replica + 1) % len(l.replicas)
	me, err := l.replicas[other].Bearer(s.AccessToken).Do(ctx, http.MethodGet, "/v1/client/me", nil)
	switch {
	case err != nil:
		l.refuse("replica %d: GET /v1/client/me: %v", other, err)
	case me.Status != http.StatusOK:
		l.refuse("replica %d: GET /v1/client/me with a token of replica %d (kid %s) requested at %s: %d %s",
			other, replica, token.KID, before.Format(time.RFC3339Nano), me.Status, me.Body)
	}
	l.mu.Lock()
	l.issued = append(l.issued, signed)
	l.mu.Unlock()
	l.checked <- signed
}

func (l *rotationLoad) refuse(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refusals = append(l.refusals, fmt.Sprintf(format, args...))
}

// awaitEach waits until every replica has answered a sign-in sent at or
// after at, and the next replica has checked its token.
func (l *rotationLoad) awaitEach(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l.mu.Lock()
		done := !slices.ContainsFunc(l.latest[:], func(latest time.Time) bool { return latest.Before(at) })
		l.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load sent no sign-in to some replica after %s within 30 s", at.Format(time.RFC3339Nano))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop ends the load, once its checks are done, and returns its sign-ins
// and refusals.
func (l *rotationLoad) stop() ([]rotationSignIn, []string) {
	if !l.stopping.Swap(true) {
		l.workers.Wait()
		close(l.checked)
	}
	l.verified.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.issued), slices.Clone(l.refusals)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
