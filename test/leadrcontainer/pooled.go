package leadrcontainer

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"
)

// The names PostgreSQL and PgBouncer have on a Pooled network, and the user,
// password and database of its PostgreSQL (a superuser, who may create
// databases).
const (
	PooledPostgresHost  = "leadr-db"
	PooledPgBouncerHost = "leadr-pgbouncer"
	PooledUser          = "leadr"
)

// Pooled is PostgreSQL behind PgBouncer in transaction pooling mode, on a
// private network.
type Pooled struct {
	Network   *testcontainers.DockerNetwork
	Postgres  *postgres.PostgresContainer
	PgBouncer *PgBouncer
}

// PooledConfig shapes a Pooled. PgBouncer's Server and Users are set by
// RunPooled; PostgresArgs are the server's -c options.
type PooledConfig struct {
	PgBouncer    PgBouncerConfig
	PostgresArgs []string
}

// RunPooled starts PostgreSQL and PgBouncer on a new network. Terminate
// removes them.
func RunPooled(ctx context.Context, postgresImage, pgbouncerImage string, cfg PooledConfig) (*Pooled, error) {
	p := &Pooled{}
	nw, err := NewNetwork(ctx)
	if err != nil {
		return p, fmt.Errorf("create network: %w", err)
	}
	p.Network = nw
	p.Postgres, err = postgres.Run(ctx, postgresImage,
		WithRunLabel(), network.WithNetwork([]string{PooledPostgresHost}, nw),
		postgres.WithDatabase(PooledUser), postgres.WithUsername(PooledUser), postgres.WithPassword(PooledUser),
		postgres.BasicWaitStrategies(), testcontainers.WithCmdArgs(cfg.PostgresArgs...))
	if err != nil {
		return p, errors.Join(fmt.Errorf("run PostgreSQL: %w", err), p.Terminate(context.Background()))
	}
	cfg.PgBouncer.Server = PooledPostgresHost + ":5432"
	cfg.PgBouncer.Users = map[string]string{PooledUser: PooledUser}
	p.PgBouncer, err = RunPgBouncer(ctx, pgbouncerImage, cfg.PgBouncer, network.WithNetwork([]string{PooledPgBouncerHost}, nw))
	if err != nil {
		return p, errors.Join(err, p.Terminate(context.Background()))
	}
	return p, nil
}

// pooledURL is the URL of database through PgBouncer, marked as a
// transaction pooler, with PostgreSQL itself as the change feed's direct
// address.
func pooledURL(pgbouncer, postgres, database string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&pooler=transaction&direct=%s",
		PooledUser, PooledUser, pgbouncer, database, postgres)
}

// NetworkURL is the URL of database (a LEADR_DATABASE_URL) as a container
// on the network sees it.
func (p *Pooled) NetworkURL(database string) string {
	return pooledURL(PooledPgBouncerHost+":6432", PooledPostgresHost+":5432", database)
}

// URL is the URL of database (a LEADR_DATABASE_URL) as the host sees it.
func (p *Pooled) URL(ctx context.Context, database string) (string, error) {
	pgbouncer, err := p.PgBouncer.Address(ctx)
	if err != nil {
		return "", err
	}
	host, err := p.Postgres.Host(ctx)
	if err != nil {
		return "", err
	}
	port, err := p.Postgres.MappedPort(ctx, "5432/tcp")
	if err != nil {
		return "", err
	}
	return pooledURL(pgbouncer, net.JoinHostPort(host, port.Port()), database), nil
}

// Terminate removes PgBouncer, PostgreSQL and their network.
func (p *Pooled) Terminate(ctx context.Context) error {
	var errs []error
	if p.PgBouncer != nil {
		errs = append(errs, p.PgBouncer.Terminate(ctx))
	}
	if p.Postgres != nil {
		errs = append(errs, p.Postgres.Terminate(ctx))
	}
	if p.Network != nil {
		errs = append(errs, p.Network.Remove(ctx))
	}
	return errors.Join(errs...)
}
