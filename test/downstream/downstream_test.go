package downstream

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/leadrcontainer"
	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A leaderboard feature needs players: the test gets them from a real
// service started in process by the harness.
func TestWithTheHarness(t *testing.T) {
	svc := harness.StartService(t)
	studio := harness.NewTenant(t, svc)
	game := studio.Game.ID
	player := harness.NewIdentity(t, studio.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287930"})

	again, created, err := studio.Client.CreateIdentity(t.Context(), client.CreateIdentityRequest{GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287930"})
	if err != nil || created || again.ID != player.ID {
		t.Fatalf("the same player came back as %+v (created=%v, %v)", again, created, err)
	}
	other := harness.NewTenant(t, svc)
	_, err = other.Client.GetIdentity(t.Context(), player.ID)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("another studio reads the player: %v", err)
	}
}

// The same, against the service's image, as a system test would.
func TestWithTheContainer(t *testing.T) {
	image, pgImage := leadrcontainer.TestImages(t)
	stack, err := leadrcontainer.RunWithPostgres(t.Context(), image, pgImage)
	t.Cleanup(func() { _ = stack.Terminate(context.Background()) })
	if err != nil {
		t.Fatal(err)
	}
	base, err := stack.BaseURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, client.WithAPIKey(stack.SuperadminKey()))
	acc, err := admin.CreateAccount(t.Context(), client.CreateAccountRequest{Name: "Studio", Slug: "studio"})
	if err != nil {
		t.Fatal(err)
	}
	// One device in three games: three identities.
	var n int
	for range 3 {
		n++
		game, err := admin.CreateGame(t.Context(), client.CreateGameRequest{AccountID: acc.ID, Name: "Studio Game"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := admin.CreateIdentity(t.Context(), client.CreateIdentityRequest{AccountID: acc.ID,
			GameID: game.ID, Kind: client.KindDevice, ExternalKey: "device-downstream"}); err != nil {
			t.Fatal(err)
		}
	}
	count := 0
	for _, err := range admin.Identities(t.Context(), client.ListIdentitiesParams{AccountID: acc.ID, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != n {
		t.Fatalf("the iterator saw %d identities, want %d", count, n)
	}
}
