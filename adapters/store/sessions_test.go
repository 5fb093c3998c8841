package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// statements records what bun sends, so that a test can ask the planner
// how it serves each statement a repository method runs.
type statements struct {
	mu   sync.Mutex
	sent []string
	// The last statement's template and arguments, for a prepared plan.
	template string
	args     []any
}

func (s *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (s *statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q := e.Query
	if len(e.QueryArgs) > 0 { // the store's own reads send their arguments apart
		q = e.DB.QueryGen().FormatQuery(e.QueryTemplate, e.QueryArgs...)
	}
	switch e.Operation() {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		s.mu.Lock()
		s.sent = append(s.sent, q)
		s.template, s.args = e.QueryTemplate, e.QueryArgs
		s.mu.Unlock()
	}
}

// last is the last statement's template and arguments.
func (s *statements) last() (string, []any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.template, s.args
}

func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

// seedSessions adds to seedForPlans' data 100 000 sessions, a hundred for
// each of a thousand identities, each with a refresh token and some with a
// nonce. As between two purges, few are dead: one in a hundred is revoked
// (within the last 40 hours), one in a thousand long expired.
func seedSessions(t testing.TB, db *store.DB) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, revoked_at, created_at, updated_at)
		 SELECT ('00000003-0000-7000-8000-' || lpad(to_hex(s), 12, '0'))::uuid, i.id, i.account_id, i.game_id,
		        now() - s * interval '1 second' + interval '15 minutes',
		        CASE WHEN s % 1000 = 1 THEN now() - interval '40 days' ELSE now() + interval '30 days' END,
		        CASE WHEN s % 100 = 0 THEN now() - (s % 40) * interval '1 hour' END,
		        now() - s * interval '1 second', now() - s * interval '1 second'
		 FROM generate_series(1, 100000) AS s
		 JOIN identities AS i ON i.id = ('00000001-0000-7000-8000-' || lpad(to_hex(1 + s % 1000), 12, '0'))::uuid`,
		`INSERT INTO session_refresh_tokens (hash, session_id, created_at)
		 SELECT sha256(id::text::bytea), id, created_at FROM sessions`,
		`INSERT INTO session_nonces (hash, session_id, expires_at)
		 SELECT sha256(('n' || id::text)::bytea), id, now() + (random() * 120 - 60) * interval '1 second'
		 FROM sessions WHERE created_at > now() - interval '20000 seconds'`,
		`ANALYZE`,
	} {
		if _, err := db.Bun().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionQueriesAreServedByIndexes: session lists page like identity
// lists (no sequential scan, no sort of more than a page, no scan past a
// few pages' rows), and every statement of the other methods, Access on
// every client request first, is served by an index.
func TestSessionQueriesAreServedByIndexes(t *testing.T) {
	db := pgtest.Fresh(t)
	seedForPlans(t, db)
	seedSessions(t, db)
	log := &statements{}
	db.AddQueryHook(log)
	repo, err := store.NewSessions(store.New(db))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	account, _ := id.Parse[id.Account]("acc_00000000-0000-7000-8000-000000000007")
	identity, _ := id.Parse[id.Identity]("ide_00000001-0000-7000-8000-000000000006") // account 7, a hundred sessions
	game, _ := id.Parse[id.Game]("gam_00000002-0000-7000-8000-000000000006")

	const limit = 20
	for name, f := range map[string]ports.SessionFilter{
		"account":              {AccountID: account},
		"identity":             {IdentityID: identity},
		"account and identity": {AccountID: account, IdentityID: identity},
		"everything":           {},
	} {
		sort := ports.SessionSchema.DefaultSort()
		deep, err := repo.List(ctx, f, paging.Request{Sort: sort, Limit: 50})
		if err != nil || len(deep.Items) != 50 {
			t.Fatalf("%s: %d sessions deep (%v)", name, len(deep.Items), err)
		}
		after := ports.SessionSchema.Position(deep.Items[49], sort)
		for _, page := range []struct {
			name string
			req  paging.Request
		}{
			{"first page", paging.Request{Sort: sort, Limit: limit}},
			{"next page", paging.Request{Sort: sort, Limit: limit, After: after}},
			{"previous page", paging.Request{Sort: sort, Limit: limit, After: after, Backward: true}},
		} {
			t.Run(name+"/"+page.name, func(t *testing.T) {
				log.take()
				if _, err := repo.List(ctx, f, page.req); err != nil {
					t.Fatal(err)
				}
				for _, q := range log.take() {
					var check func(n planNode, parent string)
					check = func(n planNode, parent string) {
						touched := (n.ActualRows + n.RemovedByFilter) * max(n.Loops, 1)
						switch {
						case n.Type == "Seq Scan":
							t.Errorf("the plan reads %s sequentially", n.Relation)
						case (n.Type == "Sort" || n.Type == "Incremental Sort") && (page.req.After == nil || len(n.Plans) != 1 || n.Plans[0].Type != "Limit"):
							t.Errorf("the plan sorts more than one page (a %s under %s)", n.Type, parent)
						case strings.Contains(n.Type, "Scan") && touched > 4*(limit+1):
							t.Errorf("%s on %s touches %d rows for a page of %d", n.Type, n.Index, touched, limit)
						}
						for _, c := range n.Plans {
							check(c, n.Type)
						}
					}
					check(explainAnalyze(t, db, q, nil), "")
					if t.Failed() {
						t.Logf("%s", q)
					}
				}
			})
		}
	}

	// A live session of a live identity and game, and its first token.
	live, _ := id.Parse[id.Session]("ses_00000003-0000-7000-8000-000000001f46") // session 8006: identity 7, account 8
	var token []byte
	if err := db.Bun().NewRaw("SELECT hash FROM session_refresh_tokens WHERE session_id = ?", live.UUID().String()).Scan(ctx, &token); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	nonce := []byte("a nonce hash of the plan test...")
	const deletionBound = 1000 // what a deletion revokes in its transaction (application/session)
	lifetimes := session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"access", func() error { _, err := repo.Access(ctx, live, now); return err }},
		{"get", func() error { _, err := repo.Get(ctx, live); return err }},
		{"update", func() error {
			_, err := repo.Update(ctx, live, func(s *session.Session) error { return s.Refresh(now, lifetimes) })
			return err
		}},
		{"rotate", func() error {
			_, err := repo.Rotate(ctx, token, []byte("the next token hash of the test."), now, func(s *session.Session) error { return s.Refresh(now, lifetimes) })
			return err
		}},
		{"reuse", func() error {
			_, err := repo.Rotate(ctx, token, []byte("unused"), now, nil)
			return ignore(err, session.ErrRefreshInvalid)
		}},
		{"create nonce", func() error { return repo.CreateNonce(ctx, live, nonce, now.Add(time.Minute)) }},
		{"consume nonce", func() error { return repo.ConsumeNonce(ctx, live, nonce, now) }},
		{"consume a used nonce", func() error { return ignore(repo.ConsumeNonce(ctx, live, nonce, now), session.ErrNonceUsed) }},
		{"revoke an identity's", func() error { return repo.RevokeIdentity(ctx, identity, now, deletionBound) }},
		{"revoke a game's", func() error { return repo.RevokeGame(ctx, game, now, deletionBound) }},
		{"purge", func() error { _, err := repo.Purge(ctx, now, 24*time.Hour); return err }},
		{"sweep orphaned", func() error { _, err := repo.RevokeOrphaned(ctx, now, 10*deletionBound); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			log.take()
			if err := c.run(); err != nil {
				t.Fatal(err)
			}
			sent := log.take()
			if len(sent) == 0 {
				t.Fatal("no statement was sent")
			}
			if c.name == "access" && len(sent) != 1 {
				t.Errorf("access sends %d statements, want 1", len(sent))
			}
			for _, q := range sent {
				// Nonces live a minute and purges come minutes apart: the
				// table is small and mostly expired, and is read whole.
				nonces := c.name == "purge" && strings.HasPrefix(q, "DELETE FROM session_nonces")
				// The sweep reads the deleted games (few) and, on a table
				// this small, the identities whole (see RevokeOrphaned),
				// and each one's sessions by index.
				parents := c.name == "sweep orphaned" && strings.HasPrefix(q, "UPDATE sessions")
				var check func(n planNode)
				check = func(n planNode) {
					if n.Type == "Seq Scan" && !(nonces && n.Relation == "session_nonces") &&
						!(parents && (n.Relation == "games" || n.Relation == "identities")) {
						t.Errorf("the plan reads %s sequentially", n.Relation)
					}
					for _, child := range n.Plans {
						check(child)
					}
				}
				check(explain(t, db, q))
				if t.Failed() {
					t.Logf("%s", q)
				}
			}
		})
	}
}

func ignore(err, expected error) error {
	if errors.Is(err, expected) {
		return nil
	}
	return err
}

// explain plans a statement without running it: writes were run already.
func explain(t *testing.T, db *store.DB, query string) planNode {
	t.Helper()
	var raw string
	if err := db.Bun().NewRaw("EXPLAIN (FORMAT JSON) "+query).Scan(t.Context(), &raw); err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &plans); err != nil {
		t.Fatal(err)
	}
	return plans[0].Plan
}

// deletions counts the rows each table's DELETE statements deleted
// themselves, a cascade's rows apart.
type deletions struct {
	mu   sync.Mutex
	rows map[string]int64
}

func (d *deletions) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (d *deletions) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	// The purge's statements are raw: bun names them all SELECT.
	table, ok := strings.CutPrefix(strings.TrimSpace(e.Query), "DELETE FROM ")
	if !ok || e.Err != nil || e.Result == nil {
		return
	}
	n, err := e.Result.RowsAffected()
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows[strings.Fields(table)[0]] += n
}

// TestPurgeDeletesRotatedTokensBeforeTheirSession: a session refreshed
// all month long holds thousands of rotated tokens. Were they deleted by
// the cascade of the statement that deletes their session, a batch of
// sessions would delete millions of rows in one statement, past the
// statement timeout every time. The rotated tokens go in batches of their
// own first, so the session's statement finds only its current token.
func TestPurgeDeletesRotatedTokensBeforeTheirSession(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *store.DB{"postgres": func(t *testing.T) *store.DB { return pgtest.Fresh(t) }, "sqlite": sqliteDB} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			env := env(t, db)
			acc := portstest.NewAccount(t, env.Tenancy())
			g := portstest.NewGame(t, env.Games(), acc.ID())
			key, err := identity.NewExternalKey(identity.KindDevice, "device-refreshing-all-month")
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			fresh, err := identity.New(acc.ID(), g.ID(), key, identity.DisplayName{}, at)
			if err != nil {
				t.Fatal(err)
			}
			player, _, err := identities(t, store.New(db)).GetOrCreate(t.Context(), fresh, func(*identity.Identity) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			repo, err := store.NewSessions(store.New(db))
			if err != nil {
				t.Fatal(err)
			}
			lifetimes := session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}
			s := session.New(player.ID(), acc.ID(), g.ID(), at, lifetimes)
			token := []byte("refresh token hash 0000000000000")
			if err := repo.Create(t.Context(), s, token); err != nil {
				t.Fatal(err)
			}
			const refreshes = 50
			for n := range refreshes {
				next := fmt.Appendf(nil, "refresh token hash %013d", n+1)
				now := at.Add(time.Duration(n+1) * 15 * time.Minute)
				if _, err := repo.Rotate(t.Context(), token, next, now, func(s *session.Session) error { return s.Refresh(now, lifetimes) }); err != nil {
					t.Fatal(err)
				}
				token = next
			}
			revoked := at.Add(24 * time.Hour)
			if _, err := repo.Update(t.Context(), s.ID(), func(s *session.Session) error { s.Revoke(revoked); return nil }); err != nil {
				t.Fatal(err)
			}

			deleted := &deletions{rows: map[string]int64{}}
			db.AddQueryHook(deleted)
			const keep = 7 * 24 * time.Hour
			n, err := repo.Purge(t.Context(), revoked.Add(keep+time.Minute), keep)
			if err != nil || n != 1 {
				t.Fatalf("purge: %d sessions, %v; want 1", n, err)
			}
			if got := deleted.rows["session_refresh_tokens"]; got != refreshes {
				t.Errorf("the purge deleted %d rotated tokens before their session, want all %d (the others went by the cascade)", got, refreshes)
			}
			var left int
			if err := db.Bun().NewRaw("SELECT count(*) FROM session_refresh_tokens").Scan(t.Context(), &left); err != nil || left != 0 {
				t.Fatalf("%d refresh tokens left (%v), want none", left, err)
			}
		})
	}
}
