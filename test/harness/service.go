// Package harness runs the LEADR identity service for tests and talks to it:
// StartService starts the real fx graph on a free port against a database
// of its own, Wire checks answers on the wire, and the fixtures create
// tenants, keys and identities through the public API. Teams extending the
// service import it for their own acceptance suites; see test/downstream.
package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leadr-oss/identity/adapters/webhooks"
	"github.com/leadr-oss/identity/bootstrap"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/test/pgtest"
)

// Service is a running service.
type Service struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// MetricsURL is where the private listener serves the Prometheus
	// metrics, e.g. http://127.0.0.1:41235/metrics; the public port does not.
	MetricsURL    string
	SuperadminKey string
	DatabaseURL   string
	// SigningKeys are what `leadr keys` does, on this replica: rotate,
	// revoke, list.
	SigningKeys ports.SigningKeyAdmin
	app         *fx.App
	http        *http.Client
	conformance *conformance
	stopOnce    sync.Once
	stopErr     error
}

type settings struct {
	databaseURL string
	env         map[string]string
	logs        io.Writer
	decorate    []fx.Option
}

// Option changes how StartService starts the service.
type Option func(*settings)

// EnvBackend chooses the database of StartService when WithDatabaseURL does
// not: "postgres" (the default; a new database on the package's server, see
// pgtest) or "sqlite" (a new file in a temporary folder).
const EnvBackend = "LEADR_TEST_BACKEND"

// Backend returns the backend the tests run on.
func Backend() string {
	if b := os.Getenv(EnvBackend); b != "" {
		return b
	}
	return "postgres"
}

// EncryptionKey is the LEADR_ENCRYPTION_KEY of every service StartService
// runs on PostgreSQL, so that services on one database share it (on SQLite,
// the key file beside the database is). For tests only: a deployment makes
// its own.
const EncryptionKey = "harness-test-key-never-use-this-one-in-production"

// WithDatabaseURL runs the service on an existing database instead of a
// new one.
func WithDatabaseURL(u string) Option { return func(s *settings) { s.databaseURL = u } }

// WithEnv sets a configuration variable (see the README's table).
func WithEnv(name, value string) Option { return func(s *settings) { s.env[name] = value } }

// WithLogWriter sends the service's log lines to w instead of standard
// error: JSON, one object a line, at the level of LEADR_LOG_LEVEL (error
// unless WithEnv gives it). Writes to w are serialized.
func WithLogWriter(w io.Writer) Option { return func(s *settings) { s.logs = w } }

// WithClock runs the service on now instead of the system's clock: what
// happens after a day (a rotated webhook secret's overlap) happens when
// now says so.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		s.decorate = append(s.decorate, fx.Decorate(func(ports.Clock) ports.Clock { return now }))
	}
}

// WithResolver answers the service's lookups of webhook hosts (by
// default, the system's resolver does).
func WithResolver(r webhooks.Resolver) Option {
	return func(s *settings) {
		s.decorate = append(s.decorate, fx.Decorate(func(webhooks.Resolver) webhooks.Resolver { return r }))
	}
}

