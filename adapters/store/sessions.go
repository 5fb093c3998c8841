package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Sessions implements ports.SessionRepository.
//
// Every write that touches a session and its tokens locks the session's row
// first and its tokens' rows after (the cascade of a purge does the same),
// so that no two of them wait on each other in a cycle.
type Sessions struct {
	db *DB
}

var _ ports.SessionRepository = (*Sessions)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewSessions(s) })
}

func NewSessions(s *Store) (*Sessions, error) {
	if err := checkRowModel[sessionRow](s.db.read, sessionColumns, ports.SessionSchema.Spec); err != nil {
		return nil, err
	}
	return &Sessions{db: s.db}, nil
}

// sessionConstraints: Create checks the identity and its game in its
// transaction, so a broken key of a session means they are gone (SQLite
// does not say which key broke: the identity is what the caller named). A
// nonce's broken key means its session is gone.
var sessionConstraints = map[string]error{
	"sessions_identity_fkey":      identity.ErrNotFound,
	"sessions_game_fkey":          game.ErrNotFound,
	"sessions.foreign_key":        identity.ErrNotFound,
	"session_nonces_session_fkey": session.ErrNotFound,
	"session_nonces.foreign_key":  session.ErrNotFound,
}

func (r *Sessions) Create(ctx context.Context, s *session.Session, refreshHash []byte) error {
	row := sessionToRow(s)
	return r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := r.lockLiveIdentity(ctx, tx, row); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("insert session: %w", translate(err, "sessions", sessionConstraints))
		}
		token := &refreshTokenRow{Hash: refreshHash, SessionID: row.ID, CreatedAt: row.CreatedAt}
		if _, err := tx.NewInsert().Model(token).Exec(ctx); err != nil {
			return fmt.Errorf("store refresh token: %w", err)
		}
		return r.db.record(ctx, session.Created(s))
	})
}

// lockLiveIdentity checks, in the transaction that writes the session, that
// its identity and game are live, and holds shared locks on both rows until
// the transaction ends. Soft deletes lock them for update and revoke the
// sessions in their transaction, so a session either sees the deletion and
// is refused or commits first and is revoked. (SQLite's write transactions are serial
// and need no lock.)
func (r *Sessions) lockLiveIdentity(ctx context.Context, tx bun.Tx, row *sessionRow) error {
	q := tx.NewSelect().TableExpr("identities AS i").
		Join("JOIN games AS g ON g.account_id = i.account_id AND g.id = i.game_id").
		ColumnExpr("i.deleted_at, g.deleted_at").
		Where("i.id = ? AND i.account_id = ? AND i.game_id = ?", row.IdentityID, row.AccountID, row.GameID)
	if !r.db.sqlite {
		q = q.For("SHARE")
	}
	var identityDeleted, gameDeleted sql.NullTime
	err := q.Scan(ctx, &identityDeleted, &gameDeleted)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && identityDeleted.Valid:
		return identity.ErrNotFound
	case err != nil:
		return fmt.Errorf("find the session's identity: %w", err)
	case gameDeleted.Valid:
		return game.ErrNotFound
	}
	return nil
}

func (r *Sessions) Get(ctx context.Context, sessionID id.SessionID) (*session.Session, error) {
	return getOne(ctx, r.db, "sessions", sessionColumns, cond("id = ?", toUUID(sessionID)), session.ErrNotFound, sessionFromRow)
}

func (r *Sessions) Access(ctx context.Context, sessionID id.SessionID, now time.Time) (*session.Session, error) {
	row := new(sessionRow)
	err := r.db.read.NewSelect().Model(row).
		Join("JOIN identities AS i ON i.id = ?TableAlias.identity_id").
		Join("JOIN games AS g ON g.account_id = ?TableAlias.account_id AND g.id = ?TableAlias.game_id").
		Where("?TableAlias.id = ?", toUUID(sessionID)).
		Where("?TableAlias.revoked_at IS NULL AND ?TableAlias.refresh_expires_at > ?", domain.Timestamp(now)).
		Where("i.deleted_at IS NULL AND g.deleted_at IS NULL").
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrAccessInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return sessionFromRow(row)
}

