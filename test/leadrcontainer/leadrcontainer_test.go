package leadrcontainer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/leadrcontainer"
)

func TestRunWithPostgres(t *testing.T) {
	image, pg := leadrcontainer.TestImages(t)
	ctx := t.Context()
	stack, err := leadrcontainer.RunWithPostgres(ctx, image, pg)
	t.Cleanup(func() {
		if err := stack.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := stack.BaseURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, client.WithAPIKey(stack.SuperadminKey()))
	if h, err := admin.Health(ctx); err != nil || h.Database != "connected" {
		t.Fatalf("health: %+v %v", h, err)
	}
	acc, err := admin.CreateAccount(ctx, client.CreateAccountRequest{Name: "Container", Slug: "container"})
	if err != nil {
		t.Fatal(err)
	}
	game, err := admin.CreateGame(ctx, client.CreateGameRequest{AccountID: acc.ID, Name: "Container Game"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.CreateIdentity(ctx, client.CreateIdentityRequest{AccountID: acc.ID,
		GameID: game.ID, Kind: client.KindSteam, ExternalKey: "76561197960287930"}); err != nil {
		t.Fatal(err)
	}

	t.Run("the image runs as a non-root user with a health check", func(t *testing.T) {
		inspect, err := stack.Inspect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inspect.Config.User == "" || inspect.Config.User == "root" || inspect.Config.User == "0" {
			t.Fatalf("user %q", inspect.Config.User)
		}
		deadline := time.Now().Add(time.Minute)
		for inspect.State.Health == nil || inspect.State.Health.Status != "healthy" {
			if time.Now().After(deadline) {
				t.Fatalf("the container's HEALTHCHECK did not pass: %+v", inspect.State.Health)
			}
			time.Sleep(500 * time.Millisecond)
			if inspect, err = stack.Inspect(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("SIGTERM stops it cleanly", func(t *testing.T) {
		timeout := 20 * time.Second
		if err := stack.Stop(ctx, &timeout); err != nil {
			t.Fatal(err)
		}
		inspect, err := stack.Inspect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inspect.State.ExitCode != 0 {
			t.Fatalf("exit code %d after SIGTERM", inspect.State.ExitCode)
		}
		if _, err := http.Get(base + "/v1/health/live"); err == nil {
			t.Fatal("the stopped service still answers")
		}
	})
}

// With no database configured, the image runs on its embedded SQLite, as
// a downstream CI job would start it.
func TestRunWithoutDatabase(t *testing.T) {
	image, _ := leadrcontainer.TestImages(t)
	ctx := t.Context()
	c, err := leadrcontainer.Run(ctx, image)
	t.Cleanup(func() {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := c.BaseURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, client.WithAPIKey(c.SuperadminKey()))
	acc, err := admin.CreateAccount(ctx, client.CreateAccountRequest{Name: "Jam", Slug: "jam"})
	if err != nil {
		t.Fatal(err)
	}
	game, err := admin.CreateGame(ctx, client.CreateGameRequest{AccountID: acc.ID, Name: "Jam Game"})
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := admin.CreateIdentity(ctx, client.CreateIdentityRequest{AccountID: acc.ID,
		GameID: game.ID, Kind: client.KindDevice, ExternalKey: "device-in-a-container"}); err != nil || !created {
		t.Fatalf("created=%v %v", created, err)
	}
	// The metrics are on their own port, not the public one.
	metrics, err := c.MetricsURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for url, want := range map[string]int{metrics: http.StatusOK, base + "/metrics": http.StatusNotFound} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
}
