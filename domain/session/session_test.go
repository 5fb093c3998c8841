package session_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
)

var lifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}

// start is deliberately off UTC and below the microsecond: what a session
// records must already be what a store reads back.
var start = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))

func newSession(t *testing.T) (*session.Session, id.IdentityID, id.AccountID, id.GameID) {
	t.Helper()
	identityID, accountID, gameID := id.New[id.Identity](), id.New[id.Account](), id.New[id.Game]()
	return session.New(identityID, accountID, gameID, start, lifetimes), identityID, accountID, gameID
}

func TestNew(t *testing.T) {
	t.Parallel()
	s, identityID, accountID, gameID := newSession(t)
	if s.ID().IsZero() || !strings.HasPrefix(s.ID().String(), "ses_") {
		t.Errorf("ID = %q, want a ses_ ID", s.ID())
	}
	if s.IdentityID() != identityID || s.AccountID() != accountID || s.GameID() != gameID {
		t.Errorf("owners = %s %s %s, want %s %s %s", s.IdentityID(), s.AccountID(), s.GameID(), identityID, accountID, gameID)
	}
	now := domain.Timestamp(start)
	if now.Location() != time.UTC || now.Nanosecond()%1000 != 0 {
		t.Fatalf("domain.Timestamp(%v) = %v: the test's premise is wrong", start, now)
	}
	for name, got := range map[string]time.Time{
		"created_at":         s.CreatedAt(),
		"updated_at":         s.UpdatedAt(),
		"expires_at":         s.ExpiresAt().Add(-lifetimes.Access),
		"refresh_expires_at": s.RefreshExpiresAt().Add(-lifetimes.Refresh),
	} {
		if !got.Equal(now) || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
			t.Errorf("%s is %v from its lifetime, want %v (UTC, microseconds)", name, got, now)
		}
	}
	if s.IsRevoked() || !s.RevokedAt().IsZero() {
		t.Errorf("a new session is revoked (%v)", s.RevokedAt())
	}
	if !s.Active(start) {
		t.Error("a new session is not active")
	}
}

func TestNewIDsAreUnique(t *testing.T) {
	t.Parallel()
	a, _, _, _ := newSession(t)
	b, _, _, _ := newSession(t)
	if a.ID() == b.ID() {
		t.Errorf("two sessions share the ID %s", a.ID())
	}
}

func TestActive(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newSession(t)
	end := s.RefreshExpiresAt()
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"now", start, true},
		{"after the access token expired", s.ExpiresAt().Add(time.Hour), true},
		{"a microsecond before the refresh expiry", end.Add(-time.Microsecond), true},
		// The refresh token's expiry is its first invalid instant.
		{"at the refresh expiry", end, false},
		{"after the refresh expiry", end.Add(time.Second), false},
	}
	for _, tt := range tests {
		if got := s.Active(tt.now); got != tt.want {
			t.Errorf("%s: Active(%v) = %v, want %v", tt.name, tt.now, got, tt.want)
		}
	}
}

