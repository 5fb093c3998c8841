// Package leadrcontainer is a testcontainers-go module for the LEADR
// identity service: a downstream suite starts the service's image next to
// its own code and talks to it over HTTP.
//
//	nw, _ := network.New(ctx)
//	pg, _ := postgres.Run(ctx, "postgres:15", network.WithNetwork([]string{"db"}, nw), …)
//	leadr, _ := leadrcontainer.Run(ctx, "leadr-identity:latest", network.WithNetwork(nil, nw),
//		leadrcontainer.WithDatabaseURL("postgres://postgres:postgres@db:5432/postgres?sslmode=disable"))
//	base, _ := leadr.BaseURL(ctx)
//	c := client.New(base, client.WithAPIKey(leadr.SuperadminKey()))
package leadrcontainer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/leadr-oss/identity/domain/tenancy"
)

// Port is the service's port inside the container.
const Port = "8080/tcp"

// MetricsPort is its private listener's, which serves /metrics
// (LEADR_METRICS_ADDR): the public port does not.
const MetricsPort = "9090/tcp"

// EnvRunID is read as in pgtest: when set, the container is labelled
// org.leadr.test.run=<id>.
const EnvRunID = "LEADR_TEST_RUN_ID"

// Container is a running service.
type Container struct {
	testcontainers.Container
	superadminKey string
	encryptionKey string
}

// WithDatabaseURL points the service at its PostgreSQL, as the container
// sees it (a network alias, not localhost).
func WithDatabaseURL(u string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"LEADR_DATABASE_URL": u})
}

// WithSuperadminKey chooses the bootstrap superadmin key instead of a
// generated one.
func WithSuperadminKey(key string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"LEADR_SUPERADMIN_API_KEY": key})
}

// WithEncryptionKey chooses LEADR_ENCRYPTION_KEY, the key the service's
// secrets are sealed under, instead of a generated one: replicas of one
// database need the same.
func WithEncryptionKey(key string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"LEADR_ENCRYPTION_KEY": key})
}

// NewEncryptionKey makes a key for WithEncryptionKey, as an operator would
// (head -c 32 /dev/urandom | base64).
func NewEncryptionKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// WithConfig sets any other configuration variable (see the README).
func WithConfig(name, value string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{name: value})
}

// Run starts the service from image and waits until /v1/health answers 200,
// so its database is up and migrated. A superadmin key is generated unless
// WithSuperadminKey gives one, and on PostgreSQL an encryption key unless
// WithEncryptionKey does.
func Run(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(Port, MetricsPort),
		testcontainers.WithEnv(map[string]string{
			"LEADR_HTTP_ADDR":          ":8080",
			"LEADR_METRICS_ADDR":       ":9090",
			"LEADR_SUPERADMIN_API_KEY": tenancy.GenerateKey(),
			"LEADR_LOG_LEVEL":          "warn",
		}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForHTTP("/v1/health").WithPort(Port).WithStatusCodeMatcher(func(status int) bool { return status == 200 })),
	}
	ctr, err := testcontainers.Run(ctx, image, append(append(append(defaults, WithRunLabel()), opts...), keyForPostgres())...)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr}
	}
	if err != nil {
		return c, fmt.Errorf("run LEADR: %w", err)
	}
	inspect, err := ctr.Inspect(ctx)
	if err != nil {
		return c, fmt.Errorf("inspect LEADR: %w", err)
	}
	for _, e := range inspect.Config.Env {
		if v, ok := strings.CutPrefix(e, "LEADR_SUPERADMIN_API_KEY="); ok {
			c.superadminKey = v
		}
		if v, ok := strings.CutPrefix(e, "LEADR_ENCRYPTION_KEY="); ok {
			c.encryptionKey = v
		}
	}
	return c, nil
}

// BaseURL is the service's address as the host sees it, e.g.
// http://localhost:32771.
func (c *Container) BaseURL(ctx context.Context) (string, error) {
	return c.PortEndpoint(ctx, Port, "http")
}

// MetricsURL is where the service's Prometheus metrics are, as the host
// sees them, e.g. http://localhost:32772/metrics.
func (c *Container) MetricsURL(ctx context.Context) (string, error) {
	base, err := c.PortEndpoint(ctx, MetricsPort, "http")
	return base + "/metrics", err
}

// keyForPostgres generates LEADR_ENCRYPTION_KEY when the service is given
// a PostgreSQL database and no key; on its SQLite it makes a key file.
func keyForPostgres() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if strings.HasPrefix(req.Env["LEADR_DATABASE_URL"], "postgres") && req.Env["LEADR_ENCRYPTION_KEY"] == "" {
			return WithEncryptionKey(NewEncryptionKey())(req)
		}
		return nil
	}
}

// SuperadminKey is the bootstrap superadmin's API key.
func (c *Container) SuperadminKey() string { return c.superadminKey }

// EncryptionKey is the service's LEADR_ENCRYPTION_KEY: another replica on
// its database needs it.
func (c *Container) EncryptionKey() string { return c.encryptionKey }

// WithRunLabel labels a container with the run's ID (EnvRunID), when
// there is one, so that a script can remove every container of the run.
func WithRunLabel() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if run := os.Getenv(EnvRunID); run != "" {
			return testcontainers.WithLabels(map[string]string{"org.leadr.test.run": run})(req)
		}
		return nil
	}
}

// NewNetwork creates a private network, labelled as the run's containers
// are.
func NewNetwork(ctx context.Context) (*testcontainers.DockerNetwork, error) {
	var opts []network.NetworkCustomizer
	if run := os.Getenv(EnvRunID); run != "" {
		opts = append(opts, network.WithLabels(map[string]string{"org.leadr.test.run": run}))
	}
	return network.New(ctx, opts...)
}
