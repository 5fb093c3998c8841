// Package bootstrap wires the service together with fx: configuration,
// logging, the database, the application and the HTTP server. It is the only
// package that knows every piece.
package bootstrap

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/leadr-oss/identity/adapters/steam"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Config is what the service reads from its environment, once, at start;
// adapters receive parts of it. Two families of standard variables are read
// where their libraries read them instead: libpq's PG* variables (PGSSLMODE,
// PGPASSWORD, …) by the store, through pgx, for whatever LEADR_DATABASE_URL
// leaves out, as every PostgreSQL client does; and the OTEL_* variables
// other than OTEL_TRACES_EXPORTER by OpenTelemetry's SDK (observability.go).
type Config struct {
	DatabaseURL Secret // may carry a password
	// DatabaseDefaulted: LEADR_DATABASE_URL was not set.
	DatabaseDefaulted bool
	DBMaxOpenConns    int
	HTTPAddr          string
	// DebugAddr serves pprof when set; never the public address.
	DebugAddr string
	// MetricsAddr serves /metrics when set; the debug listener serves them
	// too. Never the public address: they show every tenant's traffic.
	MetricsAddr     string
	ShutdownTimeout time.Duration
	// ShutdownDrain is how long readiness says draining, while requests
	// are still served, before the listener closes.
	ShutdownDrain time.Duration
	// RequestTimeout is every request's deadline, database included.
	RequestTimeout time.Duration
	// SuperadminAPIKey is the bootstrap key's value; empty: generate one.
	SuperadminAPIKey Secret
	// APIKeyPepper and CursorSecret are empty when not configured; a value
	// generated once and kept in the database, sealed, is used then.
	APIKeyPepper Secret
	CursorSecret Secret
	// EncryptionKey is the root key every stored secret is sealed under
	// (application/sealing). Required with PostgreSQL; empty on SQLite: the
	// key file beside the database, made at the first start.
	EncryptionKey Secret
	// AccessTokenSecret is the HS256 secret earlier versions signed access
	// tokens with, when it was configured rather than generated: their
	// tokens are accepted until they expire.
	AccessTokenSecret Secret
	// SigningKeyRotation is how long an ES256 signing key signs before the
	// next takes over.
	SigningKeyRotation time.Duration
	// TokenIssuer is the `iss` of access tokens.
	TokenIssuer     string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// SessionMaxAge is the longest a session lives from its sign-in,
	// however often it is refreshed.
	SessionMaxAge time.Duration
	// EventRetention is how long events are kept.
	EventRetention time.Duration
	// DeletionGrace is how long a deleted player or identity can be
	// restored before the purge erases it.
	DeletionGrace time.Duration
	// WebhookAllowPrivate lets webhooks use http:// and reach addresses
	// that are not public: tests, and private networks.
	WebhookAllowPrivate bool
	// WebhookWorkers is how many deliveries a replica makes at once, at
	// most WebhookPerEndpoint of them to one endpoint.
	WebhookWorkers     int
	WebhookPerEndpoint int
	// AuthCacheTTL bounds how long a verified API key or session is kept
	// in process; 0 turns the caches off.
	AuthCacheTTL time.Duration
	// SteamAPIURL is the base of Steam's Web API (a local fake in tests).
	SteamAPIURL string
	// SteamTicketIdentity is the identity Steam Web API tickets must have
	// been made for (GetAuthTicketForWebApi), sent to Steam with each.
	SteamTicketIdentity string
	// CORSAllowedOrigins may call the client endpoints from a browser.
	CORSAllowedOrigins []string
	// RateLimitAPIKey, RateLimitSession and RateLimitClientIP are the
	// limits per API key, per session and per client address (sign-in and
	// refresh); a zero Rate is off.
	RateLimitAPIKey   ports.RateLimit
	RateLimitSession  ports.RateLimit
	RateLimitClientIP ports.RateLimit
	// RateLimitSignUp counts the identities that client sign-ins create per
	// client address, apart from the sign-ins themselves.
	RateLimitSignUp ports.RateLimit
	// RedisURL, when set, keeps the limits' counts in Redis, shared by
	// every replica; otherwise each replica counts its own.
	RedisURL Secret
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []string
	AutoMigrate    bool
	LogLevel       zapcore.Level
	LogFormat      string
	// TracesExporter is OTEL_TRACES_EXPORTER: tracing is on when it names an
	// exporter; the other OTEL_* variables configure it.
	TracesExporter string
	// Version is the build's version, set by the command, not read.
	Version string
}

