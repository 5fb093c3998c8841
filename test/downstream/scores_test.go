package downstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/verifier"
)

// revocationLimit is how soon the contract has a revoked session or a
// banned player refused on every replica; a service following the feed
// keeps the same promise.
const revocationLimit = time.Second

// The leaderboard in front of a real identity service, following its feed
// with the studio's API key.
func TestScores(t *testing.T) {
	svc := harness.StartService(t)
	studio := harness.NewTenant(t, svc)
	v := newVerifier(t, svc.URL, verifier.Config{})
	follow(t, v, verifier.FeedConfig{APIKey: studio.Key.Key})
	board := serve(t, NewScores(studio.Game.ID, 100), v)

	t.Run("a player's token is accepted", func(t *testing.T) {
		s := signIn(t, svc, studio.Game.ID)
		if status := postScore(t, board, s.AccessToken, `{"score": 42}`); status != http.StatusNoContent {
			t.Fatalf("POST /scores: %d", status)
		}
		if got, want := scoreOf(topScores(t, board, s.AccessToken), s.Identity.PlayerID), int64(42); got != want {
			t.Fatalf("the board shows %d for the player, want %d", got, want)
		}
		if status := postScore(t, board, "", `{"score": 1}`); status != http.StatusUnauthorized {
			t.Fatalf("POST /scores without a token: %d", status)
		}
		other := harness.NewGame(t, studio.Client, client.CreateGameRequest{Name: "Other Game"})
		if status := postScore(t, board, signIn(t, svc, other.ID).AccessToken, `{"score": 1}`); status != http.StatusForbidden {
			t.Fatalf("POST /scores with a token of another game: %d", status)
		}
	})

	t.Run("a signed-out player's token is refused", func(t *testing.T) {
		s := signIn(t, svc, studio.Game.ID)
		if status := postScore(t, board, s.AccessToken, `{"score": 7}`); status != http.StatusNoContent {
			t.Fatalf("POST /scores: %d", status)
		}
		if err := svc.Anonymous().Player(s).SignOut(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Logf("refused %v after the sign-out", refusedWithin(t, board, s.AccessToken))
	})

	t.Run("a banned player's token is refused", func(t *testing.T) {
		s := signIn(t, svc, studio.Game.ID)
		if status := postScore(t, board, s.AccessToken, `{"score": 7}`); status != http.StatusNoContent {
			t.Fatalf("POST /scores: %d", status)
		}
		if _, err := studio.Client.BanPlayer(t.Context(), s.Identity.PlayerID, client.CreateBanRequest{Reason: "cheating"}); err != nil {
			t.Fatal(err)
		}
		t.Logf("refused %v after the ban", refusedWithin(t, board, s.AccessToken))
	})

	t.Run("the board is bounded", func(t *testing.T) {
		small := serve(t, NewScores(studio.Game.ID, 2), v)
		players := make([]client.SignInResponse, 3)
		for i := range players {
			players[i] = signIn(t, svc, studio.Game.ID)
			if status := postScore(t, small, players[i].AccessToken, fmt.Sprintf(`{"score": %d}`, 10*(i+1))); status != http.StatusNoContent {
				t.Fatalf("POST /scores: %d", status)
			}
		}
		// A worse score neither replaces a player's best nor takes a place.
		postScore(t, small, players[2].AccessToken, `{"score": 1}`)
		postScore(t, small, players[0].AccessToken, `{"score": 5}`)
		want := []Score{{players[2].Identity.PlayerID, 30}, {players[1].Identity.PlayerID, 20}}
		if got := topScores(t, small, players[0].AccessToken); !slices.Equal(got, want) {
			t.Fatalf("the board holds %v, want %v", got, want)
		}
		large := `{"score": 1` + strings.Repeat(" ", maxScoreBody) + `}`
		if status := postScore(t, small, players[0].AccessToken, large); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST /scores with a body of %d bytes: %d", len(large), status)
		}
		if status := postScore(t, small, players[0].AccessToken, `{"score": 1.5}`); status != http.StatusBadRequest {
			t.Fatalf("POST /scores with a fraction: %d", status)
		}
	})
}