var sessionMutable = []string{"expires_at", "refresh_expires_at", "revoked_at", "updated_at"}

func (r *Sessions) Update(ctx context.Context, sessionID id.SessionID, fn func(*session.Session) error) (*session.Session, error) {
	return updateLocked(ctx, r.db, "session", cond("id = ?", toUUID(sessionID)), session.ErrNotFound,
		sessionFromRow, sessionToRow, session.Changed, fn, sessionMutable...)
}

// Rotate locks the session before it marks the token rotated, rather than
// after: that is the order of every other write of sessions and tokens
// (a purge deletes a session, then its tokens), so a rotation and a purge
// never deadlock. The mark is still one conditional statement, and the
// session's lock queues concurrent rotations of one token: the first
// rotates, the others find it rotated.
func (r *Sessions) Rotate(ctx context.Context, old, fresh []byte, now time.Time, fn func(*session.Session) error) (*session.Session, error) {
	now = domain.Timestamp(now)
	var out *session.Session
	var reused bool
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		token := new(refreshTokenRow)
		err := tx.NewSelect().Model(token).Where("hash = ?", old).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrRefreshInvalid
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		loaded := new(sessionRow)
		err = r.db.forUpdate(tx.NewSelect().Model(loaded).Where("id = ?", token.SessionID)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrRefreshInvalid // purged while this waited for its lock
		}
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		s, err := sessionFromRow(loaded)
		if err != nil {
			return err
		}
		before := sessionToRow(s)
		res, err := tx.NewUpdate().Model((*refreshTokenRow)(nil)).Set("rotated_at = ?", now).
			Where("hash = ? AND rotated_at IS NULL", old).Exec(ctx)
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		} else if n == 0 {
			// Rotated before: reuse. The revocation commits with this
			// transaction; the caller is refused all the same.
			reused = true
			s.Revoke(now)
			previous, _ := sessionFromRow(loaded)
			return r.db.saveIfChanged(ctx, "session", before, sessionToRow(s), sessionMutable,
				func() event.Event { return session.ReuseDetected(previous, s) })
		}
		// An identity or game deleted since the session began refreshes no
		// more, even if revoking its sessions did not happen.
		var live int
		err = tx.NewRaw(`SELECT count(*) FROM identities AS i JOIN games AS g ON g.id = i.game_id
			WHERE i.id = ? AND i.deleted_at IS NULL AND g.deleted_at IS NULL`, loaded.IdentityID).Scan(ctx, &live)
		if err != nil {
			return fmt.Errorf("check the session's identity: %w", err)
		}
		if live == 0 {
			return session.ErrRefreshInvalid
		}
		if err := fn(s); err != nil {
			return err
		}
		// A refresh records no event: nobody outside the session needs
		// to hear of it.
		if !reflect.DeepEqual(before, sessionToRow(s)) {
			if _, err := tx.NewUpdate().Model(sessionToRow(s)).Column(sessionMutable...).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("save session: %w", err)
			}
		}
		if _, err := tx.NewInsert().Model(&refreshTokenRow{Hash: fresh, SessionID: loaded.ID, CreatedAt: now}).Exec(ctx); err != nil {
			return fmt.Errorf("store refresh token: %w", err)
		}
		out = s
		return nil
	})
	if err == nil && reused {
		return nil, session.ErrRefreshInvalid
	}
	return out, err
}

// RevokeIdentity revokes up to most live sessions of an identity, recording
// an event for each, in the transaction of ctx when there is one (the
// identity's deletion).
func (r *Sessions) RevokeIdentity(ctx context.Context, identityID id.IdentityID, now time.Time, most int) error {
	return r.revokeAtMost(ctx, cond("identity_id = ?", toUUID(identityID)), now, most)
}

// RevokeGame goes by the sessions' own game: it is always their identity's.
func (r *Sessions) RevokeGame(ctx context.Context, gameID id.GameID, now time.Time, most int) error {
	return r.revokeAtMost(ctx, cond("game_id = ?", toUUID(gameID)), now, most)
}

