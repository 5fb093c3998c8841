package store

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestPostgresURLsRequireTLSUnlessTold: without sslmode, in the URL or
// PGSSLMODE, the connection requires TLS, with no plaintext fallback.
func TestPostgresURLsRequireTLSUnlessTold(t *testing.T) {
	for _, c := range []struct {
		url, env string
		tls      bool
	}{
		{"postgres://leadr@db.example/leadr", "", true},
		{"postgres://leadr@db.example/leadr?sslmode=disable", "", false},
		{"postgres://leadr@db.example/leadr", "disable", false},
		{"postgres://leadr@db.example/leadr?sslmode=require", "disable", true},
	} {
		t.Setenv("PGSSLMODE", c.env)
		cfg, err := pgxConfig(c.url)
		if err != nil {
			t.Fatal(err)
		}
		plaintext := cfg.TLSConfig == nil
		for _, f := range cfg.Fallbacks {
			plaintext = plaintext || f.TLSConfig == nil
		}
		if plaintext == c.tls {
			t.Errorf("%s with PGSSLMODE=%q: TLS required %v, want %v", c.url, c.env, !plaintext, c.tls)
		}
		if cfg.RuntimeParams["application_name"] != "leadr" {
			t.Errorf("%s: application_name %q", c.url, cfg.RuntimeParams["application_name"])
		}
	}
}

// TestSQLiteZeroesWhatItFrees: every connection of both pools, held at
// once so that none is another's, zeroes what its writes free.
func TestSQLiteZeroesWhatItFrees(t *testing.T) {
	const conns = 3
	db, err := Open("sqlite:"+filepath.Join(t.TempDir(), "leadr.db"), PoolOptions{MaxOpenConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, pool := range db.Pools() {
		held := make([]*sql.Conn, 0, conns)
		for range min(conns, pool.Stats().MaxOpenConnections) {
			c, err := pool.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
			var mode int
			if err := c.QueryRowContext(t.Context(), "PRAGMA secure_delete").Scan(&mode); err != nil || mode != 1 {
				t.Errorf("%s, connection %d: secure_delete is %d (%v), want 1", name, len(held), mode, err)
			}
		}
		for _, c := range held {
			c.Close()
		}
	}
}
