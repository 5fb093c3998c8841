package apptest

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Sessions() }) }

func (m *Memory) Sessions() ports.SessionRepository { return (*memSessions)(m) }

type sessionTable struct {
	rows   []session.Snapshot
	tokens []refreshToken
	nonces []nonce
}

type refreshToken struct {
	hash      []byte
	sessionID id.SessionID
	rotatedAt time.Time // zero while current
}

type nonce struct {
	hash      []byte
	sessionID id.SessionID
	expiresAt time.Time
	used      bool
}

type memSessions Memory

// t is the session table; the caller holds the lock.
func (r *memSessions) t() *sessionTable { return table[sessionTable]((*Memory)(r), "sessions") }

func sessionWithID(sessionID id.SessionID) func(session.Snapshot) bool {
	return func(s session.Snapshot) bool { return s.ID == sessionID }
}

func (r *memSessions) index(sessionID id.SessionID) int {
	return slices.IndexFunc(r.t().rows, sessionWithID(sessionID))
}

// liveIdentity reports whether the identity is live, in that account and
// game, as the store checks before it writes a session.
func (m *Memory) liveIdentity(identityID id.IdentityID, account id.AccountID, gameID id.GameID) bool {
	return slices.ContainsFunc(table[identityTable](m, "identities").rows, func(s identity.Snapshot) bool {
		return s.ID == identityID && s.AccountID == account && s.GameID == gameID && s.DeletedAt.IsZero()
	})
}

func (r *memSessions) Create(ctx context.Context, s *session.Session, refreshHash []byte) error {
	m := (*Memory)(r)
	return m.write(ctx, func(ctx context.Context, tx *memTx) error {
		snap := s.Snapshot()
		switch {
		case !m.liveIdentity(snap.IdentityID, snap.AccountID, snap.GameID):
			return identity.ErrNotFound
		case !m.liveGameIn(snap.AccountID, snap.GameID):
			return game.ErrNotFound
		}
		add(tx, &r.t().rows, snap)
		add(tx, &r.t().tokens, refreshToken{hash: bytes.Clone(refreshHash), sessionID: snap.ID})
		return tx.record(ctx, session.Created(s))
	})
}

func (r *memSessions) Get(ctx context.Context, sessionID id.SessionID) (*session.Session, error) {
	defer (*Memory)(r).lock(ctx)()
	i := r.index(sessionID)
	if i < 0 {
		return nil, session.ErrNotFound
	}
	return session.Rehydrate(r.t().rows[i]), nil
}

func (r *memSessions) Access(ctx context.Context, sessionID id.SessionID, now time.Time) (*session.Session, error) {
	defer (*Memory)(r).lock(ctx)()
	i := r.index(sessionID)
	if i < 0 {
		return nil, session.ErrAccessInvalid
	}
	m, s := (*Memory)(r), session.Rehydrate(r.t().rows[i])
	if !s.Active(domain.Timestamp(now)) || !m.liveIdentity(s.IdentityID(), s.AccountID(), s.GameID()) ||
		!m.liveGameIn(s.AccountID(), s.GameID()) {
		return nil, session.ErrAccessInvalid
	}
	return s, nil
}

func (r *memSessions) Update(ctx context.Context, sessionID id.SessionID, fn func(*session.Session) error) (*session.Session, error) {
	return update(ctx, (*Memory)(r), func() *[]session.Snapshot { return &r.t().rows }, sessionWithID(sessionID), session.ErrNotFound,
		session.Rehydrate, session.Changed, fn)
}

// Rotate revokes a reused token's session at the fake's own clock, as the
// store does: the port gives it none. That revocation commits although the
// caller is refused; a refresh records no event, as the store's.
func (r *memSessions) Rotate(ctx context.Context, old, fresh []byte, now time.Time, fn func(*session.Session) error) (*session.Session, error) {
	m := (*Memory)(r)
	var out *session.Session
	var reused bool
	err := m.write(ctx, func(ctx context.Context, tx *memTx) error {
		t := r.t()
		k := slices.IndexFunc(t.tokens, func(x refreshToken) bool { return bytes.Equal(x.hash, old) })
		if k < 0 {
			return session.ErrRefreshInvalid
		}
		i := r.index(t.tokens[k].sessionID)
		previous, s := session.Rehydrate(t.rows[i]), session.Rehydrate(t.rows[i])
		if !t.tokens[k].rotatedAt.IsZero() {
			reused = true
			s.Revoke(now)
			return saveIfChanged(ctx, tx, &t.rows, i, s.Snapshot(), func() event.Event { return session.ReuseDetected(previous, s) })
		}
		if !m.liveIdentity(s.IdentityID(), s.AccountID(), s.GameID()) || !m.liveGameIn(s.AccountID(), s.GameID()) {
			return session.ErrRefreshInvalid
		}
		if err := fn(s); err != nil {
			return err
		}
		rotated := t.tokens[k]
		rotated.rotatedAt = domain.Timestamp(now)
		set(tx, &t.tokens, k, rotated)
		set(tx, &t.rows, i, s.Snapshot())
		add(tx, &t.tokens, refreshToken{hash: bytes.Clone(fresh), sessionID: s.ID()})
		out = s
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case reused:
		return nil, session.ErrRefreshInvalid
	}
	return out, nil
}

func (r *memSessions) RevokeIdentity(ctx context.Context, identityID id.IdentityID, now time.Time, most int) error {
	return r.revokeAtMost(ctx, func(s session.Snapshot) bool { return s.IdentityID == identityID }, now, most)
}

func (r *memSessions) RevokeGame(ctx context.Context, gameID id.GameID, now time.Time, most int) error {
	return r.revokeAtMost(ctx, func(s session.Snapshot) bool { return s.GameID == gameID }, now, most)
}

// RevokeOrphaned revokes in one transaction what the store revokes in
// several: only a failure half way would tell them apart.
func (r *memSessions) RevokeOrphaned(ctx context.Context, now time.Time, most int) (int, error) {
	m := (*Memory)(r)
	var n int
	err := m.write(ctx, func(ctx context.Context, tx *memTx) (err error) {
		n, err = r.revoke(ctx, tx, func(s session.Snapshot) bool {
			return !m.liveIdentity(s.IdentityID, s.AccountID, s.GameID) || !m.liveGameIn(s.AccountID, s.GameID)
		}, now, most)
		return err
	})
	return n, err
}

// revokeAtMost revokes in the transaction of ctx when there is one.
func (r *memSessions) revokeAtMost(ctx context.Context, match func(session.Snapshot) bool, now time.Time, most int) error {
	return (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		_, err := r.revoke(ctx, tx, match, now, most)
		return err
	})
}

