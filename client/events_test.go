package client_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// A consumer follows the change feed while the studio creates identities,
// stops, and resumes from the last event it saved: it hears each one once.
func TestFollowEvents(t *testing.T) {
	svc := harness.StartService(t, harness.WithDatabaseURL("sqlite:"+filepath.Join(t.TempDir(), "leadr.db")))
	tenant := harness.NewTenant(t, svc)
	create := func() string {
		return harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{
			GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "c-" + harness.Unique()}).ID
	}
	follow := func(after string, want map[string]bool) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for e, err := range tenant.Client.FollowEvents(ctx, client.FeedParams{Type: "identity.created", After: after, Limit: 2}, 10*time.Millisecond) {
			if err != nil {
				t.Fatalf("following the feed: %v (still waiting for %v)", err, want)
			}
			if !want[e.Subject.ID] {
				t.Fatalf("heard %s of %s, not one of %v", e.Type, e.Subject.ID, want)
			}
			delete(want, e.Subject.ID)
			after = e.ID
			if len(want) == 0 {
				return after
			}
		}
		t.Fatal("the feed ended")
		return ""
	}
	first := map[string]bool{create(): true, create(): true, create(): true}
	saved := follow("", first)
	later := map[string]bool{create(): true, create(): true}
	follow(saved, later)
}
