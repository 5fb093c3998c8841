package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/test/pgtest"
	"github.com/leadr-oss/identity/verifier"
	"github.com/leadr-oss/identity/wire"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// oneKey is a key set of one key, which signs and is published.
type oneKey struct {
	kid id.SigningKeyID
	key *ecdsa.PrivateKey
}

func (k oneKey) Signer(time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error) {
	return k.kid, k.key, nil
}

func (k oneKey) Verifier(kid id.SigningKeyID, _ time.Time) *ecdsa.PublicKey {
	if kid != k.kid {
		return nil
	}
	return &k.key.PublicKey
}

// benchDatabase is a migrated database with one account of two games,
// as createTenants leaves it (without the users and keys the load needs).
func benchDatabase(t *testing.T) (string, *fixture) {
	t.Helper()
	dbURL := pgtest.FreshURL(t)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	acc := account{id: id.New[id.Account](), games: []id.GameID{id.New[id.Game](), id.New[id.Game]()}}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES ($1, 'Bench', 'bench', now(), now())", acc.id.UUID())
	for n, g := range acc.games {
		exec("INSERT INTO games (id, account_id, name, slug, created_at, updated_at) VALUES ($1, $2, 'Game', $3, now(), now())",
			g.UUID(), acc.id.UUID(), "game-"+string(rune('a'+n)))
	}
	return dbURL, &fixture{accounts: []account{acc}}
}