// Secret is a configuration value that must never be printed or logged.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// MarshalText keeps secrets out of any encoder that would print them.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// DefaultDatabaseURL is the zero-setup database: an SQLite file.
const DefaultDatabaseURL = "sqlite:./data/leadr.db"

// checkDatabaseURL explains what is wrong with a database URL, or says
// nothing. It never repeats the URL, which may hold a password.
func checkDatabaseURL(s string) string {
	scheme, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return "a postgres:// URL needs a host, e.g. postgres://leadr:secret@localhost:5432/leadr?sslmode=disable"
		}
	case "sqlite", "file":
		if strings.TrimPrefix(rest, "//") == "" {
			return "sqlite: needs a file path, e.g. sqlite:./data/leadr.db"
		}
	default:
		return "must be postgres://… or postgresql://… (PostgreSQL), or sqlite:PATH or file:PATH (SQLite)"
	}
	return ""
}

// logLevels are the levels the README documents. zap's own parser would also
// take dpanic, panic and fatal, which drop every error line, and other
// spellings (WARNING, Info) that nothing documents.
var logLevels = map[string]zapcore.Level{
	"debug": zapcore.DebugLevel,
	"info":  zapcore.InfoLevel,
	"warn":  zapcore.WarnLevel,
	"error": zapcore.ErrorLevel,
}

// parseRateLimit reads a limit as a key's own rate_limit is written ("N/s",
// "N/m", "N/h": N at once, then N a second, minute or hour; or "off").
func parseRateLimit(s string) (ports.RateLimit, bool) {
	l, err := tenancy.ParseRateLimit(s)
	if err != nil {
		return ports.RateLimit{}, false
	}
	return ports.RateLimit{Rate: l.Rate(), Period: l.Period(), Burst: l.Rate()}, true
}

// maxRequestTimeout keeps a request's deadline inside the HTTP server's
// write timeout, so that a late answer is still delivered.
const maxRequestTimeout = 25 * time.Second

// minSecretLen is the shortest pepper or cursor secret accepted: 32 bytes of
// key for HMAC-SHA256.
const minSecretLen = 32

// LoadConfig reads the configuration from the process environment.
func LoadConfig() (Config, error) { return ParseConfig(os.LookupEnv) }

