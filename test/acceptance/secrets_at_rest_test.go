package acceptance

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/migrations"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/steamfake"
)

// dump is what a copy of a service's database shows, read while it runs.
type dump struct {
	db      *store.DB
	secrets map[string][]byte // the rows of the generated secrets, as stored
}

func dumpOf(t *testing.T, svc *harness.Service) dump {
	t.Helper()
	db, err := store.Open(svc.DatabaseURL, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var rows []struct {
		Name  string
		Value []byte
	}
	if err := db.Bun().NewRaw("SELECT name, value FROM sealed_secrets").Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	d := dump{db: db, secrets: map[string][]byte{}}
	for _, r := range rows {
		d.secrets[r.Name] = r.Value
	}
	return d
}

func (d dump) steamKey(t *testing.T, gameID string) []byte {
	t.Helper()
	var sealed []byte
	if err := d.db.Bun().NewRaw("SELECT steam_web_api_key FROM games WHERE id = ?", uuidOf(gameID)).Scan(t.Context(), &sealed); err != nil {
		t.Fatal(err)
	}
	return sealed
}

// storedSigningKey is a row of signing_keys as stored.
type storedSigningKey struct {
	ID      string `bun:"id"`
	Public  []byte `bun:"public_key"`
	Private []byte `bun:"private_key"`
}

// signingKeys are the stored signing keys by kid.
func (d dump) signingKeys(t *testing.T) map[string]storedSigningKey {
	t.Helper()
	var rows []storedSigningKey
	if err := d.db.Bun().NewRaw("SELECT id, public_key, private_key FROM signing_keys").Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	keys := map[string]storedSigningKey{}
	for _, r := range rows {
		keys["sgk_"+r.ID] = r
	}
	return keys
}

// keyHashes counts the API keys stored with hash.
func (d dump) keyHashes(t *testing.T, hash []byte) int {
	t.Helper()
	var n int
	if err := d.db.Bun().NewRaw("SELECT count(*) FROM api_keys WHERE key_hash = ?", hash).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// vault opens the dump's secrets with rootKey, as the service does.
func (d dump) vault(rootKey []byte) *sealing.Vault {
	return sealing.NewVault(store.NewSecrets(store.New(d.db)), rootKey)
}

// uuidOf is the UUID of a prefixed ID (gam_…).
func uuidOf(prefixed string) string {
	_, u, _ := strings.Cut(prefixed, "_")
	return u
}

// rootKeyOf is the key svc seals its secrets under: the harness's
// LEADR_ENCRYPTION_KEY on PostgreSQL, the key file beside an SQLite one.
func rootKeyOf(t *testing.T, svc *harness.Service) []byte {
	t.Helper()
	path, ok := store.SQLiteFile(svc.DatabaseURL)
	if !ok {
		return []byte(harness.EncryptionKey)
	}
	key, err := store.ReadKeyFile(path + ".key")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestDatabaseDumpOpensNothing: whoever copies the database, without the
// key, holds stored secrets that hash no API key and open no Steam key, and
// signing keys whose private parts sign nothing; opened with another key
// they do not open at all. The right key opens them, so they are the
// secrets and the keys the service uses.
func TestDatabaseDumpOpensNothing(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()))
	tenant := harness.NewTenant(t, svc)
	webAPIKey := steamKey()
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(webAPIKey)})
	s := deviceSignIn(t, svc, g.ID, newDevice())
	bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)

	hook := newWebhook(t, tenant.Client, "https://93.184.216.34/hook", "player.banned")
	hookKey, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.Secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}

	d := dumpOf(t, svc)
	var sealedHookKey []byte
	if err := d.db.Bun().NewRaw("SELECT secret FROM webhooks WHERE id = ?", uuidOf(hook.ID)).Scan(t.Context(), &sealedHookKey); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealedHookKey, hookKey) || bytes.Contains(sealedHookKey, []byte(hook.Secret)) {
		t.Error("the webhooks table holds the webhook secret in plaintext")
	}
	for _, name := range []string{"api_key_pepper", "cursor_secret", sealing.CredentialsKey} {
		if len(d.secrets[name]) == 0 {
			t.Fatalf("no %s stored", name)
		}
	}
	// Nothing signs HS256 on a database that no earlier version used.
	if _, ok := d.secrets["access_token_secret"]; ok {
		t.Error("a new database holds an access-token secret")
	}
	sealedSteamKey := d.steamKey(t, g.ID)
	kid := kidOf(t, s.AccessToken)
	stored := d.signingKeys(t)
	published, _ := publishedKeys(t, svc)
	if len(stored) != 1 || len(published) != 1 || published[kid] == nil {
		t.Fatalf("%d signing keys stored, %v published, the token's is %s", len(stored), published, kid)
	}
	row := stored[kid]
	if pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), row.Public); err != nil || !pub.Equal(published[kid]) {
		t.Fatalf("the stored public key is not the published one (%v)", err)
	}

	// What the copy gives, taken as the secrets themselves.
	if n := d.keyHashes(t, auth.NewHasher(d.secrets["api_key_pepper"]).Hash(tenant.Key.Key)); n != 0 {
		t.Error("the stored pepper hashes the tenant's API key as the database holds it")
	}
	if _, err := sealing.NewCipher(d.secrets[sealing.CredentialsKey]).Open(row.Private, []byte("signing key "+kid)); err == nil {
		t.Error("the stored credentials key opens the private signing key")
	}
	if bytes.Contains(sealedSteamKey, []byte(webAPIKey)) {
		t.Error("the games table holds the Steam key in plaintext")
	}
	if _, err := sealing.NewCipher(d.secrets[sealing.CredentialsKey]).Open(sealedSteamKey, []byte(g.ID)); err == nil {
		t.Error("the stored credentials key opens the game's Steam key")
	}

	// Another key opens none of them.
	wrong := d.vault([]byte("a-guess-at-the-encryption-key-0000000000"))
	for name := range d.secrets {
		if _, err := wrong.Secret(t.Context(), name, sealing.RandomKey); err == nil {
			t.Errorf("%s opens with another key", name)
		}
	}

	// The right key opens them: they are what the service uses.
	right := d.vault(rootKeyOf(t, svc))
	pepper, err := right.Secret(t.Context(), "api_key_pepper", sealing.RandomKey)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.keyHashes(t, auth.NewHasher(pepper).Hash(tenant.Key.Key)); n != 1 {
		t.Fatalf("the opened pepper hashes the tenant's key into %d rows, want 1", n)
	}
	// The private key the right key opens is the published key's, and signs
	// tokens the service accepts.
	key := signingKey(t, svc, kid)
	if !key.PublicKey.Equal(published[kid]) {
		t.Fatal("the opened private key is not the published key's")
	}
	scalar, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{string(scalar), hex.EncodeToString(scalar), base64.RawURLEncoding.EncodeToString(scalar), base64.StdEncoding.EncodeToString(scalar)} {
		if bytes.Contains(row.Private, []byte(plain)) {
			t.Fatal("the signing_keys row holds the private key in plaintext")
		}
	}
	header, payload, _ := jwtParts(t, s.AccessToken)
	me(t, svc, es256(t, key, header, payload)).Want(http.StatusOK)
	credentials, err := right.Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := credentials.Open(sealedSteamKey, []byte(g.ID)); err != nil || string(got) != webAPIKey {
		t.Fatalf("the opened credentials key does not open the Steam key: %v", err)
	}
	if got, err := credentials.Open(sealedHookKey, []byte(hook.ID)); err != nil || !bytes.Equal(got, hookKey) {
		t.Fatalf("the opened credentials key does not open the webhook secret: %v", err)
	}
}