func (r *Sessions) revokeAtMost(ctx context.Context, where condition, now time.Time, most int) error {
	now = domain.Timestamp(now)
	pick := "SELECT id FROM sessions WHERE " + where.sql + " AND revoked_at IS NULL LIMIT ?"
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for most > 0 {
			batch := min(most, eventBatch)
			n, err := r.revokeBatch(ctx, tx, pick, append(slices.Clone(where.args), batch), now)
			if err != nil || n < batch {
				return err
			}
			most -= n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// RevokeOrphaned goes through the deleted games, then the deleted
// identities, walking from each to its live sessions by their index. On
// PostgreSQL a LATERAL join makes that walk the plan: the planner cannot
// tell that the live sessions of deleted games and identities are few, and
// would read every live session to find them. Games are few; the deleted
// identities have an index of their own (identities_deleted_idx), so that
// a sweep with nothing to do costs what the deleted ones do, not the whole
// table (BenchmarkRevokeWithDeletion measures it). On PostgreSQL each batch
// picks its sessions with SKIP LOCKED, as Purge does, so that replicas
// sweeping at once revoke different ones and never wait on one another; the
// lock is the sessions' alone, not the identity's or the game's, which
// sign-ins share.
func (r *Sessions) RevokeOrphaned(ctx context.Context, now time.Time, most int) (int, error) {
	now = domain.Timestamp(now)
	total := 0
	for _, parent := range []struct{ table, key string }{{"games", "game_id"}, {"identities", "identity_id"}} {
		pick := `SELECT s.id FROM ` + parent.table + ` AS p CROSS JOIN LATERAL (
			SELECT id FROM sessions WHERE ` + parent.key + ` = p.id AND revoked_at IS NULL FOR UPDATE SKIP LOCKED) AS s
			WHERE p.deleted_at IS NOT NULL LIMIT ?`
		if r.db.sqlite {
			pick = `SELECT s.id FROM ` + parent.table + ` AS p JOIN sessions AS s ON s.` + parent.key + ` = p.id
				WHERE p.deleted_at IS NOT NULL AND s.revoked_at IS NULL LIMIT ?`
		}
		for total < most {
			batch := min(most-total, eventBatch)
			var n int
			err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) (err error) {
				n, err = r.revokeBatch(ctx, tx, pick, []any{batch}, now)
				return err
			})
			if err != nil {
				return total, fmt.Errorf("revoke orphaned sessions: %w", err)
			}
			total += n
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

// revokeBatch revokes the sessions that pick selects (its last placeholder
// is how many, at most eventBatch) and records an event for each: a batch
// at a time, a game of a million sessions is never a million rows in
// memory. On PostgreSQL the picked IDs are an array, which the update finds
// by their key: as a subquery, the planner may hash them and read every
// session to match. A session revoked meanwhile by another transaction is
// left as that one revoked it.
func (r *Sessions) revokeBatch(ctx context.Context, tx bun.Tx, pick string, args []any, now time.Time) (int, error) {
	picked := "id = ANY(ARRAY(" + pick + "))"
	if r.db.sqlite {
		picked = "id IN (" + pick + ")"
	}
	var rows []sessionRow
	err := tx.NewRaw("UPDATE sessions SET revoked_at = ?, updated_at = ? WHERE "+picked+" AND revoked_at IS NULL RETURNING "+sessionColumns,
		append([]any{now, now}, args...)...).Scan(ctx, &rows)
	if err != nil {
		return 0, err
	}
	events := make([]event.Event, len(rows))
	for i := range rows {
		after, err := sessionFromRow(&rows[i])
		if err != nil {
			return 0, err
		}
		rows[i].RevokedAt = sql.NullTime{} // as it was; updated_at is no change to report
		before, _ := sessionFromRow(&rows[i])
		events[i] = session.Changed(before, after)
	}
	return len(rows), r.db.record(ctx, events...)
}

func (r *Sessions) List(ctx context.Context, f ports.SessionFilter, req paging.Request) (paging.Result[*session.Session], error) {
	return list(ctx, r.db, sessionListing(f), req, sessionFromRow)
}

func sessionListing(f ports.SessionFilter) listing {
	l := listing{table: "sessions", columns: sessionColumns, sortBy: ports.SessionSchema.Spec}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if !f.IdentityID.IsZero() {
		l.where = append(l.where, cond("identity_id = ?", toUUID(f.IdentityID)))
	}
	return l
}

// CreateNonce locks the session's row first, as every write of a session
// and its rows does: that queues a session's mints, so that each sees
// every unused nonce the others left, and none leaves more than the cap.
func (r *Sessions) CreateNonce(ctx context.Context, sessionID id.SessionID, hash []byte, expiresAt time.Time) error {
	row := &nonceRow{Hash: hash, SessionID: toUUID(sessionID), ExpiresAt: domain.Timestamp(expiresAt)}
	err := r.db.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var found int
		err := r.db.forUpdate(tx.NewSelect().Model((*sessionRow)(nil)).ColumnExpr("1").Where("id = ?", row.SessionID)).Scan(ctx, &found)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock session: %w", err)
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return translate(err, "session_nonces", sessionConstraints)
		}
		// The others beyond the newest ones the cap leaves room for. The
		// new nonce is never among them, even if another expires at the
		// same instant; a nonce used meanwhile is not unused any more.
		_, err = tx.NewRaw(`DELETE FROM session_nonces
			WHERE session_id = ? AND used_at IS NULL AND hash <> ? AND hash NOT IN (
				SELECT hash FROM session_nonces WHERE session_id = ? AND used_at IS NULL AND hash <> ?
				ORDER BY expires_at DESC, hash DESC LIMIT ?)`,
			row.SessionID, row.Hash, row.SessionID, row.Hash, session.MaxUnusedNonces-1).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("create nonce: %w", err)
	}
	return nil
}

func (r *Sessions) ConsumeNonce(ctx context.Context, sessionID id.SessionID, hash []byte, now time.Time) error {
	now = domain.Timestamp(now)
	var used []byte
	err := r.db.write.NewRaw(`UPDATE session_nonces SET used_at = ?
		WHERE hash = ? AND session_id = ? AND used_at IS NULL AND expires_at > ? RETURNING hash`,
		now, hash, toUUID(sessionID), now).Scan(ctx, &used)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("consume nonce: %w", err)
	}
	// Nothing consumed: what the nonce is now tells why. Being used,
	// expired or another session's is final, so this later read agrees
	// with what the update saw.
	row := new(nonceRow)
	err = r.db.read.NewSelect().Model(row).Where("hash = ?", hash).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return session.ErrNonceInvalid
	case err != nil:
		return fmt.Errorf("find nonce: %w", err)
	case row.SessionID != toUUID(sessionID):
		return session.ErrNonceInvalid
	case row.UsedAt.Valid:
		return session.ErrNonceUsed
	}
	return session.ErrNonceExpired
}

