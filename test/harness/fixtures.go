package harness

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/leadr-oss/identity/client"
)

// Unique returns a short random string for names that must not collide.
func Unique() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Tenant is an account with a regular user, that user's key, a client that
// sends it, and a game of the account to create identities in.
type Tenant struct {
	Account client.Account
	User    client.User
	Key     client.CreatedAPIKey
	Client  *client.Client
	Game    client.Game
}

// NewAccount creates an account with a unique slug; admin must be a
// superadmin's client.
func NewAccount(t testing.TB, admin *client.Client) client.Account {
	t.Helper()
	slug := "acc-" + Unique()
	a, err := admin.CreateAccount(t.Context(), client.CreateAccountRequest{Name: "Account " + slug, Slug: slug})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a
}

// NewUser creates a regular user of the account.
func NewUser(t testing.TB, c *client.Client, accountID string) client.User {
	t.Helper()
	u, err := c.CreateUser(t.Context(), client.CreateUserRequest{
		AccountID: accountID, Email: "user-" + Unique() + "@example.com", DisplayName: "Test User",
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// NewAPIKey creates a key for a user of the account.
func NewAPIKey(t testing.TB, c *client.Client, accountID, userID string) client.CreatedAPIKey {
	t.Helper()
	k, err := c.CreateAPIKey(t.Context(), client.CreateAPIKeyRequest{AccountID: accountID, UserID: userID, Name: "key " + Unique()})
	if err != nil {
		t.Fatalf("create API key: %v", err)
	}
	return k
}

// NewTenant creates an account, a user, a key and a game, through the
// superadmin.
func NewTenant(t testing.TB, s *Service) Tenant {
	t.Helper()
	admin := s.Admin()
	a := NewAccount(t, admin)
	u := NewUser(t, admin, a.ID)
	k := NewAPIKey(t, admin, a.ID, u.ID)
	c := s.Client(k.Key)
	return Tenant{Account: a, User: u, Key: k, Client: c, Game: NewGame(t, c, client.CreateGameRequest{})}
}

// NewIdentity gets or creates an identity and fails t unless it was
// created.
func NewIdentity(t testing.TB, c *client.Client, req client.CreateIdentityRequest) client.Identity {
	t.Helper()
	i, created, err := c.CreateIdentity(t.Context(), req)
	if err != nil {
		t.Fatalf("create identity: %v", err)
	}
	if !created {
		t.Fatalf("identity %s/%s already existed", req.Kind, req.ExternalKey)
	}
	return i
}

// NewGame creates a game with a unique slug through c, in its key's account
// (a superadmin's client names the account with req.AccountID).
func NewGame(t testing.TB, c *client.Client, req client.CreateGameRequest) client.Game {
	t.Helper()
	if req.Name == "" {
		req.Name = "Game " + Unique()
	}
	if req.Slug == "" {
		req.Slug = "game-" + Unique()
	}
	g, err := c.CreateGame(t.Context(), req)
	if err != nil {
		t.Fatalf("create game: %v", err)
	}
	return g
}

// NewGameID returns a fresh game ID, of no game.
func NewGameID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	h := hex.EncodeToString(b)
	return "gam_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
