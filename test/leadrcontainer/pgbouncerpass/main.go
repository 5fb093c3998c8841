// Command pgbouncerpass starts PostgreSQL behind PgBouncer in transaction
// pooling mode for a pass of the tests through a pooler
// (scripts/go-tests.sh): it prints LEADR_TEST_DATABASE_URL=… (PgBouncer,
// marked pooler=transaction, with PostgreSQL itself as the change feed's
// direct address), keeps both until SIGTERM or SIGINT, then removes them.
// The images are LEADR_TEST_POSTGRES_IMAGE (default postgres:15) and
// LEADR_TEST_PGBOUNCER_IMAGE (required; scripts/test-images.sh builds it).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/leadr-oss/identity/test/leadrcontainer"
	"github.com/leadr-oss/identity/test/pgtest"
)

// requestTimeout is the services' LEADR_REQUEST_TIMEOUT in the tests (its
// default), whose bounds PgBouncer's server connections carry.
const requestTimeout = 5 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgbouncerpass:", err)
		os.Exit(1)
	}
}

func run() error {
	pgbouncer := os.Getenv(leadrcontainer.EnvPgBouncerImage)
	if pgbouncer == "" {
		return fmt.Errorf("%s is not set (scripts/test-images.sh builds the image)", leadrcontainer.EnvPgBouncerImage)
	}
	postgres := os.Getenv(pgtest.EnvImage)
	if postgres == "" {
		postgres = pgtest.DefaultImage
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	// As pgtest's own server: room for the parallel tests' pools, and no
	// durability a throw-away server needs. pgtest creates and drops the
	// tests' databases in the database postgres, which the services' bounds
	// would cut short on a loaded machine; every other database has them.
	p, err := leadrcontainer.RunPooled(start, postgres, pgbouncer, leadrcontainer.PooledConfig{
		PgBouncer: leadrcontainer.PgBouncerConfig{ConnectQuery: leadrcontainer.BoundsQuery(requestTimeout),
			Unbounded: []string{"postgres"}, MaxClients: 2000},
		PostgresArgs: []string{"-c", "max_connections=300", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"},
	})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Terminate(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "pgbouncerpass: remove the containers:", err)
		}
	}()
	if err != nil {
		return err
	}
	url, err := p.URL(start, "postgres")
	if err != nil {
		return err
	}
	fmt.Println(pgtest.EnvURL + "=" + url)
	<-ctx.Done()
	return nil
}