// Purge deletes with plain statements, which replicas may run at once. On
// PostgreSQL each picks its rows with SKIP LOCKED: replicas never wait on
// one another (a wait could close a cycle with the cascade of another
// purge), and a row that one of them holds is simply left to it.
func (r *Sessions) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	now = domain.Timestamp(now)
	cutoff := now.Add(-keep)
	skipLocked := " FOR UPDATE SKIP LOCKED"
	if r.db.sqlite {
		skipLocked = ""
	}
	// Nonces go once expired, used ones too (they expire a minute after
	// they were issued): anonymous clients minting and using them fill
	// nothing.
	if _, err := r.db.deleteInBatches(ctx, `DELETE FROM session_nonces WHERE hash IN (
		SELECT hash FROM session_nonces WHERE expires_at < ? LIMIT ?`+skipLocked+`)`, now); err != nil {
		return 0, fmt.Errorf("purge nonces: %w", err)
	}
	// Rotated refresh tokens stay keep after their rotation, so that one
	// presented again within that time is reuse, which revokes; a client
	// refreshing all day leaves a bounded number of them per session.
	// They go before the sessions, and that is what bounds the cascade of
	// a session's deletion: a session refreshes only while it lives, so
	// every token it rotated was rotated before it died, before the
	// cutoff, and is gone by now. What the cascade deletes is a session's
	// current token and its few unexpired nonces, not the thousands of
	// tokens a month of refreshes rotated, which in one statement would
	// outlast the statement timeout.
	if _, err := r.db.deleteInBatches(ctx, `DELETE FROM session_refresh_tokens WHERE hash IN (
		SELECT hash FROM session_refresh_tokens WHERE rotated_at < ? LIMIT ?`+skipLocked+`)`, cutoff); err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	n, err := r.db.deleteInBatches(ctx, `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE refresh_expires_at < ? OR revoked_at < ? LIMIT ?`+skipLocked+`)`, cutoff, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}

