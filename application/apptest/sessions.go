package apptest

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/leadr-oss/identity/domain"
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

func (r *memSessions) index(sessionID id.SessionID) int {
	return slices.IndexFunc(r.t().rows, func(s session.Snapshot) bool { return s.ID == sessionID })
}

// liveIdentity reports whether the identity is live, in that account and
// game, as the store checks before it writes a session.
func (m *Memory) liveIdentity(identityID id.IdentityID, account id.AccountID, gameID id.GameID) bool {
	return slices.ContainsFunc(table[identityTable](m, "identities").rows, func(s identity.Snapshot) bool {
		return s.ID == identityID && s.AccountID == account && s.GameID == gameID && s.DeletedAt.IsZero()
	})
}

func (r *memSessions) Create(_ context.Context, s *session.Session, refreshHash []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, snap := (*Memory)(r), s.Snapshot()
	switch {
	case !m.liveIdentity(snap.IdentityID, snap.AccountID, snap.GameID):
		return identity.ErrNotFound
	case !m.liveGameIn(snap.AccountID, snap.GameID):
		return game.ErrNotFound
	}
	r.t().rows = append(r.t().rows, snap)
	r.t().tokens = append(r.t().tokens, refreshToken{hash: bytes.Clone(refreshHash), sessionID: snap.ID})
	return nil
}

func (r *memSessions) Get(_ context.Context, sessionID id.SessionID) (*session.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.index(sessionID)
	if i < 0 {
		return nil, session.ErrNotFound
	}
	return session.Rehydrate(r.t().rows[i]), nil
}

func (r *memSessions) Access(_ context.Context, sessionID id.SessionID, now time.Time) (*session.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
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

func (r *memSessions) Update(_ context.Context, sessionID id.SessionID, fn func(*session.Session) error) (*session.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.index(sessionID)
	if i < 0 {
		return nil, session.ErrNotFound
	}
	s := session.Rehydrate(r.t().rows[i])
	if err := fn(s); err != nil {
		return nil, err
	}
	r.t().rows[i] = s.Snapshot()
	return s, nil
}

// Rotate revokes a reused token's session at the fake's own clock, as the
// store does: the port gives it none.
func (r *memSessions) Rotate(_ context.Context, old, fresh []byte, now time.Time, fn func(*session.Session) error) (*session.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tokens := r.t().tokens
	k := slices.IndexFunc(tokens, func(t refreshToken) bool { return bytes.Equal(t.hash, old) })
	if k < 0 {
		return nil, session.ErrRefreshInvalid
	}
	i := r.index(tokens[k].sessionID)
	s := session.Rehydrate(r.t().rows[i])
	if !tokens[k].rotatedAt.IsZero() {
		s.Revoke(now)
		r.t().rows[i] = s.Snapshot()
		return nil, session.ErrRefreshInvalid
	}
	if m := (*Memory)(r); !m.liveIdentity(s.IdentityID(), s.AccountID(), s.GameID()) || !m.liveGameIn(s.AccountID(), s.GameID()) {
		return nil, session.ErrRefreshInvalid
	}
	if err := fn(s); err != nil {
		return nil, err
	}
	tokens[k].rotatedAt = domain.Timestamp(now)
	r.t().rows[i] = s.Snapshot()
	r.t().tokens = append(tokens, refreshToken{hash: bytes.Clone(fresh), sessionID: s.ID()})
	return s, nil
}

func (r *memSessions) RevokeIdentity(_ context.Context, identityID id.IdentityID, now time.Time) error {
	r.revokeAll(func(s session.Snapshot) bool { return s.IdentityID == identityID }, now)
	return nil
}

func (r *memSessions) RevokeGame(_ context.Context, gameID id.GameID, now time.Time) error {
	r.revokeAll(func(s session.Snapshot) bool { return s.GameID == gameID }, now)
	return nil
}

func (r *memSessions) revokeAll(match func(session.Snapshot) bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, snap := range r.t().rows {
		if match(snap) {
			s := session.Rehydrate(snap)
			s.Revoke(now)
			r.t().rows[i] = s.Snapshot()
		}
	}
}

func (r *memSessions) List(_ context.Context, f ports.SessionFilter, req paging.Request) (paging.Result[*session.Session], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*session.Session
	for _, s := range r.t().rows {
		if (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.IdentityID.IsZero() || s.IdentityID == f.IdentityID) {
			items = append(items, session.Rehydrate(s))
		}
	}
	return Page(items, req, ports.SessionSchema), nil
}

func (r *memSessions) CreateNonce(_ context.Context, sessionID id.SessionID, hash []byte, expiresAt time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
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
		t.nonces = slices.DeleteFunc(t.nonces, func(n nonce) bool {
			return slices.ContainsFunc(others[:excess], func(o nonce) bool { return bytes.Equal(o.hash, n.hash) })
		})
	}
	t.nonces = append(t.nonces, nonce{hash: bytes.Clone(hash), sessionID: sessionID, expiresAt: domain.Timestamp(expiresAt)})
	return nil
}

func (r *memSessions) ConsumeNonce(_ context.Context, sessionID id.SessionID, hash []byte, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	nonces := r.t().nonces
	i := slices.IndexFunc(nonces, func(n nonce) bool { return bytes.Equal(n.hash, hash) })
	switch {
	case i < 0 || nonces[i].sessionID != sessionID:
		return session.ErrNonceInvalid
	case nonces[i].used:
		return session.ErrNonceUsed
	case !domain.Timestamp(now).Before(nonces[i].expiresAt):
		return session.ErrNonceExpired
	}
	nonces[i].used = true
	return nil
}

func (r *memSessions) Purge(_ context.Context, now time.Time, keep time.Duration) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now = domain.Timestamp(now)
	cutoff := now.Add(-keep)
	t := r.t()
	t.nonces = slices.DeleteFunc(t.nonces, func(n nonce) bool { return n.expiresAt.Before(now) })
	t.tokens = slices.DeleteFunc(t.tokens, func(k refreshToken) bool { return !k.rotatedAt.IsZero() && k.rotatedAt.Before(cutoff) })
	gone := map[id.SessionID]bool{}
	t.rows = slices.DeleteFunc(t.rows, func(s session.Snapshot) bool {
		dead := s.RefreshExpiresAt.Before(cutoff) || !s.RevokedAt.IsZero() && s.RevokedAt.Before(cutoff)
		gone[s.ID] = dead
		return dead
	})
	t.tokens = slices.DeleteFunc(t.tokens, func(k refreshToken) bool { return gone[k.sessionID] })
	t.nonces = slices.DeleteFunc(t.nonces, func(n nonce) bool { return gone[n.sessionID] })
	n := 0
	for _, dead := range gone {
		if dead {
			n++
		}
	}
	return n, nil
}