func TestActiveRevoked(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newSession(t)
	s.Revoke(start.Add(time.Minute))
	if s.Active(start.Add(2 * time.Minute)) {
		t.Error("a revoked session is active")
	}
	// Revocation is final: not only from when it happened.
	if s.Active(start) {
		t.Error("a revoked session is active at an instant before its revocation")
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newSession(t)
	before := s.Snapshot()
	later := start.Add(10*time.Minute + 999*time.Nanosecond)
	if err := s.Refresh(later, lifetimes); err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(later)
	after := s.Snapshot()
	if !after.ExpiresAt.Equal(now.Add(lifetimes.Access)) || !after.RefreshExpiresAt.Equal(now.Add(lifetimes.Refresh)) {
		t.Errorf("expiries = %v, %v, want %v, %v", after.ExpiresAt, after.RefreshExpiresAt,
			now.Add(lifetimes.Access), now.Add(lifetimes.Refresh))
	}
	if !after.UpdatedAt.Equal(now) || after.UpdatedAt.Location() != time.UTC {
		t.Errorf("updated_at = %v, want %v", after.UpdatedAt, now)
	}
	if !after.CreatedAt.Equal(before.CreatedAt) || after.ID != before.ID || after.IdentityID != before.IdentityID ||
		after.AccountID != before.AccountID || after.GameID != before.GameID || !after.RevokedAt.IsZero() {
		t.Errorf("Refresh changed more than the expiries and updated_at:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestRefreshWithOtherLifetimes(t *testing.T) {
	t.Parallel()
	// An operator may change the TTLs between two refreshes: the new ones apply.
	s, _, _, _ := newSession(t)
	short := session.Lifetimes{Access: time.Minute, Refresh: time.Hour}
	if err := s.Refresh(start, short); err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(start)
	if !s.ExpiresAt().Equal(now.Add(time.Minute)) || !s.RefreshExpiresAt().Equal(now.Add(time.Hour)) {
		t.Errorf("expiries = %v, %v", s.ExpiresAt(), s.RefreshExpiresAt())
	}
}

func TestRefreshRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(*session.Session) time.Time // returns when to refresh
	}{
		{"revoked", func(s *session.Session) time.Time {
			s.Revoke(start.Add(time.Minute))
			return start.Add(2 * time.Minute)
		}},
		{"refresh expired", func(s *session.Session) time.Time { return s.RefreshExpiresAt().Add(time.Second) }},
		{"at the refresh expiry", func(s *session.Session) time.Time { return s.RefreshExpiresAt() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _, _, _ := newSession(t)
			now := tt.prepare(s)
			before := s.Snapshot()
			if err := s.Refresh(now, lifetimes); !errors.Is(err, session.ErrRefreshInvalid) {
				t.Fatalf("Refresh = %v, want ErrRefreshInvalid", err)
			}
			if after := s.Snapshot(); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused Refresh changed the session:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestMaxAge: a session lives at most MaxAge from its sign-in however
// often it is refreshed, and nothing it hands out outlives that.
func TestMaxAge(t *testing.T) {
	t.Parallel()
	l := session.Lifetimes{Access: 15 * time.Minute, Refresh: 24 * time.Hour, MaxAge: 60 * time.Hour}
	s := session.New(id.New[id.Identity](), id.New[id.Account](), id.New[id.Game](), start, l)
	born := domain.Timestamp(start)
	end := born.Add(l.MaxAge)
	if access, refresh := s.TokenLifetimes(); access != l.Access || refresh != l.Refresh {
		t.Fatalf("first tokens live %v and %v, want %v and %v", access, refresh, l.Access, l.Refresh)
	}
	// Refreshes well before the end get whole lifetimes.
	at := start.Add(20 * time.Hour)
	if err := s.Refresh(at, l); err != nil {
		t.Fatal(err)
	}
	if access, refresh := s.TokenLifetimes(); access != l.Access || refresh != l.Refresh {
		t.Fatalf("tokens of a refresh at 20 h live %v and %v", access, refresh)
	}
	// Near the end the refresh token is cut short...
	at = start.Add(40 * time.Hour)
	if err := s.Refresh(at, l); err != nil {
		t.Fatal(err)
	}
	if !s.RefreshExpiresAt().Equal(end) || !s.ExpiresAt().Equal(domain.Timestamp(at).Add(l.Access)) {
		t.Fatalf("expiries %v, %v after a refresh at 40 h, want the refresh token to end at %v", s.ExpiresAt(), s.RefreshExpiresAt(), end)
	}
	if _, refresh := s.TokenLifetimes(); refresh != 20*time.Hour {
		t.Fatalf("the refresh token of a refresh at 40 h lives %v, want 20h", refresh)
	}
	// ...and at its last minutes so is the access token.
	at = end.Add(-5 * time.Minute)
	if err := s.Refresh(at, l); err != nil {
		t.Fatal(err)
	}
	if !s.ExpiresAt().Equal(end) || !s.RefreshExpiresAt().Equal(end) {
		t.Fatalf("expiries %v, %v five minutes before the end, want both %v", s.ExpiresAt(), s.RefreshExpiresAt(), end)
	}
	if access, _ := s.TokenLifetimes(); access != 5*time.Minute {
		t.Fatalf("the last access token lives %v, want 5m", access)
	}
	before := s.Snapshot()
	for _, at := range []time.Time{end, end.Add(time.Hour)} {
		if err := s.Refresh(at, l); !errors.Is(err, session.ErrRefreshInvalid) {
			t.Fatalf("Refresh at %v = %v, want ErrRefreshInvalid", at.Sub(born), err)
		}
	}
	if !reflect.DeepEqual(s.Snapshot(), before) {
		t.Errorf("a refused refresh changed the session")
	}

	// A session that began before the age was bounded (or before it was
	// lowered) may hold a refresh token beyond it: past its age it is
	// refreshed no more.
	old := session.Rehydrate(session.Snapshot{
		ID: id.New[id.Session](), IdentityID: id.New[id.Identity](), AccountID: id.New[id.Account](), GameID: id.New[id.Game](),
		ExpiresAt: end.Add(time.Hour), RefreshExpiresAt: end.Add(720 * time.Hour), CreatedAt: born, UpdatedAt: end,
	})
	if err := old.Refresh(end.Add(time.Hour), l); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("refresh of a session past its age: %v, want ErrRefreshInvalid", err)
	}
}

// TestIssued: no token of a session expires after its newest, so one that
// does was not issued by it, however validly signed.
func TestIssued(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newSession(t)
	exp := s.ExpiresAt()
	for _, tt := range []struct {
		exp  time.Time
		want bool
	}{
		{exp, true},
		{exp.Truncate(time.Second), true}, // a JWT's exp is whole seconds
		{exp.Add(-time.Hour), true},
		{exp.Add(time.Microsecond), false},
		{exp.Add(time.Hour), false},
		{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := s.Issued(tt.exp); got != tt.want {
			t.Errorf("Issued(%v) = %v, want %v (newest token expires %v)", tt.exp, got, tt.want, exp)
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newSession(t)
	first := start.Add(time.Minute + 7*time.Nanosecond)
	if !s.Revoke(first) {
		t.Fatal("the first Revoke reported no change")
	}
	want := domain.Timestamp(first)
	if !s.IsRevoked() || !s.RevokedAt().Equal(want) || s.RevokedAt().Location() != time.UTC || !s.UpdatedAt().Equal(want) {
		t.Fatalf("revoked_at, updated_at = %v, %v, want %v", s.RevokedAt(), s.UpdatedAt(), want)
	}
	before := s.Snapshot()
	// Revoking again is what DELETE /v1/identity-sessions/{id} twice does:
	// the answer keeps the first revocation.
	if s.Revoke(first.Add(time.Hour)) {
		t.Error("the second Revoke reported a change")
	}
	if after := s.Snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("the second Revoke changed the session:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestSnapshotRehydrateRoundTrip(t *testing.T) {
	t.Parallel()
	live, _, _, _ := newSession(t)
	revoked, _, _, _ := newSession(t)
	revoked.Revoke(start.Add(time.Minute))
	for name, s := range map[string]*session.Session{"live": live, "revoked": revoked} {
		snap := s.Snapshot()
		back := session.Rehydrate(snap)
		if got := back.Snapshot(); !reflect.DeepEqual(got, snap) {
			t.Errorf("%s: round trip changed the snapshot:\nwant %+v\ngot  %+v", name, snap, got)
		}
		if back.ID() != s.ID() || back.IsRevoked() != s.IsRevoked() || back.Active(start) != s.Active(start) {
			t.Errorf("%s: the rehydrated session differs from the original", name)
		}
	}
}

func TestRehydrateToUTC(t *testing.T) {
	t.Parallel()
	// Stores hand back times in the connection's zone (time.Local, a
	// session's TimeZone): the aggregate speaks UTC whatever they do.
	zone := time.FixedZone("UTC-7", -7*3600)
	at := time.Date(2025, 6, 1, 5, 0, 0, 123000, zone)
	snap := session.Snapshot{
		ID: id.New[id.Session](), IdentityID: id.New[id.Identity](), AccountID: id.New[id.Account](), GameID: id.New[id.Game](),
		ExpiresAt: at.Add(15 * time.Minute), RefreshExpiresAt: at.Add(720 * time.Hour), RevokedAt: at.Add(time.Minute),
		CreatedAt: at, UpdatedAt: at.Add(time.Minute),
	}
	s := session.Rehydrate(snap)
	for name, got := range map[string]time.Time{
		"expires_at": s.ExpiresAt(), "refresh_expires_at": s.RefreshExpiresAt(), "revoked_at": s.RevokedAt(),
		"created_at": s.CreatedAt(), "updated_at": s.UpdatedAt(),
	} {
		if got.Location() != time.UTC {
			t.Errorf("%s is in %v, want UTC", name, got.Location())
		}
	}
	if !s.CreatedAt().Equal(at) || !s.RevokedAt().Equal(at.Add(time.Minute)) {
		t.Errorf("Rehydrate moved the instants: created_at %v, revoked_at %v", s.CreatedAt(), s.RevokedAt())
	}

	// A store reads a NULL revoked_at as the zero time: still not revoked.
	snap.RevokedAt = time.Time{}
	s = session.Rehydrate(snap)
	if s.IsRevoked() || !s.RevokedAt().IsZero() {
		t.Errorf("revoked_at = %#v, want the zero time", s.RevokedAt())
	}
}

func TestErrorCategories(t *testing.T) {
	t.Parallel()
	// The adapters answer by category: these are the statuses of the contract.
	tests := []struct {
		err  error
		want domain.Category
	}{
		{session.ErrNotFound, domain.CategoryNotFound},
		{session.ErrForbidden, domain.CategoryForbidden},
		{session.ErrRefreshInvalid, domain.CategoryUnauthenticated},
		{session.ErrAccessRequired, domain.CategoryUnauthenticated},
		{session.ErrAccessInvalid, domain.CategoryUnauthenticated},
		{session.ErrNonceRequired, domain.CategoryPreconditionFailed},
		{session.ErrNonceInvalid, domain.CategoryPreconditionFailed},
		{session.ErrNonceUsed, domain.CategoryPreconditionFailed},
		{session.ErrNonceExpired, domain.CategoryPreconditionFailed},
		{session.ErrSteamNotConfigured, domain.CategoryBadRequest},
		{session.ErrSteamTicketInvalid, domain.CategoryUnauthenticated},
		{session.ErrSteamBanned, domain.CategoryForbidden},
		{session.ErrSteamUnavailable, domain.CategoryUnavailable},
	}
	for _, tt := range tests {
		if got := domain.CategoryOf(tt.err); got != tt.want {
			t.Errorf("%v: category %v, want %v", tt.err, got, tt.want)
		}
	}
}
