package leadrcontainer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// EnvPgBouncerImage names the PgBouncer image (scripts/test-images.sh builds
// build/pgbouncer).
const EnvPgBouncerImage = "LEADR_TEST_PGBOUNCER_IMAGE"

// PgBouncerPort is PgBouncer's port inside its container.
const PgBouncerPort = "6432/tcp"

// PgBouncerConfig is what RunPgBouncer writes into pgbouncer.ini.
type PgBouncerConfig struct {
	// Server is PostgreSQL's host:port as PgBouncer reaches it. Every
	// database is served (the "*" entry), so that tests may create some.
	Server string
	// Users are the users clients log in as, with their passwords, which
	// PgBouncer also logs in to PostgreSQL with (SCRAM). The first, in
	// name order, may use PgBouncer's admin console (database pgbouncer).
	Users map[string]string
	// PoolSize is how many server connections each database and user gets
	// (default_pool_size; default 10), MaxClients how many clients PgBouncer
	// takes (max_client_conn; default 500).
	PoolSize, MaxClients int
	// ConnectQuery runs on every new server connection: how statements get
	// the bounds a client cannot send through PgBouncer (see BoundsQuery).
	ConnectQuery string
	// Unbounded databases are served without ConnectQuery: where tests
	// create and drop databases, statements that cannot run in a
	// transaction, so no SET LOCAL can lift a bound for them.
	Unbounded []string
}

// BoundsQuery is the ConnectQuery that bounds statements as the service
// does with a request deadline of requestTimeout (LEADR_REQUEST_TIMEOUT):
// statements end at 4/5 of it, waits for a lock at half.
func BoundsQuery(requestTimeout time.Duration) string {
	return fmt.Sprintf("SET statement_timeout = %d; SET lock_timeout = %d",
		(requestTimeout * 4 / 5).Milliseconds(), (requestTimeout / 2).Milliseconds())
}

// PgBouncer is a running PgBouncer in transaction pooling mode.
type PgBouncer struct {
	testcontainers.Container
	admin, password string
}

// RunPgBouncer starts PgBouncer from image in transaction pooling mode.
// opts customise its container (a network and an alias, typically).
func RunPgBouncer(ctx context.Context, image string, cfg PgBouncerConfig, opts ...testcontainers.ContainerCustomizer) (*PgBouncer, error) {
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 10
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = 500
	}
	users := slices.Sorted(maps.Keys(cfg.Users))
	if len(users) == 0 {
		return nil, errors.New("pgbouncer: no users")
	}
	host, port, ok := strings.Cut(cfg.Server, ":")
	if !ok {
		port = "5432"
	}
	server := fmt.Sprintf("host=%s port=%s", host, port)
	var dbs strings.Builder
	for _, name := range cfg.Unbounded {
		fmt.Fprintf(&dbs, "%s = %s\n", name, server)
	}
	fmt.Fprintf(&dbs, "* = %s", server)
	if cfg.ConnectQuery != "" {
		fmt.Fprintf(&dbs, " connect_query='%s'", cfg.ConnectQuery)
	}
	// No ignore_startup_parameters: a client that sends one PgBouncer does
	// not know (statement_timeout, say) is refused, not silently stripped.
	ini := fmt.Sprintf(`[databases]
%s

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
admin_users = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = %d
log_connections = 0
log_disconnections = 0
`, dbs.String(), users[0], cfg.PoolSize, cfg.MaxClients)
	var userlist strings.Builder
	for _, u := range users {
		fmt.Fprintf(&userlist, "\"%s\" \"%s\"\n", u, cfg.Users[u])
	}
	all := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(PgBouncerPort),
		testcontainers.WithFiles(
			testcontainers.ContainerFile{Reader: strings.NewReader(ini), ContainerFilePath: "/etc/pgbouncer/pgbouncer.ini", FileMode: 0o644},
			testcontainers.ContainerFile{Reader: strings.NewReader(userlist.String()), ContainerFilePath: "/etc/pgbouncer/userlist.txt", FileMode: 0o644},
		),
		testcontainers.WithWaitStrategyAndDeadline(time.Minute, wait.ForLog("process up: PgBouncer")),
		WithRunLabel(),
	}
	ctr, err := testcontainers.Run(ctx, image, append(all, opts...)...)
	var p *PgBouncer
	if ctr != nil {
		p = &PgBouncer{Container: ctr, admin: users[0], password: cfg.Users[users[0]]}
	}
	if err != nil {
		return p, fmt.Errorf("run PgBouncer: %w", err)
	}
	return p, nil
}

// Address is PgBouncer's host:port as the host sees it.
func (p *PgBouncer) Address(ctx context.Context) (string, error) {
	return p.PortEndpoint(ctx, PgBouncerPort, "")
}

// Show runs a SHOW command (POOLS, STATS, CLIENTS, …) on PgBouncer's
// admin console and returns its rows, each a column → value map.
func (p *PgBouncer) Show(ctx context.Context, what string) ([]map[string]string, error) {
	addr, err := p.Address(ctx)
	if err != nil {
		return nil, err
	}
	// The console speaks the simple protocol only.
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/pgbouncer?sslmode=disable&default_query_exec_mode=simple_protocol",
		p.admin, p.password, addr))
	if err != nil {
		return nil, fmt.Errorf("PgBouncer's console: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SHOW "+what)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		values := rows.RawValues()
		row := map[string]string{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = string(values[i])
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
