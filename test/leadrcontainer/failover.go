package leadrcontainer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"
)

// The names a Replicated pair has on its network (the standby's is also
// its application_name, which the primary's synchronous_standby_names
// matches), and its user, password and database.
const (
	ReplicatedPrimaryHost = "primary"
	ReplicatedStandbyHost = "standby1"
	ReplicatedUser        = "leadr"
)

// Replicated is a primary and a streaming standby that confirms its
// commits (synchronous replication), on a private network.
type Replicated struct {
	Network *testcontainers.DockerNetwork
	Primary *postgres.PostgresContainer
	Standby testcontainers.Container
}

// RunReplicated starts the pair from a PostgreSQL image and returns once
// the primary counts the standby as synchronous: from then on, a commit
// acknowledged by the primary is on the standby's disk too. Terminate
// removes them.
func RunReplicated(ctx context.Context, image string) (*Replicated, error) {
	r := &Replicated{}
	fail := func(err error) (*Replicated, error) { return r, errors.Join(err, r.Terminate(context.Background())) }
	nw, err := NewNetwork(ctx)
	if err != nil {
		return r, fmt.Errorf("create network: %w", err)
	}
	r.Network = nw
	r.Primary, err = postgres.Run(ctx, image, append(PrimaryOptions(), WithRunLabel(),
		network.WithNetwork([]string{ReplicatedPrimaryHost}, nw),
		postgres.WithDatabase(ReplicatedUser), postgres.WithUsername(ReplicatedUser), postgres.WithPassword(ReplicatedUser),
		postgres.BasicWaitStrategies())...)
	if err != nil {
		return fail(fmt.Errorf("run the primary: %w", err))
	}
	r.Standby, err = RunStandby(ctx, image, ReplicatedPrimaryHost+":5432", ReplicatedStandbyHost,
		network.WithNetwork([]string{ReplicatedStandbyHost}, nw))
	if err != nil {
		return fail(err)
	}
	primary, err := r.connect(ctx, r.Primary)
	if err != nil {
		return fail(err)
	}
	defer primary.Close(context.Background())
	deadline := time.Now().Add(time.Minute)
	for {
		var state string
		err := primary.QueryRow(ctx, "SELECT sync_state FROM pg_stat_replication WHERE application_name = $1",
			ReplicatedStandbyHost).Scan(&state)
		if state == "sync" {
			return r, nil
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("the standby is not synchronous after a minute (%q, %v)", state, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// NetworkURL is the URL a container on the network reaches the database
// with: both servers, in order, the first one that takes writes chosen
// (target_session_attrs=read-write), so that a standby promoted in the
// primary's place is found without a change of URL.
func (r *Replicated) NetworkURL() string {
	return fmt.Sprintf("postgres://%s:%s@%s:5432,%s:5432/%s?target_session_attrs=read-write&sslmode=disable",
		ReplicatedUser, ReplicatedUser, ReplicatedPrimaryHost, ReplicatedStandbyHost, ReplicatedUser)
}

// CrashPrimary kills the primary at once, as a machine lost would: no
// shutdown, no word to its clients (docker stop with no grace: SIGKILL
// right after the stop signal, before the server can act on it).
func (r *Replicated) CrashPrimary(ctx context.Context) error {
	var now time.Duration
	return r.Primary.Stop(ctx, &now)
}

// PromoteStandby makes the standby the primary, as an operator (or
// Patroni) does once the old primary is fenced off. First it stops waiting
// for a synchronous standby: the standby's configuration, cloned from the
// primary, names one (synchronous_standby_names), and a new primary with
// none connected would hold every commit forever. Then it promotes
// (pg_promote waits until the server takes writes).
func (r *Replicated) PromoteStandby(ctx context.Context) error {
	conn, err := r.connect(ctx, r.Standby)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{"ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	var promoted bool
	if err := conn.QueryRow(ctx, "SELECT pg_promote()").Scan(&promoted); err != nil || !promoted {
		return fmt.Errorf("pg_promote: %v, %w", promoted, err)
	}
	return nil
}

func (r *Replicated) connect(ctx context.Context, c testcontainers.Container) (*pgx.Conn, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return nil, err
	}
	port, err := c.MappedPort(ctx, "5432/tcp")
	if err != nil {
		return nil, err
	}
	return pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", ReplicatedUser, ReplicatedUser,
		net.JoinHostPort(host, port.Port()), ReplicatedUser))
}

// Terminate removes both servers and their network.
func (r *Replicated) Terminate(ctx context.Context) error {
	var errs []error
	if r.Standby != nil {
		errs = append(errs, r.Standby.Terminate(ctx))
	}
	if r.Primary != nil {
		errs = append(errs, r.Primary.Terminate(ctx))
	}
	if r.Network != nil {
		errs = append(errs, r.Network.Remove(ctx))
	}
	return errors.Join(errs...)
}
