package bootstrap_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/leadr-oss/identity/bootstrap"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

const dbURL = "postgres://leadr:pw@db:5432/leadr?sslmode=disable"

func TestConfigDefaults(t *testing.T) {
	cfg, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.ShutdownTimeout != 15*time.Second || !cfg.AutoMigrate ||
		cfg.LogLevel != zapcore.InfoLevel || cfg.LogFormat != "json" || cfg.DBMaxOpenConns != 20 ||
		cfg.SuperadminAPIKey != "" || cfg.APIKeyPepper != "" || cfg.CursorSecret != "" ||
		cfg.AuthCacheTTL != 10*time.Second || cfg.DebugAddr != "" || cfg.RequestTimeout != 5*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.DatabaseURL.Reveal() != dbURL {
		t.Fatal("database URL lost")
	}
}

func TestConfigValues(t *testing.T) {
	key := "ldr_" + strings.Repeat("a", 43)
	cfg, err := bootstrap.ParseConfig(env(map[string]string{
		"LEADR_DATABASE_URL": dbURL, "LEADR_HTTP_ADDR": "127.0.0.1:9000", "LEADR_SHUTDOWN_TIMEOUT": "3s",
		"LEADR_SUPERADMIN_API_KEY": key, "LEADR_API_KEY_PEPPER": strings.Repeat("p", 32),
		"LEADR_CURSOR_SECRET": strings.Repeat("c", 40), "LEADR_AUTO_MIGRATE": "false",
		"LEADR_LOG_LEVEL": "debug", "LEADR_LOG_FORMAT": "console", "LEADR_DB_MAX_OPEN_CONNS": "7",
		"LEADR_AUTH_CACHE_TTL": "0", "LEADR_DEBUG_ADDR": "127.0.0.1:6060", "LEADR_REQUEST_TIMEOUT": "1500ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9000" || cfg.ShutdownTimeout != 3*time.Second || cfg.AutoMigrate ||
		cfg.LogLevel != zapcore.DebugLevel || cfg.LogFormat != "console" || cfg.DBMaxOpenConns != 7 ||
		cfg.SuperadminAPIKey.Reveal() != key || len(cfg.APIKeyPepper.Reveal()) != 32 || len(cfg.CursorSecret.Reveal()) != 40 ||
		cfg.AuthCacheTTL != 0 || cfg.DebugAddr != "127.0.0.1:6060" || cfg.RequestTimeout != 1500*time.Millisecond {
		t.Fatalf("values: %+v", cfg)
	}
}

func TestConfigErrorsNameEveryProblem(t *testing.T) {
	_, err := bootstrap.ParseConfig(env(map[string]string{
		"LEADR_DATABASE_URL":     "mysql://db/leadr",
		"LEADR_SHUTDOWN_TIMEOUT": "soon", "LEADR_AUTO_MIGRATE": "sometimes", "LEADR_LOG_LEVEL": "loud",
		"LEADR_LOG_FORMAT": "xml", "LEADR_SUPERADMIN_API_KEY": "hunter2", "LEADR_API_KEY_PEPPER": "short",
		"LEADR_CURSOR_SECRET": "short", "LEADR_DB_MAX_OPEN_CONNS": "0",
		"LEADR_AUTH_CACHE_TTL": "-1s", "LEADR_HTTP_ADDR": ":9000", "LEADR_DEBUG_ADDR": ":9000",
		"LEADR_REQUEST_TIMEOUT": "1m", "LEADR_SHUTDOWN_DRAIN": "-1s",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"LEADR_DATABASE_URL", "LEADR_SHUTDOWN_TIMEOUT", "LEADR_AUTO_MIGRATE", "LEADR_LOG_LEVEL",
		"LEADR_LOG_FORMAT", "LEADR_SUPERADMIN_API_KEY", "LEADR_API_KEY_PEPPER", "LEADR_CURSOR_SECRET", "LEADR_DB_MAX_OPEN_CONNS",
		"LEADR_AUTH_CACHE_TTL", "LEADR_DEBUG_ADDR", "LEADR_REQUEST_TIMEOUT", "LEADR_SHUTDOWN_DRAIN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the error repeats a secret")
	}
	for _, bad := range []string{"mysql://x", "postgres://", "not a url", "sqlite:", "file:", "sqlite://"} {
		if _, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": bad})); err == nil {
			t.Errorf("LEADR_DATABASE_URL=%q accepted", bad)
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	cfg, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_API_KEY_PEPPER": strings.Repeat("s", 32)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", cfg.APIKeyPepper)} {
		if strings.Contains(out, "sssss") || strings.Contains(out, "pw@") {
			t.Fatalf("a secret prints: %s", out)
		}
	}
}

func TestDatabaseURLs(t *testing.T) {
	cfg, err := bootstrap.ParseConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL.Reveal() != "sqlite:./data/leadr.db" || !cfg.DatabaseDefaulted {
		t.Fatalf("unset: %q defaulted=%v", cfg.DatabaseURL.Reveal(), cfg.DatabaseDefaulted)
	}
	for _, ok := range []string{"postgres://h/db", "postgresql://u:p@h:5432/db?sslmode=disable", "sqlite:./x.db", "sqlite:/tmp/x.db", "file:x.db", "SQLITE:x.db"} {
		cfg, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": ok}))
		if err != nil || cfg.DatabaseDefaulted {
			t.Errorf("%q: %v", ok, err)
		}
	}
	_, err = bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": "mysql://root:hunter2@db/x"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a bad URL: %v", err)
	}
	_, err = bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_REDIS_URL": "http://:hunter2@cache:6379"}))
	if err == nil || !strings.Contains(err.Error(), "LEADR_REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a bad Redis URL: %v", err)
	}
}

// Only the README's four levels start the service: zap would also take fatal
// or panic (which hide every error line) and spellings nobody documents.
func TestLogLevels(t *testing.T) {
	for value, want := range map[string]zapcore.Level{
		"debug": zapcore.DebugLevel, "info": zapcore.InfoLevel, "warn": zapcore.WarnLevel, "error": zapcore.ErrorLevel, " warn ": zapcore.WarnLevel,
	} {
		cfg, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_LOG_LEVEL": value}))
		if err != nil || cfg.LogLevel != want {
			t.Errorf("LEADR_LOG_LEVEL=%q: level %v, error %v; want %v", value, cfg.LogLevel, err, want)
		}
	}
	for _, value := range []string{"fatal", "panic", "dpanic", "warning", "INFO", "Debug", "trace", "0"} {
		_, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_LOG_LEVEL": value}))
		if err == nil || !strings.Contains(err.Error(), "LEADR_LOG_LEVEL: must be one of debug, info, warn, error") {
			t.Errorf("LEADR_LOG_LEVEL=%q: %v", value, err)
		}
	}
}

func TestRequestsFinishWithinTheShutdown(t *testing.T) {
	_, err := bootstrap.ParseConfig(env(map[string]string{"LEADR_DATABASE_URL": dbURL,
		"LEADR_REQUEST_TIMEOUT": "20s", "LEADR_SHUTDOWN_TIMEOUT": "15s"}))
	if err == nil || !strings.Contains(err.Error(), "LEADR_REQUEST_TIMEOUT") {
		t.Fatalf("a request deadline past the shutdown timeout: %v", err)
	}
}
