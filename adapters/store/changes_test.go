package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// An event as the outbox records it; only its subject and whether it
	// changes access (the domain says: a rename does not) matter.
	recordSQL := func(typ, subject string, n int) string {
		access := !strings.HasSuffix(typ, ".created") && typ != "identity.updated"
		return fmt.Sprintf(`INSERT INTO events (id, type, account_id, occurred_at, actor_type, subject_type, subject_id, data, changes_access)
			SELECT gen_random_uuid(), '%s', gen_random_uuid(), now(), 'system', split_part('%s', '.', 1), '%s', '{}', %t
			FROM generate_series(1, %d)`, typ, typ, subject, access, n)
	}
	inTx := func(commit bool, qs ...string) {
		t.Helper()
		tx, err := writer.Bun().BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if _, err := tx.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
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
	const (
		key = "key_00000000-0000-7000-8000-000000000003"
		ses = "ses_00000000-0000-7000-8000-000000000006"
		ide = "ide_00000000-0000-7000-8000-000000000005"
	)
	inTx(true, recordSQL("identity.created", ide, 1), recordSQL("session.created", ses, 1), recordSQL("identity.updated", ide, 1))
	h.none(t) // neither a creation nor a rename changes a cached verdict

	for _, c := range []struct {
		typ, subject string
	}{
		{"api_key.revoked", key},
		{"api_key.updated", key},
		{"session.revoked", ses},
		{"identity.deleted", ide},
	} {
		inTx(true, recordSQL(c.typ, c.subject, 1))
		if got := h.next(t); got != (ports.Change{ID: c.subject}) {
			t.Errorf("%s of %s: heard %+v", c.typ, c.subject, got)
		}
	}

	inTx(false, recordSQL("api_key.updated", key, 1))
	h.none(t) // rolled back

	inTx(true, recordSQL("session.revoked", ses, 101))
	h.reset(t) // one "anything may have changed" for a statement of many events
	h.none(t)
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
