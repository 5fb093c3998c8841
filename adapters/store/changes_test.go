package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/test/pgtest"
)

// heard collects what a feed tells its subscriber.
type heard chan ports.Change

// next is the next change heard, within the second every replica must hear
// one in. A reset (a reconnection, say on a loaded machine) is skipped: it
// says only that anything may have changed.
func (h heard) next(t *testing.T) ports.Change {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case ch := <-h:
			if ch == (ports.Change{}) {
				continue
			}
			return ch
		case <-deadline:
			t.Fatal("no change within a second")
			return ports.Change{}
		}
	}
}

// reset waits for the feed to say that anything may have changed.
func (h heard) reset(t *testing.T) {
	t.Helper()
	select {
	case ch := <-h:
		if ch != (ports.Change{}) {
			t.Fatalf("heard %+v, want a reset", ch)
		}
	case <-time.After(time.Second):
		t.Fatal("no reset within a second")
	}
}

// none checks that no change is heard for a while (resets aside).
func (h heard) none(t *testing.T) {
	t.Helper()
	deadline := time.After(200 * time.Millisecond)
	for {
		select {
		case ch := <-h:
			if ch != (ports.Change{}) {
				t.Fatalf("heard %+v", ch)
			}
		case <-deadline:
			return
		}
	}
}

// listen runs db's listener until the test ends and returns what it hears
// and what it reports.
func listen(t *testing.T, db *store.DB) (heard, chan error) {
	t.Helper()
	h, reports := make(heard, 64), make(chan error, 64)
	db.Changes().Subscribe(func(ch ports.Change) { h <- ch })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(ctx, func(err error) { reports <- err })
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := <-reports; err != nil {
		t.Fatalf("listener: %v", err)
	}
	h.reset(t)
	if !db.Changes().Live() {
		t.Fatal("not live once connected")
	}
	return h, reports
}

// TestChangesReachOtherReplicas: what one replica commits reaches another's
// listener within a second, as the change the service publishes for its
// own writes; renames, refreshes and rolled-back writes send nothing.
func TestChangesReachOtherReplicas(t *testing.T) {
	dbURL := pgtest.FreshURL(t)
	writer, reader := pgtest.OpenURL(t, dbURL), pgtest.OpenURL(t, dbURL)
	h, _ := listen(t, reader)
	exec := func(q string) {
		t.Helper()
		if _, err := writer.Bun().ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const (
		acc = "'00000000-0000-7000-8000-000000000001'"
		usr = "'00000000-0000-7000-8000-000000000002'"
		key = "'00000000-0000-7000-8000-000000000003'"
		gam = "'00000000-0000-7000-8000-000000000004'"
		ide = "'00000000-0000-7000-8000-000000000005'"
		ses = "'00000000-0000-7000-8000-000000000006'"
	)
	exec(`INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (` + acc + `, 'A', 'a', now(), now())`)
	exec(`INSERT INTO users (id, account_id, email, display_name, super_admin, created_at, updated_at)
		VALUES (` + usr + `, ` + acc + `, 'a@example.com', 'A', false, now(), now())`)
	exec(`INSERT INTO api_keys (id, account_id, user_id, name, key_prefix, key_hash, status, created_at, updated_at)
		VALUES (` + key + `, ` + acc + `, ` + usr + `, 'k', 'ldr_', 'h', 'active', now(), now())`)
	exec(`INSERT INTO games (id, account_id, name, slug, created_at, updated_at) VALUES (` + gam + `, ` + acc + `, 'G', 'g', now(), now())`)
	exec(`INSERT INTO identities (id, account_id, game_id, kind, external_key, created_at, updated_at)
		VALUES (` + ide + `, ` + acc + `, ` + gam + `, 'DEVICE', 'd', now(), now())`)
	exec(`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, created_at, updated_at)
		VALUES (` + ses + `, ` + ide + `, ` + acc + `, ` + gam + `, now() + interval '15 minutes', now() + interval '30 days', now(), now())`)
	h.none(t) // creating sends nothing

	exec(`UPDATE identities SET display_name = 'Ada', updated_at = now()`)
	exec(`UPDATE sessions SET expires_at = now() + interval '20 minutes', updated_at = now()`)
	h.none(t)

	for _, c := range []struct {
		write string
		want  ports.Change
	}{
		{`UPDATE api_keys SET status = 'revoked', updated_at = now()`,
			ports.Change{Kind: ports.ChangedAPIKey, ID: "key_00000000-0000-7000-8000-000000000003"}},
		{`UPDATE sessions SET revoked_at = now(), updated_at = now()`,
			ports.Change{Kind: ports.ChangedSession, ID: "ses_00000000-0000-7000-8000-000000000006"}},
		{`UPDATE identities SET deleted_at = now(), updated_at = now()`,
			ports.Change{Kind: ports.ChangedIdentity, ID: "ide_00000000-0000-7000-8000-000000000005"}},
		{`UPDATE games SET deleted_at = now(), updated_at = now()`,
			ports.Change{Kind: ports.ChangedGame, ID: "gam_00000000-0000-7000-8000-000000000004"}},
	} {
		exec(c.write)
		if got := h.next(t); got != c.want {
			t.Errorf("%s: heard %+v, want %+v", c.write, got, c.want)
		}
	}

	inTx := func(commit bool, qs ...string) {
		t.Helper()
		tx, err := writer.Bun().BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if _, err := tx.ExecContext(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	inTx(false, `UPDATE api_keys SET status = 'active', updated_at = now()`)
	h.none(t) // rolled back
	inTx(true, "SET LOCAL leadr.bulk_revoke = 'on'", `UPDATE sessions SET revoked_at = NULL, updated_at = now()`)
	h.none(t) // a deletion's bulk revocation: its identity's or game's change covers it
	inTx(true, `UPDATE sessions SET revoked_at = now(), updated_at = now()`)
	if got := h.next(t); got.Kind != ports.ChangedSession {
		t.Errorf("a revocation after a bulk one in the same session: heard %+v", got)
	}
}

// TestChangesFeedGoesDownWithItsConnection: while the listener has no
// connection nothing cached may be trusted, so the feed says so at once, and
// on reconnecting it tells subscribers that anything may have changed.
func TestChangesFeedGoesDownWithItsConnection(t *testing.T) {
	dbURL := pgtest.FreshURL(t)
	db := pgtest.OpenURL(t, dbURL)
	h, reports := listen(t, db)
	var killed int
	err := db.Bun().NewRaw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'leadr-changes'`).Scan(t.Context(), &killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners: %v", killed, err)
	}
	h.reset(t) // on losing the connection
	if db.Changes().Live() {
		t.Error("live without a connection")
	}
	select {
	case err := <-reports:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("reported %v, want the connection's error", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the loss was not reported")
	}
	select {
	case err := <-reports:
		if err != nil {
			t.Fatalf("reconnecting: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not reconnected within 5 s")
	}
	h.reset(t) // on reconnecting
	if !db.Changes().Live() {
		t.Fatal("not live once reconnected")
	}
}
