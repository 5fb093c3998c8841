package store

import "testing"

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