// StartService starts the service in this process, on a free loopback
// port, and stops it when t ends. Its logs go to standard error at error
// level unless WithEnv gives LEADR_LOG_LEVEL.
func StartService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	s := settings{env: map[string]string{}}
	for _, o := range opts {
		o(&s)
	}
	if s.databaseURL == "" {
		switch b := Backend(); b {
		case "postgres":
			s.databaseURL = pgtest.Empty(t)
		case "sqlite":
			s.databaseURL = "sqlite:" + filepath.Join(t.TempDir(), "leadr.db")
		default:
			t.Fatalf("%s=%q: want postgres or sqlite", EnvBackend, b)
		}
	}
	env := map[string]string{
		"LEADR_DATABASE_URL":       s.databaseURL,
		"LEADR_HTTP_ADDR":          "127.0.0.1:0",
		"LEADR_METRICS_ADDR":       "localhost:0", // another free port; the configuration refuses LEADR_HTTP_ADDR's value
		"LEADR_LOG_LEVEL":          "error",
		"LEADR_SUPERADMIN_API_KEY": tenancy.GenerateKey(),
		// Tests ask faster than any client should; WithEnv turns a
		// limit on where a test is about it.
		"LEADR_RATE_LIMIT_API_KEY":   "off",
		"LEADR_RATE_LIMIT_SESSION":   "off",
		"LEADR_RATE_LIMIT_CLIENT_IP": "off",
		"LEADR_RATE_LIMIT_SIGN_UP":   "off",
	}
	if strings.HasPrefix(s.databaseURL, "postgres") {
		env["LEADR_ENCRYPTION_KEY"] = EncryptionKey
	}
	for k, v := range s.env {
		env[k] = v
	}
	cfg, err := bootstrap.ParseConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var srv *bootstrap.Server
	var private *bootstrap.PrivateListeners
	var keys ports.SigningKeyAdmin
	fxOpts := append([]fx.Option{bootstrap.Service(cfg, io.Discard), fx.Populate(&srv, &private, &keys), fx.NopLogger}, s.decorate...)
	if s.logs != nil {
		fxOpts = append(fxOpts, fx.Decorate(func(*zap.Logger) *zap.Logger {
			enc := zap.NewProductionEncoderConfig()
			enc.TimeKey = "time"
			enc.EncodeTime = zapcore.ISO8601TimeEncoder
			return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(s.logs)), cfg.LogLevel))
		}))
	}
	app := fx.New(fxOpts...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start the service: %v", err)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	document, err := fetchDocument(base, "http://"+srv.Addr().String()+"/openapi.json")
	if err != nil {
		t.Fatalf("read the OpenAPI document: %v", err)
	}
	check := &conformance{base: base, document: document}
	svc := &Service{URL: "http://" + srv.Addr().String(), SuperadminKey: env["LEADR_SUPERADMIN_API_KEY"], DatabaseURL: s.databaseURL,
		SigningKeys: keys, app: app, conformance: check, http: &http.Client{Timeout: 30 * time.Second, Transport: check}}
	if addr := private.MetricsAddr(); addr != nil {
		svc.MetricsURL = "http://" + addr.String() + "/metrics"
	}
	t.Cleanup(func() {
		// Every answer the test received must match the OpenAPI document.
		check.mu.Lock()
		for _, w := range check.wrong {
			t.Errorf("answer not as documented: %s", w)
		}
		check.mu.Unlock()
		// Connections the client opened and never used would hold the
		// server's shutdown for seconds.
		svc.http.CloseIdleConnections()
		if err := svc.stop(); err != nil {
			t.Errorf("stop the service: %v", err)
		}
	})
	return svc
}

// Stop stops the service now, as SIGTERM does, rather than when the test
// ends: then another may start on its database (WithDatabaseURL).
func (s *Service) Stop(t testing.TB) {
	t.Helper()
	s.http.CloseIdleConnections()
	if err := s.stop(); err != nil {
		t.Fatalf("stop the service: %v", err)
	}
}

func (s *Service) stop() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.stopErr = s.app.Stop(ctx)
	})
	return s.stopErr
}

// Client returns a client that sends key. Every answer it receives is
// checked against the OpenAPI document.
func (s *Service) Client(key string) *client.Client {
	return client.New(s.URL, client.WithAPIKey(key), client.WithHTTPClient(s.http))
}

// Admin returns a client with the superadmin's key.
func (s *Service) Admin() *client.Client { return s.Client(s.SuperadminKey) }

// Anonymous returns a client that sends no key.
func (s *Service) Anonymous() *client.Client { return s.Client("") }

// Bearer returns a client that sends no API key but the header
// authorization: Bearer token (none when token is empty), for the client
// endpoints, and opts (client.WithAPIKey, client.WithHeader, ...). Every
// answer it receives is checked against the OpenAPI document.
func (s *Service) Bearer(token string, opts ...client.Option) *client.Client {
	all := []client.Option{client.WithHTTPClient(s.http)}
	if token != "" {
		all = append(all, client.WithHeader("Authorization", "Bearer "+token))
	}
	return client.New(s.URL, append(all, opts...)...)
}

// fetchDocument reads the OpenAPI document the service serves: the one its
// answers are checked against.
func fetchDocument(rt http.RoundTripper, url string) ([]byte, error) {
	resp, err := (&http.Client{Transport: rt, Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
