package verifier_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/leadr-oss/identity/verifier"
)

// A token the service issued at 2026-03-01T12:00:00Z for 15 minutes, and
// the public half of the key that signed it.
const (
	token = "eyJhbGciOiJFUzI1NiIsImtpZCI6InNna18wMTk1YTFiMi1jM2Q0LTdlNWYtOGE2Yi03YzhkOWUwZjFhMmIiLCJ0eXAiOiJKV1QifQ." +
		"eyJpc3MiOiJsZWFkciIsImF1ZCI6ImxlYWRyIiwic3ViIjoiaWRlXzAxOTVhMWIyLWMzZDQtN2U1Zi04YTZiLTAwMDAwMDAwMDAwMSIsInNpZCI6" +
		"InNlc18wMTk1YTFiMi1jM2Q0LTdlNWYtOGE2Yi0wMDAwMDAwMDAwMDIiLCJwbHkiOiJwbHlfMDE5NWExYjItYzNkNC03ZTVmLThhNmItMDAwMDAw" +
		"MDAwMDAzIiwiYWNjIjoiYWNjXzAxOTVhMWIyLWMzZDQtN2U1Zi04YTZiLTAwMDAwMDAwMDAwNCIsImdhbSI6ImdhbV8wMTk1YTFiMi1jM2Q0LTdl" +
		"NWYtOGE2Yi0wMDAwMDAwMDAwMDUiLCJpYXQiOjE3NzIzNjY0MDAsImV4cCI6MTc3MjM2NzMwMH0." +
		"prLuvVUvVSG4koRH5kxavyiZmgDwXuaw3Lh8dTsFrGlZuNlPR6JIMw_KTDfIok3bXylbundYJoXhlFWERiOShQ"
	kid  = "sgk_0195a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
	keyX = "zCv377FSM6G_YbLRXU4qiuO65SYFW36ONX7Ycyyd1Ng"
	keyY = "Ui_boXh7zONU4VYnLvVYt9hx8jjlljw5_GAjv7RnpXE"
)

// A leaderboard's score endpoint, open to signed-in players only.
func Example() {
	// The identity service; here a stand-in that publishes its key set.
	identity := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fmt.Fprintf(w, `{"keys":[{"kty":"EC","crv":"P-256","kid":%q,"use":"sig","alg":"ES256","x":%q,"y":%q}]}`, kid, keyX, keyY)
	}))
	defer identity.Close()

	v, err := verifier.New(verifier.Config{
		BaseURL: identity.URL,
		Now:     func() time.Time { return time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC) }, // a clock for the example only
	})
	if err != nil {
		log.Fatal(err)
	}
	// Revocations too (needs an API key that reads the account's events):
	//   err = v.FollowFeed(ctx, verifier.FeedConfig{APIKey: os.Getenv("LEADR_API_KEY")})

	scores := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "score recorded for %s", claims.PlayerID)
	}))

	for _, authorization := range []string{"Bearer " + token, "", "Bearer " + token[:len(token)-2]} {
		r := httptest.NewRequest(http.MethodPost, "/scores", nil)
		r.Header.Set("Authorization", authorization)
		w := httptest.NewRecorder()
		scores.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body)
	}
	// Output:
	// 200 score recorded for ply_0195a1b2-c3d4-7e5f-8a6b-000000000003
	// 401 {"detail":"Access token required"}
	// 401 {"detail":"Invalid or expired access token"}
}

// The low level, with no network: how the identity service itself reads
// the tokens it issued.
func ExampleParse() {
	tok, err := verifier.Parse(token)
	if err != nil {
		log.Fatal(err)
	}
	// The key the token names, from wherever the caller keeps its keys.
	x, _ := base64.RawURLEncoding.DecodeString(keyX)
	y, _ := base64.RawURLEncoding.DecodeString(keyY)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil || tok.KID != kid {
		log.Fatal("no such key")
	}
	if err := tok.VerifySignature(pub); err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	if err := tok.Claims.Check(now, "leadr", "leadr", 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Claims.SessionID, tok.Claims.ExpiresAt)
	fmt.Println(tok.Claims.Check(now.Add(15*time.Minute), "leadr", "leadr", 0))
	// Output:
	// ses_0195a1b2-c3d4-7e5f-8a6b-000000000002 2026-03-01 12:15:00 +0000 UTC
	// verifier: access token expired
}