// The seed gives each identity the player the service would have made
// with it, and leaves both tables' indexes and keys as the migrations made
// them.
func TestSeedGivesEveryIdentityItsPlayer(t *testing.T) {
	dbURL, fx := benchDatabase(t)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := func() (n int) {
		t.Helper()
		err := conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM pg_indexes WHERE tablename IN ('identities', 'players'))
			+ (SELECT count(*) FROM pg_constraint WHERE conrelid IN ('identities'::regclass, 'players'::regclass))`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := schema()

	const n = 60
	src := &identitySource{fx: fx, total: n, rnd: rand.New(rand.NewPCG(1, 2)), now: time.Now(), accountGames: []int{2}}
	if err := copyIdentities(t.Context(), conn, src); err != nil {
		t.Fatal(err)
	}
	var identities, matched int
	err = conn.QueryRow(t.Context(), `SELECT count(*), count(p.id) FROM identities AS i LEFT JOIN players AS p
		ON p.id = i.player_id AND p.id = i.id AND p.account_id = i.account_id AND p.game_id = i.game_id
		AND p.created_at = i.created_at AND p.updated_at = i.created_at AND p.deleted_at IS NULL`).Scan(&identities, &matched)
	if err != nil {
		t.Fatal(err)
	}
	if identities != n || matched != n {
		t.Errorf("%d identities, %d with their player; want %d of each", identities, matched, n)
	}
	if after := schema(); after != before {
		t.Errorf("%d indexes and constraints after the seed, %d before", after, before)
	}
}

// The baseline writes what the service writes: a new identity with its
// player and both events, and a sign-in's session that a ban refuses.
func TestBaselineWritesPlayers(t *testing.T) {
	dbURL, fx := benchDatabase(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	b, err := newBaseline(pool)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.routes())
	defer srv.Close()
	acc, game := fx.accounts[0].id, fx.accounts[0].games[1]

	post := func(path string, body any, want int, out any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string, args ...any) (n int) {
		t.Helper()
		if err := pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	create := client.CreateIdentityRequest{AccountID: acc.String(), GameID: game.String(), Kind: client.KindDevice, ExternalKey: "bench-device-0001"}
	var created wire.Identity
	post("/v1/identities", create, http.StatusCreated, &created)
	identityID, _ := id.Parse[id.Identity](created.ID)
	playerID := id.FromUUID[id.Player](identityID.UUID()).String()
	if created.PlayerID != playerID {
		t.Errorf("player_id %q, want %q", created.PlayerID, playerID)
	}
	if n := count("SELECT count(*) FROM players WHERE id = $1 AND account_id = $2 AND game_id = $3", identityID.UUID(), acc.UUID(), game.UUID()); n != 1 {
		t.Errorf("%d players of the new identity", n)
	}
	var data []byte
	if err := pool.QueryRow(t.Context(), "SELECT data FROM events WHERE type = 'player.created' AND subject_type = 'player' AND subject_id = $1",
		playerID).Scan(&data); err != nil {
		t.Fatalf("player.created: %v", err)
	}
	var p wire.Player
	if err := json.Unmarshal(data, &p); err != nil || p.ID != playerID || len(p.Identities) != 1 || p.Identities[0].ID != created.ID {
		t.Errorf("player.created data %s: %v", data, err)
	}
	if n := count("SELECT count(*) FROM events WHERE type = 'identity.created' AND subject_id = $1 AND data->>'player_id' = $2", created.ID, playerID); n != 1 {
		t.Errorf("%d identity.created events naming the player", n)
	}
	var again wire.Identity
	post("/v1/identities", create, http.StatusOK, &again)
	if again.ID != created.ID || count("SELECT count(*) FROM players") != 1 {
		t.Errorf("getting the identity again: %s, %d players", again.ID, count("SELECT count(*) FROM players"))
	}

	signIn := client.SignInRequest{GameID: game.String(), Kind: client.KindDevice, ExternalKey: create.ExternalKey}
	var in wire.SignInResponse
	post("/v1/client/sessions", signIn, http.StatusCreated, &in)
	if in.Identity.ID != created.ID {
		t.Errorf("signed in as %s, want %s", in.Identity.ID, created.ID)
	}
	// The service takes the baseline's token, under the baseline's key; and
	// signing its claims itself, it writes the same header and payload, byte
	// for byte: the signatures alone differ (ECDSA's are randomised).
	parsed, err := verifier.Parse(in.AccessToken)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	kid, err := id.Parse[id.SigningKey](parsed.KID)
	if err != nil {
		t.Fatalf("kid: %v", err)
	}
	svc := tokens.New(oneKey{kid, b.tokenKey}, tokens.DefaultIssuer, tokens.WithClock(func() time.Time { return parsed.Claims.IssuedAt }))
	claims, err := svc.Verify(in.AccessToken, time.Now())
	if err != nil || claims.SessionID.String() != in.SessionID || claims.PlayerID.String() != playerID {
		t.Fatalf("access token: %+v, %v", claims, err)
	}
	theirs, err := svc.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	// What is signed, decoded: without the signature, no credential.
	signed := func(token string) string {
		h, p, _ := strings.Cut(token[:strings.LastIndexByte(token, '.')], ".")
		hb, _ := base64.RawURLEncoding.DecodeString(h)
		pb, _ := base64.RawURLEncoding.DecodeString(p)
		return string(hb) + "." + string(pb)
	}
	if signed(in.AccessToken) != signed(theirs) {
		t.Errorf("the baseline signs\n%s\nthe service\n%s", signed(in.AccessToken), signed(theirs))
	}
	if n := count("SELECT count(*) FROM events WHERE type = 'session.created' AND subject_id = $1", in.SessionID); n != 1 {
		t.Errorf("%d session.created events", n)
	}

	if _, err := pool.Exec(t.Context(), "INSERT INTO bans (id, player_id, reason, actor_type, created_at, updated_at) VALUES ($1, $2, 'cheat', 'system', now(), now())",
		id.New[id.Ban]().UUID(), identityID.UUID()); err != nil {
		t.Fatal(err)
	}
	var refused wire.PlayerBanned
	post("/v1/client/sessions", signIn, http.StatusForbidden, &refused)
	if refused.Detail != "Player is banned" || refused.ExpiresAt != nil {
		t.Errorf("banned: %+v", refused)
	}
	if n := count("SELECT count(*) FROM sessions"); n != 1 {
		t.Errorf("%d sessions after a refused sign-in, want 1", n)
	}
}