// While the verifier cannot read the feed, a revoked token is accepted
// until it expires: that is what the verifier promises instead of refusing
// everyone, and why a service following the feed wants short-lived tokens.
func TestScoresWithTheFeedDown(t *testing.T) {
	const ttl = 3 * time.Second
	svc := harness.StartService(t, harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", ttl.String()))
	studio := harness.NewTenant(t, svc)
	var cut atomic.Bool
	errCut := errors.New("the identity service is unreachable")
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if cut.Load() {
			return nil, errCut
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	// Leeway 0 would mean the default (10 s): 1 ms refuses the token at its
	// expiry, give or take the clock's reading.
	const leeway = time.Millisecond
	v := newVerifier(t, svc.URL, verifier.Config{HTTPClient: hc, Leeway: leeway})
	follow(t, v, verifier.FeedConfig{APIKey: studio.Key.Key, Window: ttl})
	board := serve(t, NewScores(studio.Game.ID, 100), v)

	s := signIn(t, svc, studio.Game.ID)
	if status := postScore(t, board, s.AccessToken, `{"score": 1}`); status != http.StatusNoContent {
		t.Fatalf("POST /scores: %d", status)
	}
	cut.Store(true)
	// The feed is read one request at a time: once one has failed for the
	// cut, none under way can still bring the sign-out's event.
	eventually(t, "Status reports the cut", func() bool { return errors.Is(v.Status().FeedErr, errCut) })
	if err := svc.Anonymous().Player(s).SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}

	tok, err := verifier.Parse(s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	expiry := tok.Claims.ExpiresAt.Add(leeway)
	accepted := 0
	for {
		sent := time.Now()
		status := postScore(t, board, s.AccessToken, `{"score": 2}`)
		answered := time.Now()
		switch {
		case status == http.StatusNoContent && !sent.Before(expiry):
			t.Fatalf("accepted %v after its expiry", sent.Sub(expiry))
		case status == http.StatusNoContent:
			accepted++
		case status != http.StatusUnauthorized:
			t.Fatalf("POST /scores: %d", status)
		case answered.Before(expiry):
			t.Fatalf("refused %v before its expiry, with the feed down", expiry.Sub(answered))
		case accepted == 0:
			t.Fatal("the token expired before the test could send it again")
		default:
			if _, err := v.Verify(t.Context(), s.AccessToken); !errors.Is(err, verifier.ErrExpired) {
				t.Fatalf("Verify says %v, want %v: the revocation cannot be known", err, verifier.ErrExpired)
			}
			st := v.Status()
			if !errors.Is(st.FeedErr, errCut) || !st.Following {
				t.Fatalf("Status %+v after the token expired, with the feed down", st)
			}
			t.Logf("the revoked token was accepted %d times, then refused at its expiry; Status: %v", accepted, st.FeedErr)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newVerifier(t *testing.T, base string, cfg verifier.Config) *verifier.Verifier {
	t.Helper()
	cfg.BaseURL = base
	v, err := verifier.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// follow has v follow the feed until t ends, and waits for its start-up
// read of the audit log: from then on, revocations are the feed's to tell.
func follow(t *testing.T, v *verifier.Verifier, cfg verifier.FeedConfig) {
	t.Helper()
	if err := v.FollowFeed(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("the verifier's start-up read did not end: %+v", v.Status())
	}
}

// serve runs the leaderboard behind v until t ends, and returns its URL.
func serve(t *testing.T, scores *Scores, v *verifier.Verifier) string {
	srv := httptest.NewServer(scores.Handler(v))
	t.Cleanup(srv.Close)
	return srv.URL
}

// eventually waits for ok, a few seconds at most.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// signIn signs a new device in to game, as a game client does.
func signIn(t *testing.T, svc *harness.Service, game string) client.SignInResponse {
	t.Helper()
	resp, err := svc.Anonymous().Do(t.Context(), http.MethodPost, "/v1/client/sessions",
		client.SignInRequest{GameID: game, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()})
	if err != nil {
		t.Fatal(err)
	}
	var s client.SignInResponse
	if resp.Status != http.StatusCreated || json.Unmarshal(resp.Body, &s) != nil || s.AccessToken == "" {
		t.Fatalf("sign-in: %d %s", resp.Status, resp.Body)
	}
	return s
}

// refusedWithin posts scores with token until the board refuses it, and
// fails t if that takes longer than revocationLimit. It returns how long it
// took.
func refusedWithin(t *testing.T, board, token string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		switch status := postScore(t, board, token, `{"score": 8}`); {
		case status == http.StatusUnauthorized:
			return time.Since(start)
		case status != http.StatusNoContent:
			t.Fatalf("POST /scores: %d", status)
		case time.Since(start) > revocationLimit:
			t.Fatalf("still accepted %v after the revocation", time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func postScore(t *testing.T, board, token, body string) int {
	t.Helper()
	return send(t, http.MethodPost, board, token, body, nil)
}

func topScores(t *testing.T, board, token string) []Score {
	t.Helper()
	var out struct{ Scores []Score }
	if status := send(t, http.MethodGet, board, token, "", &out); status != http.StatusOK {
		t.Fatalf("GET /scores: %d", status)
	}
	return out.Scores
}

func scoreOf(board []Score, player string) int64 {
	for _, s := range board {
		if s.PlayerID == player {
			return s.Score
		}
	}
	return -1
}

// send sends a request to /scores with token (none when empty) and decodes
// a 200's body into out.
func send(t *testing.T, method, board, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, board+"/scores", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}
