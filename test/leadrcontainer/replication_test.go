package leadrcontainer_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/leadr-oss/identity/test/leadrcontainer"
)

// TestPrimaryWithSynchronousStandby: the PostgreSQL image runs as a primary
// and as its hot standby, which the primary counts as synchronous, and a
// row committed on the primary is read on the standby.
func TestPrimaryWithSynchronousStandby(t *testing.T) {
	t.Parallel()
	image := leadrcontainer.Image(t, "LEADR_TEST_POSTGRES_IMAGE", "postgres:15")
	ctx := t.Context()
	nw, err := leadrcontainer.NewNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nw.Remove(context.Background()) })
	primary, err := postgres.Run(ctx, image, append(leadrcontainer.PrimaryOptions(),
		network.WithNetwork([]string{"pg-primary"}, nw),
		postgres.WithDatabase("leadr"), postgres.WithUsername("leadr"), postgres.WithPassword("leadr"),
		postgres.BasicWaitStrategies(), leadrcontainer.WithRunLabel())...)
	terminateAtCleanup(t, primary)
	if err != nil {
		t.Fatal(err)
	}
	standby, err := leadrcontainer.RunStandby(ctx, image, "pg-primary:5432", "standby1", network.WithNetwork([]string{"pg-standby"}, nw))
	terminateAtCleanup(t, standby)
	if err != nil {
		t.Fatal(err)
	}

	primaryURL, err := primary.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	onPrimary := connect(t, primaryURL)
	eventually(t, "the primary streams to standby1, synchronously", func() (bool, error) {
		var name, state string
		err := onPrimary.QueryRow(ctx, "SELECT application_name, sync_state FROM pg_stat_replication").Scan(&name, &state)
		return name == "standby1" && state == "sync", err
	})
	if _, err := onPrimary.Exec(ctx, "CREATE TABLE acknowledged (n int); INSERT INTO acknowledged VALUES (42)"); err != nil {
		t.Fatal(err)
	}

	endpoint, err := standby.PortEndpoint(ctx, "5432/tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	onStandby := connect(t, "postgres://leadr:leadr@"+endpoint+"/leadr?sslmode=disable")
	var recovering bool
	if err := onStandby.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering); err != nil || !recovering {
		t.Fatalf("the standby is not in recovery: %v %v", recovering, err)
	}
	// A synchronous commit is on the standby's disk; it is visible there
	// once replayed, an instant later.
	eventually(t, "the standby shows the primary's row", func() (bool, error) {
		var n int
		err := onStandby.QueryRow(ctx, "SELECT n FROM acknowledged").Scan(&n)
		return n == 42, err
	})
}

// eventually polls until ok, and fails t when that takes longer than a
// loaded machine could need.
func eventually(t *testing.T, what string, ok func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not after 30s: %s (%v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func terminateAtCleanup(t *testing.T, c testcontainers.Container) {
	t.Cleanup(func() {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
	})
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