// revoke revokes at most most of the live sessions that match, recording an
// event for each, and reports how many.
func (r *memSessions) revoke(ctx context.Context, tx *memTx, match func(session.Snapshot) bool, now time.Time, most int) (int, error) {
	var events []event.Event
	for i, snap := range r.t().rows {
		if len(events) >= most {
			break
		}
		if !match(snap) || !snap.RevokedAt.IsZero() {
			continue
		}
		s := session.Rehydrate(snap)
		s.Revoke(now)
		set(tx, &r.t().rows, i, s.Snapshot())
		// As the store reports it: updated_at is no change.
		snap.UpdatedAt = s.UpdatedAt()
		events = append(events, session.Changed(session.Rehydrate(snap), s))
	}
	return len(events), tx.record(ctx, events...)
}

func (r *memSessions) List(ctx context.Context, f ports.SessionFilter, req paging.Request) (paging.Result[*session.Session], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*session.Session
	for _, s := range r.t().rows {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.IdentityID.IsZero() || s.IdentityID == f.IdentityID) {
			items = append(items, session.Rehydrate(s))
		}
	}
	return Page(items, req, ports.SessionSchema), nil
}

func (r *memSessions) CreateNonce(ctx context.Context, sessionID id.SessionID, hash []byte, expiresAt time.Time) error {
	return (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		if r.index(sessionID) < 0 {
			return session.ErrNotFound
		}
		t := r.t()
		// The cap, as the store keeps it: of the session's other unused nonces,
		// those beyond the newest that leave room for this one go.
		var others []nonce
		for _, n := range t.nonces {
			if n.sessionID == sessionID && !n.used {
				others = append(others, n)
			}
		}
		if excess := len(others) - (session.MaxUnusedNonces - 1); excess > 0 {
			slices.SortStableFunc(others, func(a, b nonce) int { return a.expiresAt.Compare(b.expiresAt) })
			deleteWhere(tx, &t.nonces, func(n nonce) bool {
				return slices.ContainsFunc(others[:excess], func(o nonce) bool { return bytes.Equal(o.hash, n.hash) })
			})
		}
		add(tx, &t.nonces, nonce{hash: bytes.Clone(hash), sessionID: sessionID, expiresAt: domain.Timestamp(expiresAt)})
		return nil
	})
}

func (r *memSessions) ConsumeNonce(ctx context.Context, sessionID id.SessionID, hash []byte, now time.Time) error {
	return (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		nonces := &r.t().nonces
		i := slices.IndexFunc(*nonces, func(n nonce) bool { return bytes.Equal(n.hash, hash) })
		switch {
		case i < 0 || (*nonces)[i].sessionID != sessionID:
			return session.ErrNonceInvalid
		case (*nonces)[i].used:
			return session.ErrNonceUsed
		case !domain.Timestamp(now).Before((*nonces)[i].expiresAt):
			return session.ErrNonceExpired
		}
		used := (*nonces)[i]
		used.used = true
		set(tx, nonces, i, used)
		return nil
	})
}

func (r *memSessions) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	now = domain.Timestamp(now)
	cutoff := now.Add(-keep)
	gone := map[id.SessionID]bool{}
	err := (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		t := r.t()
		deleteWhere(tx, &t.rows, func(s session.Snapshot) bool {
			dead := s.RefreshExpiresAt.Before(cutoff) || !s.RevokedAt.IsZero() && s.RevokedAt.Before(cutoff)
			if dead {
				gone[s.ID] = true
			}
			return dead
		})
		deleteWhere(tx, &t.tokens, func(k refreshToken) bool {
			return gone[k.sessionID] || !k.rotatedAt.IsZero() && k.rotatedAt.Before(cutoff)
		})
		deleteWhere(tx, &t.nonces, func(n nonce) bool { return gone[n.sessionID] || n.expiresAt.Before(now) })
		return nil
	})
	return len(gone), err
}
