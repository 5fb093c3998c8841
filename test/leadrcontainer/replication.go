package leadrcontainer

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/leadr-oss/identity/build/postgres/replication"
)

// The role standbys stream as.
const (
	ReplicationUser     = "replicator"
	ReplicationPassword = "replicator"
)

// PrimaryOptions make postgres.Run (the testcontainers module, the
// official image or build/postgres) start a primary that standbys may
// stream from, and whose commits, once one has connected, wait for a
// standby to confirm them (build/postgres/replication/primary.sh).
func PrimaryOptions() []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(map[string]string{"REPLICATION_USER": ReplicationUser, "REPLICATION_PASSWORD": ReplicationPassword}),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: bytes.NewReader(replication.Primary),
			ContainerFilePath: "/docker-entrypoint-initdb.d/50-primary.sh", FileMode: 0o755}),
	}
}

// RunStandby starts, from a PostgreSQL image, a hot standby streaming from
// primary (host:port as the standby reaches it), named name there
// (build/postgres/replication/standby.sh). It is ready once it answers
// reads and streams (the primary may still count it as catching up for an
// instant, not yet as synchronous). opts customise its container (a
// network and an alias, typically).
func RunStandby(ctx context.Context, image, primary, name string, opts ...testcontainers.ContainerCustomizer) (testcontainers.Container, error) {
	host, port, ok := strings.Cut(primary, ":")
	if !ok {
		port = "5432"
	}
	all := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts("5432/tcp"),
		testcontainers.WithEnv(map[string]string{
			"PRIMARY_HOST": host, "PRIMARY_PORT": port, "STANDBY_NAME": name,
			"REPLICATION_USER": ReplicationUser, "REPLICATION_PASSWORD": ReplicationPassword,
		}),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: bytes.NewReader(replication.Standby),
			ContainerFilePath: "/usr/local/bin/leadr-standby.sh", FileMode: 0o755}),
		testcontainers.WithEntrypoint("leadr-standby.sh"),
		testcontainers.WithCmd("postgres"),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute, wait.ForAll(
			wait.ForLog("database system is ready to accept read-only connections"),
			wait.ForLog("started streaming WAL from primary"))),
		WithRunLabel(),
	}
	ctr, err := testcontainers.Run(ctx, image, append(all, opts...)...)
	if err != nil {
		return ctr, fmt.Errorf("run the standby: %w", err)
	}
	return ctr, nil
}