// ParseConfig reads the configuration through lookup and reports every
// problem at once.
func ParseConfig(lookup func(string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}

	cfg := Config{
		DatabaseURL:         Secret(get("LEADR_DATABASE_URL", "")),
		HTTPAddr:            get("LEADR_HTTP_ADDR", ":8080"),
		DebugAddr:           get("LEADR_DEBUG_ADDR", ""),
		MetricsAddr:         get("LEADR_METRICS_ADDR", ""),
		SuperadminAPIKey:    Secret(get("LEADR_SUPERADMIN_API_KEY", "")),
		APIKeyPepper:        Secret(get("LEADR_API_KEY_PEPPER", "")),
		CursorSecret:        Secret(get("LEADR_CURSOR_SECRET", "")),
		EncryptionKey:       Secret(get("LEADR_ENCRYPTION_KEY", "")),
		AccessTokenSecret:   Secret(get("LEADR_ACCESS_TOKEN_SECRET", "")),
		SteamAPIURL:         get("LEADR_STEAM_API_URL", steam.DefaultBaseURL),
		SteamTicketIdentity: get("LEADR_STEAM_TICKET_IDENTITY", "leadr"),
		LogFormat:           get("LEADR_LOG_FORMAT", "json"),
		TracesExporter:      get("OTEL_TRACES_EXPORTER", ""),
		RedisURL:            Secret(get("LEADR_REDIS_URL", "")),
		Version:             "devel",
	}

	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL, cfg.DatabaseDefaulted = DefaultDatabaseURL, true
	}
	if msg := checkDatabaseURL(string(cfg.DatabaseURL)); msg != "" {
		bad("LEADR_DATABASE_URL", "%s", msg)
	}

	var err error
	if cfg.ShutdownTimeout, err = time.ParseDuration(get("LEADR_SHUTDOWN_TIMEOUT", "15s")); err != nil || cfg.ShutdownTimeout <= 0 {
		bad("LEADR_SHUTDOWN_TIMEOUT", "must be a positive duration such as 15s")
	}
	if cfg.ShutdownDrain, err = time.ParseDuration(get("LEADR_SHUTDOWN_DRAIN", "0s")); err != nil || cfg.ShutdownDrain < 0 {
		bad("LEADR_SHUTDOWN_DRAIN", "must be a duration such as 5s, or 0")
	}
	if cfg.RequestTimeout, err = time.ParseDuration(get("LEADR_REQUEST_TIMEOUT", "5s")); err != nil || cfg.RequestTimeout < 100*time.Millisecond || cfg.RequestTimeout > maxRequestTimeout {
		bad("LEADR_REQUEST_TIMEOUT", "must be a duration from 100ms to %s, such as 5s", maxRequestTimeout)
	}
	if cfg.RequestTimeout > cfg.ShutdownTimeout && cfg.ShutdownTimeout > 0 {
		bad("LEADR_REQUEST_TIMEOUT", "must not be longer than LEADR_SHUTDOWN_TIMEOUT, so that the requests in flight at shutdown can finish")
	}
	if cfg.DBMaxOpenConns, err = strconv.Atoi(get("LEADR_DB_MAX_OPEN_CONNS", "20")); err != nil || cfg.DBMaxOpenConns < 1 {
		bad("LEADR_DB_MAX_OPEN_CONNS", "must be a positive integer")
	}
	if cfg.AutoMigrate, err = strconv.ParseBool(get("LEADR_AUTO_MIGRATE", "true")); err != nil {
		bad("LEADR_AUTO_MIGRATE", "must be true or false")
	}
	if cfg.AccessTokenTTL, err = time.ParseDuration(get("LEADR_ACCESS_TOKEN_TTL", "15m")); err != nil || cfg.AccessTokenTTL < time.Second {
		bad("LEADR_ACCESS_TOKEN_TTL", "must be a duration of at least 1s, such as 15m")
	}
	if cfg.RefreshTokenTTL, err = time.ParseDuration(get("LEADR_REFRESH_TOKEN_TTL", "720h")); err != nil || cfg.RefreshTokenTTL <= cfg.AccessTokenTTL {
		bad("LEADR_REFRESH_TOKEN_TTL", "must be a duration longer than LEADR_ACCESS_TOKEN_TTL, such as 720h")
	}
	if cfg.SessionMaxAge, err = time.ParseDuration(get("LEADR_SESSION_MAX_AGE", "2160h")); err != nil || cfg.SessionMaxAge < cfg.AccessTokenTTL {
		bad("LEADR_SESSION_MAX_AGE", "must be a duration no shorter than LEADR_ACCESS_TOKEN_TTL, such as 2160h (90 days)")
	}
	if cfg.SigningKeyRotation, err = time.ParseDuration(get("LEADR_SIGNING_KEY_ROTATION", "720h")); err != nil || cfg.SigningKeyRotation < time.Hour {
		bad("LEADR_SIGNING_KEY_ROTATION", "must be a duration of at least 1h, such as 720h (30 days)")
	}
	if cfg.TokenIssuer = get("LEADR_TOKEN_ISSUER", "leadr"); cfg.TokenIssuer == "" || len(cfg.TokenIssuer) > 200 {
		bad("LEADR_TOKEN_ISSUER", "must be 1 to 200 characters, such as https://id.example.com")
	}
	if cfg.EventRetention, err = time.ParseDuration(get("LEADR_EVENT_RETENTION", "2160h")); err != nil || cfg.EventRetention < time.Hour {
		bad("LEADR_EVENT_RETENTION", "must be a duration of at least 1h, such as 2160h (90 days)")
	}
	if cfg.DeletionGrace, err = time.ParseDuration(get("LEADR_DELETION_GRACE", "720h")); err != nil || cfg.DeletionGrace < 0 {
		bad("LEADR_DELETION_GRACE", "must be a duration of 0s or more, such as 720h (30 days)")
	}
	if cfg.WebhookAllowPrivate, err = strconv.ParseBool(get("LEADR_WEBHOOK_ALLOW_PRIVATE", "false")); err != nil {
		bad("LEADR_WEBHOOK_ALLOW_PRIVATE", "must be true or false")
	}
	if cfg.WebhookWorkers, err = strconv.Atoi(get("LEADR_WEBHOOK_WORKERS", "32")); err != nil || cfg.WebhookWorkers < 1 || cfg.WebhookWorkers > 1000 {
		bad("LEADR_WEBHOOK_WORKERS", "must be an integer from 1 to 1000")
	}
	if cfg.WebhookPerEndpoint, err = strconv.Atoi(get("LEADR_WEBHOOK_PER_ENDPOINT", "4")); err != nil || cfg.WebhookPerEndpoint < 1 || cfg.WebhookPerEndpoint > cfg.WebhookWorkers {
		bad("LEADR_WEBHOOK_PER_ENDPOINT", "must be an integer from 1 to LEADR_WEBHOOK_WORKERS")
	}
	if cfg.AuthCacheTTL, err = time.ParseDuration(get("LEADR_AUTH_CACHE_TTL", "10s")); err != nil || cfg.AuthCacheTTL < 0 {
		bad("LEADR_AUTH_CACHE_TTL", "must be a duration such as 10s, or 0 to turn the caches off")
	}
	if u, err := url.Parse(cfg.SteamAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("LEADR_STEAM_API_URL", "must be an http(s) URL such as "+steam.DefaultBaseURL)
	}
	for _, o := range strings.Split(get("LEADR_CORS_ALLOWED_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || o == "*" {
			bad("LEADR_CORS_ALLOWED_ORIGINS", "must be comma-separated origins such as https://play.example.com (scheme and host, no path, no *)")
			continue
		}
		cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, o)
	}
	for _, l := range []struct {
		name, def string
		to        *ports.RateLimit
	}{
		{"LEADR_RATE_LIMIT_API_KEY", "1000/s", &cfg.RateLimitAPIKey},
		{"LEADR_RATE_LIMIT_SESSION", "10/s", &cfg.RateLimitSession},
		{"LEADR_RATE_LIMIT_CLIENT_IP", "60/m", &cfg.RateLimitClientIP},
		{"LEADR_RATE_LIMIT_SIGN_UP", "100/h", &cfg.RateLimitSignUp},
	} {
		var ok bool
		if *l.to, ok = parseRateLimit(get(l.name, l.def)); !ok {
			bad(l.name, "must be a rate such as 100/s, 600/m or 1000/h (that many at once, then at that pace), or off")
		}
	}
	if u := cfg.RedisURL.Reveal(); u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") && !strings.HasPrefix(u, "unix://") {
		bad("LEADR_REDIS_URL", "must be a redis://, rediss:// or unix:// URL, e.g. redis://localhost:6379/0")
	}
	for _, p := range strings.Split(get("LEADR_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("LEADR_TRUSTED_PROXIES", "must be comma-separated addresses or CIDRs such as 10.0.0.0/8,192.168.1.5")
				continue
			}
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p)
	}
	if cfg.MetricsAddr != "" && cfg.MetricsAddr == cfg.HTTPAddr {
		bad("LEADR_METRICS_ADDR", "must differ from LEADR_HTTP_ADDR: metrics show every tenant's traffic")
	}
	if id := cfg.SteamTicketIdentity; len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		bad("LEADR_STEAM_TICKET_IDENTITY", "must be at most 64 printable ASCII characters without spaces, such as leadr")
	}
	if cfg.DebugAddr != "" && cfg.DebugAddr == cfg.HTTPAddr {
		bad("LEADR_DEBUG_ADDR", "must differ from LEADR_HTTP_ADDR: profiles are not for the public port")
	}
	var known bool
	if cfg.LogLevel, known = logLevels[get("LEADR_LOG_LEVEL", "info")]; !known {
		bad("LEADR_LOG_LEVEL", "must be one of debug, info, warn, error")
	}
	if cfg.LogFormat != "json" && cfg.LogFormat != "console" {
		bad("LEADR_LOG_FORMAT", "must be json or console")
	}
	if k := cfg.SuperadminAPIKey; k != "" && !tenancy.WellFormedKey(string(k)) {
		bad("LEADR_SUPERADMIN_API_KEY", `must be "ldr_" and 43 url-safe base64 characters; make one with: echo "ldr_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"`)
	}
	for _, s := range []struct {
		name  string
		value Secret
	}{{"LEADR_API_KEY_PEPPER", cfg.APIKeyPepper}, {"LEADR_CURSOR_SECRET", cfg.CursorSecret}, {"LEADR_ENCRYPTION_KEY", cfg.EncryptionKey}, {"LEADR_ACCESS_TOKEN_SECRET", cfg.AccessTokenSecret}} {
		if s.value != "" && len(s.value) < minSecretLen {
			bad(s.name, "must be at least %d characters (make one with: head -c 32 /dev/urandom | base64)", minSecretLen)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return Config{}, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}
