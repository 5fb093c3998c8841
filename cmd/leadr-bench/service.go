package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
)

const serviceMode = "-mode=service"

// runService is the service exactly as `leadr serve` runs it.
func runService() int {
	cfg, err := bootstrap.LoadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app := fx.New(bootstrap.Service(cfg, os.Stderr))
	if err := app.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	app.Run()
	return 0
}

// server is a child serving HTTP on a loopback address.
type server struct {
	*process
	base string // http://addr
}

type serviceProcess struct {
	server
	superKey string
	// debugAddr is the private listener the service is asked to open: its
	// profiles and its metrics.
	debugAddr string
	// poolSize is the service's database pool, which the baseline copies.
	poolSize int
}

// defaultPoolSize is the service's LEADR_DB_MAX_OPEN_CONNS default.
const defaultPoolSize = 20

// startService runs the service on dbURL with the settings of production
// (configured secrets, so that it neither generates nor warns about them;
// logs at warn, so that no access log is written per request), then extra,
// which win.
func startService(ctx context.Context, dbURL string, extra []string, stderr io.Writer) (*serviceProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startLeadr(ctx, "service", exec.Command(self, serviceMode), dbURL, nil, extra, stderr)
}

// startBefore runs `leadr serve` of an earlier version, binary, as
// startService runs this one, with the one secret earlier versions signed
// access tokens with (HS256), which this version only reads.
func startBefore(ctx context.Context, binary, dbURL string, extra []string, stderr io.Writer) (*serviceProcess, error) {
	return startLeadr(ctx, "before", exec.Command(binary, "serve"), dbURL,
		[]string{"LEADR_ACCESS_TOKEN_SECRET=" + randomSecret()}, extra, stderr)
}

func startLeadr(ctx context.Context, name string, cmd *exec.Cmd, dbURL string, secrets, extra []string, stderr io.Writer) (*serviceProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	debugAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	super := "ldr_" + randomSecret()
	env := []string{
		"LEADR_DATABASE_URL=" + dbURL,
		"LEADR_HTTP_ADDR=" + addr,
		"LEADR_DEBUG_ADDR=" + debugAddr,
		"LEADR_SUPERADMIN_API_KEY=" + super,
		"LEADR_LOG_LEVEL=warn",
		"LEADR_API_KEY_PEPPER=" + randomSecret(),
		"LEADR_CURSOR_SECRET=" + randomSecret(),
		"LEADR_ENCRYPTION_KEY=" + randomSecret(),
		// The bench is one API key and one session asking as fast as it
		// can: limits far above that keep the limiter's cost in the
		// figures without it refusing the load.
		"LEADR_RATE_LIMIT_API_KEY=1000000/s",
		"LEADR_RATE_LIMIT_SESSION=1000000/s",
		"LEADR_RATE_LIMIT_CLIENT_IP=1000000/s",
	}
	env = append(append(env, secrets...), extra...)
	pool := defaultPoolSize
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LEADR_DB_MAX_OPEN_CONNS="); ok {
			if pool, err = strconv.Atoi(v); err != nil || pool < 1 {
				return nil, fmt.Errorf("-service-env %s: not a pool size", kv)
			}
		}
	}
	s, err := startServer(ctx, name, cmd, addr, env, syscall.SIGTERM, stderr)
	if err != nil {
		return nil, err
	}
	return &serviceProcess{server: *s, superKey: super, debugAddr: debugAddr, poolSize: pool}, nil
}

// startServer starts cmd, a server on addr, and waits until its health
// check answers.
func startServer(ctx context.Context, name string, cmd *exec.Cmd, addr string, env []string, stop syscall.Signal, stderr io.Writer) (*server, error) {
	cmd.Env = childEnv(env...)
	cmd.Stdout, cmd.Stderr = &prefixed{name: name, w: stderr}, &prefixed{name: name, w: stderr}
	p, err := startProcess(name, cmd, stop)
	if err != nil {
		return nil, err
	}
	s := &server{process: p, base: "http://" + addr}
	if err := p.waitReady(ctx, s.base+"/v1/health"); err != nil {
		p.stop()
		return nil, err
	}
	return s, nil
}

// randomSecret is 32 random bytes in url-safe base64: 43 characters, the
// shape of an API key's body and long enough for every secret.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
