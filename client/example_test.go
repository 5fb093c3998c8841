package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/leadr-oss/identity/client"
)

// A game server signs a player in, renames them, and lists the game's
// Steam players.
func Example() {
	ctx := context.Background()
	c := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("LEADR_API_KEY")))
	game := "gam_0195f2a0-0000-7000-8000-000000000001"

	player, created, err := c.CreateIdentity(ctx, client.CreateIdentityRequest{
		GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287930",
	})
	var apiErr *client.Error
	switch {
	case errors.As(err, &apiErr):
		fmt.Println("refused:", apiErr.Status, apiErr.Detail, apiErr.Problems)
		return
	case err != nil:
		fmt.Println("unreachable:", err)
		return
	}
	fmt.Println(player.ID, "created:", created)

	name := "Gordon"
	if _, err := c.UpdateIdentity(ctx, player.ID, client.UpdateIdentityRequest{DisplayName: &name}); err != nil {
		fmt.Println(err)
	}

	// The iterator follows the cursors, page after page.
	for identity, err := range c.Identities(ctx, client.ListIdentitiesParams{GameID: game, Kind: client.KindSteam, Sort: "display_name:asc"}) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(identity.ExternalKey, identity.DisplayName)
	}
}