// TestUpgradeOfPlaintextSecrets: a database as an earlier version left it,
// its generated secrets in plaintext and a game's Steam key sealed under
// the plaintext "encryption_key", is sealed at the first start with the
// key, and every API key, cursor, access and refresh token and Steam key
// made before still works; nothing of the plaintext remains.
func TestUpgradeOfPlaintextSecrets(t *testing.T) {
	t.Parallel()
	secret := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	pepper, cursorSecret, tokenSecret, oldKey := secret(), secret(), secret(), sealing.RandomKey()
	fake := steamfake.New(t)
	// The credentials are made by a service running with the secrets the
	// earlier version had generated.
	before := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()),
		harness.WithEnv("LEADR_API_KEY_PEPPER", pepper), harness.WithEnv("LEADR_CURSOR_SECRET", cursorSecret),
		harness.WithEnv("LEADR_ACCESS_TOKEN_SECRET", tokenSecret))
	tenant := harness.NewTenant(t, before)
	webAPIKey := steamKey()
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(webAPIKey)})
	for range 3 {
		harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: g.ID, Kind: client.KindCustom, ExternalKey: "custom-" + harness.Unique()})
	}
	first, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: g.ID, Limit: 1})
	if err != nil || first.Pagination.NextCursor == nil {
		t.Fatalf("first page: %+v %v", first, err)
	}
	s := deviceSignIn(t, before, g.ID, newDevice())
	// The access token the earlier version would have issued for it.
	view, _ := sessionOf(t, tenant.Client, s.SessionID)
	oldToken := hsToken(t, jwt.SigningMethodHS256, []byte(tokenSecret), legacyClaims(s, view.ExpiresAt))
	before.Stop(t)

	// The database as the earlier version left it.
	d := dumpOf(t, before)
	sealedSteamKey := d.steamKey(t, g.ID)
	credentials, err := d.vault(rootKeyOf(t, before)).Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sqlite := strings.HasPrefix(before.DatabaseURL, "sqlite:")
	down, err := fs.ReadFile(migrations.For(sqlite), "20261207000003_sealed_secrets.tx.down.sql")
	if err != nil {
		t.Fatal(err)
	}
	downKeys, err := fs.ReadFile(migrations.For(sqlite), "20261208000001_signing_keys.tx.down.sql")
	if err != nil {
		t.Fatal(err)
	}
	plainSteamKey, err := credentials.Open(sealedSteamKey, []byte(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	oldSealed := sealing.NewCipher(oldKey).Seal(plainSteamKey, []byte(g.ID))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"DELETE FROM sealed_secrets", nil},
		{string(downKeys), nil},
		{"DELETE FROM bun_migrations WHERE name = '20261208000001'", nil},
		{string(down), nil},
		{"DELETE FROM bun_migrations WHERE name = '20261207000003'", nil},
		{"UPDATE games SET steam_web_api_key = ? WHERE id = ?", []any{oldSealed, uuidOf(g.ID)}},
		{"INSERT INTO service_secrets (name, value, created_at) VALUES ('api_key_pepper', ?, CURRENT_TIMESTAMP), " +
			"('cursor_secret', ?, CURRENT_TIMESTAMP), ('access_token_secret', ?, CURRENT_TIMESTAMP), ('encryption_key', ?, CURRENT_TIMESTAMP)",
			[]any{[]byte(pepper), []byte(cursorSecret), []byte(tokenSecret), oldKey}},
	} {
		if _, err := d.db.Bun().ExecContext(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%.60s: %v", q.sql, err)
		}
	}

	// The first start with the key, configured with none of the secrets.
	after := harness.StartService(t, harness.WithDatabaseURL(before.DatabaseURL), harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()))
	keyed := after.Client(tenant.Key.Key)
	next, err := keyed.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: g.ID, Limit: 1, Cursor: *first.Pagination.NextCursor})
	if err != nil || len(next.Data) != 1 || next.Data[0].ID == first.Data[0].ID {
		t.Fatalf("the API key and the cursor made before: %+v %v", next, err)
	}
	bearer(t, after, oldToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	checkRefresh(t, refreshWith(t, after, s.RefreshToken), s.SessionID)
	fake.ExpectKey("480", webAPIKey)
	fake.Ticket("00c0ffee", steamfake.Player{SteamID: steamfake.SteamID64(4242)})
	checkSignIn(t, bearer(t, after, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "STEAM", "steam_ticket": "00c0ffee"}))

	// Nothing of the plaintext remains.
	sealed := dumpOf(t, after)
	var tables int
	q := "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('service_secrets', 'legacy_secrets')"
	if sqlite {
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('service_secrets', 'legacy_secrets')"
	}
	if err := sealed.db.Bun().NewRaw(q).Scan(t.Context(), &tables); err != nil || tables != 0 {
		t.Fatalf("%d plaintext secrets' tables remain (%v)", tables, err)
	}
	for name, value := range sealed.secrets {
		for _, plain := range [][]byte{[]byte(pepper), []byte(cursorSecret), []byte(tokenSecret), oldKey} {
			if bytes.Contains(value, plain) {
				t.Errorf("%s is stored in plaintext", name)
			}
		}
	}
	if _, err := sealing.NewCipher(oldKey).Open(sealed.steamKey(t, g.ID), []byte(g.ID)); err == nil {
		t.Error("the old plaintext key still opens the Steam key")
	}
	// Nor in a copy of the files, taken while the service runs: what the
	// conversion freed is zeroed, and the write-ahead log emptied.
	if path, ok := store.SQLiteFile(after.DatabaseURL); ok {
		for _, file := range []string{path, path + "-wal"} {
			raw, err := os.ReadFile(file)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			for i, old := range [][]byte{[]byte(pepper), []byte(cursorSecret), []byte(tokenSecret), oldKey, oldSealed} {
				if bytes.Contains(raw, old) {
					t.Errorf("%s holds secret %d of the earlier version", filepath.Base(file), i)
				}
			}
		}
	}
}