// purgeBatch is the most rows one purge statement deletes: a backlog of
// any size is then many short statements, each far inside the serving
// pool's statement timeout, rather than one that the timeout cancels
// every time.
const purgeBatch = 2000

// deleteInBatches runs query, whose last placeholder is the batch size,
// until a batch deletes fewer rows than it may, and returns how many it
// deleted in all.
func (d *DB) deleteInBatches(ctx context.Context, query string, args ...any) (int, error) {
	total := 0
	for {
		res, err := d.write.NewRaw(query, append(args, purgeBatch)...).Exec(ctx)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < purgeBatch {
			return total, nil
		}
	}
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	ID               uuid.UUID    `bun:"id,pk,type:uuid"`
	IdentityID       uuid.UUID    `bun:"identity_id,type:uuid"`
	AccountID        uuid.UUID    `bun:"account_id,type:uuid"`
	GameID           uuid.UUID    `bun:"game_id,type:uuid"`
	ExpiresAt        time.Time    `bun:"expires_at"`
	RefreshExpiresAt time.Time    `bun:"refresh_expires_at"`
	RevokedAt        sql.NullTime `bun:"revoked_at"`
	CreatedAt        time.Time    `bun:"created_at"`
	UpdatedAt        time.Time    `bun:"updated_at"`
}

const sessionColumns = "id, identity_id, account_id, game_id, expires_at, refresh_expires_at, revoked_at, created_at, updated_at"

func (r *sessionRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.IdentityID), uuidField(&r.AccountID), uuidField(&r.GameID), &r.ExpiresAt, &r.RefreshExpiresAt, &r.RevokedAt, &r.CreatedAt, &r.UpdatedAt}
}

type refreshTokenRow struct {
	bun.BaseModel `bun:"table:session_refresh_tokens"`

	Hash      []byte       `bun:"hash,pk"`
	SessionID uuid.UUID    `bun:"session_id,type:uuid"`
	CreatedAt time.Time    `bun:"created_at"`
	RotatedAt sql.NullTime `bun:"rotated_at"`
}

type nonceRow struct {
	bun.BaseModel `bun:"table:session_nonces"`

	Hash      []byte       `bun:"hash,pk"`
	SessionID uuid.UUID    `bun:"session_id,type:uuid"`
	ExpiresAt time.Time    `bun:"expires_at"`
	UsedAt    sql.NullTime `bun:"used_at"`
}

func sessionToRow(s *session.Session) *sessionRow {
	snap := s.Snapshot()
	return &sessionRow{
		ID:               toUUID(snap.ID),
		IdentityID:       toUUID(snap.IdentityID),
		AccountID:        toUUID(snap.AccountID),
		GameID:           toUUID(snap.GameID),
		ExpiresAt:        snap.ExpiresAt,
		RefreshExpiresAt: snap.RefreshExpiresAt,
		RevokedAt:        sql.NullTime{Time: snap.RevokedAt, Valid: !snap.RevokedAt.IsZero()},
		CreatedAt:        snap.CreatedAt,
		UpdatedAt:        snap.UpdatedAt,
	}
}

func sessionFromRow(r *sessionRow) (*session.Session, error) {
	return session.Rehydrate(session.Snapshot{
		ID:               fromUUID[id.Session](r.ID),
		IdentityID:       fromUUID[id.Identity](r.IdentityID),
		AccountID:        fromUUID[id.Account](r.AccountID),
		GameID:           fromUUID[id.Game](r.GameID),
		ExpiresAt:        r.ExpiresAt,
		RefreshExpiresAt: r.RefreshExpiresAt,
		RevokedAt:        r.RevokedAt.Time,
		CreatedAt:        r.CreatedAt,
		UpdatedAt:        r.UpdatedAt,
	}), nil
}
