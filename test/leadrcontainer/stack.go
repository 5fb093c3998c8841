package leadrcontainer

import (
	"context"
	"errors"
	"fmt"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"
)

// Stack is the service with a PostgreSQL of its own on a private network.
type Stack struct {
	*Container
	Postgres *postgres.PostgresContainer
	Network  *testcontainers.DockerNetwork
}

// RunWithPostgres starts PostgreSQL from postgresImage and the service from
// image on a new network, the service pointed at the database. opts
// customise the service's container. Terminate removes all three.
func RunWithPostgres(ctx context.Context, image, postgresImage string, opts ...testcontainers.ContainerCustomizer) (*Stack, error) {
	s := &Stack{}
	nw, err := NewNetwork(ctx)
	if err != nil {
		return s, fmt.Errorf("create network: %w", err)
	}
	s.Network = nw
	s.Postgres, err = postgres.Run(ctx, postgresImage,
		WithRunLabel(),
		network.WithNetwork([]string{"leadr-db"}, nw),
		postgres.WithDatabase("leadr"), postgres.WithUsername("leadr"), postgres.WithPassword("leadr"),
		postgres.BasicWaitStrategies())
	if err != nil {
		return s, errors.Join(fmt.Errorf("run PostgreSQL: %w", err), s.Terminate(context.Background()))
	}
	s.Container, err = Run(ctx, image, append([]testcontainers.ContainerCustomizer{
		network.WithNetwork(nil, nw),
		WithDatabaseURL("postgres://leadr:leadr@leadr-db:5432/leadr?sslmode=disable"),
	}, opts...)...)
	if err != nil {
		return s, errors.Join(err, s.Terminate(context.Background()))
	}
	return s, nil
}

// Terminate removes the service, its database and their network.
func (s *Stack) Terminate(ctx context.Context) error {
	var errs []error
	if s.Container != nil {
		errs = append(errs, s.Container.Terminate(ctx))
	}
	if s.Postgres != nil {
		errs = append(errs, s.Postgres.Terminate(ctx))
	}
	if s.Network != nil {
		errs = append(errs, s.Network.Remove(ctx))
	}
	return errors.Join(errs...)
}
