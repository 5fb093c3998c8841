package faults

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// Requests that wait on a lock, for the table or for the pool's only
// connection, answer 503 by their deadline and leave nothing behind.
func TestLockedTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		// stuck: a first request takes the pool's only connection and
		// waits on the lock, so that the others wait for the connection.
		stuck bool
	}{
		{name: "identities locked"},
		{name: "the only connection stuck behind the lock", env: []string{"LEADR_DB_MAX_OPEN_CONNS", "1"}, stuck: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := startService(t, pgtest.Empty(t), tc.env...)
			tenant := harness.NewTenant(t, svc)
			known := newIdentity(t, tenant)
			blocked := "blocked-" + harness.Unique()
			requests := identityRequests(tenant, known, func() string { return blocked })
			db := connect(t, svc.DatabaseURL)
			lock, err := connect(t, svc.DatabaseURL).Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lock.Exec(t.Context(), "LOCK TABLE identities IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}

			var answers []answer
			var mu sync.Mutex
			var wg sync.WaitGroup
			send := func(r request) {
				wg.Go(func() {
					a := r.do(t.Context())
					mu.Lock()
					answers = append(answers, a)
					mu.Unlock()
				})
			}
			if tc.stuck {
				send(requests[1])
				waitForLockWaiters(t, db, 1)
			}
			for _, r := range requests {
				send(r)
			}
			wg.Wait()
			for _, a := range answers {
				wantUnavailable(t, a)
			}
			// A statement left waiting on the lock would run once it is
			// released, for a request already answered 503.
			waitForLockWaiters(t, db, 0)
			if err := lock.Rollback(t.Context()); err != nil {
				t.Fatal(err)
			}

			for _, r := range requests {
				if a := r.do(t.Context()); !a.succeeded() {
					t.Errorf("after the lock was released: %s, want %d", a, r.ok)
				}
			}
			// The get-or-create above answered 201: the blocked ones wrote
			// nothing. The list shows it is the only one.
			page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: blocked})
			if err != nil || len(page.Data) != 1 {
				t.Errorf("identities of the blocked key: %v %v, want the one created after the lock", page.Data, err)
			}
		})
	}
}

// connect opens a connection of the test's own to the service's database.
func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// waitForLockWaiters waits until n connections to the database wait on a
// lock, for at most answerBound.
func waitForLockWaiters(t *testing.T, db *pgx.Conn, n int) {
	t.Helper()
	var waiting int
	for deadline := time.Now().Add(answerBound); ; time.Sleep(20 * time.Millisecond) {
		err := db.QueryRow(t.Context(),
			`SELECT count(*) FROM pg_stat_activity
			 WHERE datname = current_database() AND backend_type = 'client backend' AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections wait on a lock, want %d", waiting, n)
		}
	}
}
