package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestURLsSayWhetherAPoolerStandsInBetween: pooler=transaction and direct=
// are the service's, never sent to the server; behind a pooler no read is
// a named prepared statement and the change feed listens on the direct
// address, or not at all; a default_query_exec_mode in the URL is every
// read's.
func TestURLsSayWhetherAPoolerStandsInBetween(t *testing.T) {
	const base = "postgres://leadr:pw@pgbouncer:6432/leadr?sslmode=disable"
	for _, c := range []struct {
		url    string
		pooled bool
		listen string // the feed's host:port; "" for none
		reads  readModes
	}{
		{base, false, "pgbouncer:6432", readModes{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe}},
		{base + "&pooler=transaction", true, "", readModes{pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeCacheDescribe}},
		{base + "&pooler=transaction&direct=db:5432", true, "db:5432", readModes{pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeCacheDescribe}},
		{base + "&pooler=transaction&default_query_exec_mode=cache_statement", true, "",
			readModes{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheStatement}},
		{base + "&default_query_exec_mode=exec", false, "pgbouncer:6432", readModes{pgx.QueryExecModeExec, pgx.QueryExecModeExec}},
	} {
		target, err := pgxConfig(c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if target.pooled != c.pooled || target.reads != c.reads {
			t.Errorf("%s: pooled %v, reads %v; want %v, %v", c.url, target.pooled, target.reads, c.pooled, c.reads)
		}
		if target.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
			t.Errorf("%s: bun's statements go as %v, want simple queries", c.url, target.DefaultQueryExecMode)
		}
		for _, cfg := range []*pgx.ConnConfig{target.ConnConfig, target.listen} {
			if cfg == nil {
				continue
			}
			for _, p := range []string{"pooler", "direct"} {
				if _, sent := cfg.RuntimeParams[p]; sent {
					t.Errorf("%s: %s would be sent to the server", c.url, p)
				}
			}
		}
		switch {
		case c.listen == "" && target.listen != nil:
			t.Errorf("%s: the feed listens on %s:%d, want no feed", c.url, target.listen.Host, target.listen.Port)
		case c.listen != "" && (target.listen == nil || fmt.Sprintf("%s:%d", target.listen.Host, target.listen.Port) != c.listen ||
			target.listen.User != "leadr" || target.listen.Database != "leadr"):
			t.Errorf("%s: the feed listens on %+v, want leadr@%s/leadr", c.url, target.listen, c.listen)
		}
	}
	if _, err := pgxConfig(base + "&pooler=session"); err == nil {
		t.Error("pooler=session taken: the service knows transaction pooling only")
	}
}

// TestBehindAPoolerWithoutDirectAddressNothingIsCached: with no change feed
// the caches have nothing to trust, and Listen says why once.
func TestBehindAPoolerWithoutDirectAddressNothingIsCached(t *testing.T) {
	db, err := Open("postgres://leadr@pgbouncer:6432/leadr?sslmode=disable&pooler=transaction", PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Changes() != nil {
		t.Error("a change feed behind a transaction pooler")
	}
	var reports []error
	db.Listen(context.Background(), func(err error) { reports = append(reports, err) })
	if len(reports) != 1 || !errors.Is(reports[0], errNoDirect) {
		t.Errorf("Listen reported %v, want errNoDirect once", reports)
	}
}

// TestTargetSessionAttrsAreForTheServers: behind a pooler the read-write
// check is the direct addresses' (the change feed's), never the pooler's,
// which would check a random server connection and wait for a free one.
func TestTargetSessionAttrsAreForTheServers(t *testing.T) {
	tg, err := pgxConfig("postgres://leadr:pw@pgbouncer:6432/leadr?sslmode=disable&pooler=transaction" +
		"&direct=primary:5432,standby1:5432&target_session_attrs=read-write")
	if err != nil {
		t.Fatal(err)
	}
	if tg.ConnConfig.ValidateConnect != nil {
		t.Error("connections to the pooler are checked for read-write")
	}
	if tg.listen == nil || tg.listen.ValidateConnect == nil {
		t.Error("the change feed's connections to the servers are not checked for read-write")
	}
	direct, err := pgxConfig("postgres://leadr:pw@primary:5432,standby1:5432/leadr?sslmode=disable&target_session_attrs=read-write")
	if err != nil {
		t.Fatal(err)
	}
	if direct.ConnConfig.ValidateConnect == nil {
		t.Error("direct connections are not checked for read-write")
	}
}
