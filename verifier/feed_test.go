package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// tokenOf is a token of session sid and player ply, issued at iat.
func (e *env) tokenOf(sid, ply string, iat time.Time) string {
	return e.token(func(c map[string]any) {
		c["sid"], c["ply"], c["iat"], c["exp"] = sid, ply, iat.Unix(), iat.Add(15*time.Minute).Unix()
	})
}

func (e *env) refused(token string) bool {
	_, err := e.v.Verify(e.t.Context(), token)
	if err != nil && !errors.Is(err, ErrRevoked) {
		e.t.Fatalf("refused for another reason: %v", err)
	}
	return err != nil
}

func TestFeedRevokesSessions(t *testing.T) {
	for _, typ := range []string{"session.revoked", "session.reuse_detected"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			e.follow(FeedConfig{})
			now := e.clock.Now()
			revoked, other := e.tokenOf(newID("ses_"), newID("ply_"), now), e.tokenOf(newID("ses_"), newID("ply_"), now)
			mustVerify(t, e.v, revoked)
			e.svc.record(typ, e.claimsOf(revoked).SessionID, now, nil)
			eventually(t, "the session's token is refused", func() bool { return e.refused(revoked) })
			mustVerify(t, e.v, other)
		})
	}
}

func (e *env) claimsOf(token string) Claims {
	tok, err := Parse(token)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Claims
}

// A player banned, deleted or purged loses the tokens issued until then,
// to the second; those issued later (after an unban or a restore) pass.
func TestFeedRevokesPlayers(t *testing.T) {
	for _, typ := range []string{"player.banned", "player.deleted", "player.purged"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			e.follow(FeedConfig{})
			now, ply := e.clock.Now(), newID("ply_")
			before := e.tokenOf(newID("ses_"), ply, now.Add(-time.Minute))
			sameSecond := e.tokenOf(newID("ses_"), ply, now.Add(time.Second))
			// Clocks differ by up to the leeway: a token that says it was
			// issued within it after the event may have been issued before.
			withinLeeway := e.tokenOf(newID("ses_"), ply, now.Add(e.v.leeway))
			after := e.tokenOf(newID("ses_"), ply, now.Add(e.v.leeway+2*time.Second))
			otherPlayer := e.tokenOf(newID("ses_"), newID("ply_"), now.Add(-time.Minute))
			e.svc.record(typ, ply, now.Add(500*time.Millisecond), nil)
			eventually(t, "the player's older token is refused", func() bool { return e.refused(before) })
			if !e.refused(sameSecond) || !e.refused(withinLeeway) {
				t.Fatal("a token issued in the second of the event, or within the leeway after it, passes")
			}
			e.clock.Add(e.v.leeway + 2*time.Second)
			mustVerify(t, e.v, after)
			mustVerify(t, e.v, otherPlayer)
		})
	}
}

func TestFeedMergedPlayer(t *testing.T) {
	e := newEnv(t)
	e.follow(FeedConfig{})
	now, from, into := e.clock.Now(), newID("ply_"), newID("ply_")
	ofFrom, ofInto := e.tokenOf(newID("ses_"), from, now), e.tokenOf(newID("ses_"), into, now)
	e.svc.record("player.merged", from, now, map[string]any{"from": from, "into": into})
	eventually(t, "the merged player's token is refused", func() bool { return e.refused(ofFrom) })
	mustVerify(t, e.v, ofInto)
}

// Revocations recorded before the verifier started are read back from the
// audit log, page after page, over one Window.
func TestFeedBackfill(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	early, ply, forgotten := newID("ses_"), newID("ply_"), newID("ses_")
	e.svc.record("session.revoked", forgotten, now.Add(-2*time.Hour), nil)
	e.svc.record("player.banned", ply, now.Add(-8*time.Minute), nil)
	e.svc.record("session.revoked", early, now.Add(-5*time.Minute), nil)
	for range 2 * logLimit {
		e.svc.record("session.revoked", newID("ses_"), now.Add(-time.Minute), nil)
	}
	e.follow(FeedConfig{})

	if !e.refused(e.tokenOf(early, newID("ply_"), now.Add(-10*time.Minute))) {
		t.Fatal("a session revoked before the start passes")
	}
	if !e.refused(e.tokenOf(newID("ses_"), ply, now.Add(-12*time.Minute))) {
		t.Fatal("a player banned before the start passes")
	}
	e.v.revoked.mu.RLock()
	defer e.v.revoked.mu.RUnlock()
	if _, ok := e.v.revoked.ids[forgotten]; ok {
		t.Fatal("a revocation older than the window is remembered")
	}
	if n := len(e.v.revoked.ids); n != 2*logLimit+2 {
		t.Fatalf("%d revocations remembered, want %d", n, 2*logLimit+2)
	}
}

// A lost position (410) restarts from a new head, and what happened in
// between is read back from the audit log.
func TestFeedPositionExpired(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	e.svc.record("session.revoked", newID("ses_"), now, nil)
	e.follow(FeedConfig{})
	revoked := e.tokenOf(newID("ses_"), newID("ply_"), now)
	e.svc.set(func(s *service) {
		s.gone[s.events[0].ID] = true
		s.events = append(s.events, fakeEvent{ID: newID("evt_"), Type: "session.revoked",
			Subject: e.claimsOf(revoked).SessionID, At: now, pos: len(s.events)})
	})
	if err := e.heard(); !strings.Contains(err.Error(), "status 410") || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("OnError heard %v", err)
	}
	eventually(t, "the token revoked while the position was lost is refused", func() bool { return e.refused(revoked) })
	e.svc.set(func(s *service) {
		if s.heads != 2 {
			t.Errorf("the newest event was read %d times, want 2", s.heads)
		}
	})
}

// While the feed cannot be read, tokens are accepted, and refused at
// their expiry.
func TestFeedUnreachable(t *testing.T) {
	e := newEnv(t)
	e.svc.set(func(s *service) { s.failEvents = true })
	if err := e.v.FollowFeed(t.Context(), FeedConfig{APIKey: apiKey, AccountID: accountID, PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := e.heard(); !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("OnError heard %v", err)
	}
	st := e.v.Status()
	if !st.Following || !st.FeedRead.IsZero() || st.FeedErr == nil {
		t.Fatalf("status %+v while the feed was never read", st)
	}
	now := e.clock.Now()
	token := e.tokenOf(newID("ses_"), newID("ply_"), now)
	e.svc.record("session.revoked", e.claimsOf(token).SessionID, now, nil)
	mustVerify(t, e.v, token)

	e.clock.Add(15*time.Minute + e.v.leeway)
	if _, err := e.v.Verify(t.Context(), token); !errors.Is(err, ErrExpired) {
		t.Fatalf("at exp + leeway: %v", err)
	}
}

// A failing feed keeps the time of its last read in the status.
func TestFeedStatusWhenItFails(t *testing.T) {
	e := newEnv(t)
	e.follow(FeedConfig{})
	e.svc.set(func(s *service) { s.failEvents = true })
	eventually(t, "the status says the feed fails", func() bool { return e.v.Status().FeedErr != nil })
	read := e.v.Status().FeedRead
	e.clock.Add(time.Minute)
	for len(e.errs) > 0 {
		<-e.errs
	}
	e.heard() // a failure after the clock moved
	if st := e.v.Status(); !st.Following || !st.FeedRead.Equal(read) || st.FeedErr == nil {
		t.Fatalf("status %+v, want the read at %v", st, read)
	}
}

func TestFeedWindowBoundsLifetime(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	long := e.token(func(c map[string]any) { c["exp"] = now.Add(10*time.Minute + time.Second).Unix() })
	mustVerify(t, e.v, long)
	e.follow(FeedConfig{Window: 10 * time.Minute})
	if _, err := e.v.Verify(t.Context(), long); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "lifetime") {
		t.Fatalf("a token outliving the window: %v", err)
	}
	mustVerify(t, e.v, e.token(func(c map[string]any) { c["exp"] = now.Add(10 * time.Minute).Unix() }))
}

func TestFeedForgetsOldRevocations(t *testing.T) {
	e := newEnv(t)
	e.follow(FeedConfig{Window: 10 * time.Minute})
	now := e.clock.Now()
	e.svc.record("session.revoked", newID("ses_"), now, nil)
	remembered := func() int {
		e.v.revoked.mu.RLock()
		defer e.v.revoked.mu.RUnlock()
		return len(e.v.revoked.ids)
	}
	eventually(t, "the revocation is learnt", func() bool { return remembered() == 1 })
	e.clock.Add(10*time.Minute + e.v.leeway + time.Second)
	eventually(t, "the revocation is forgotten", func() bool { return remembered() == 0 })
}

func TestFeedFromTheStart(t *testing.T) {
	e := newEnv(t)
	e.follow(FeedConfig{}) // no event yet: no head
	now := e.clock.Now()
	token := e.tokenOf(newID("ses_"), newID("ply_"), now)
	e.svc.record("session.revoked", e.claimsOf(token).SessionID, now, nil)
	eventually(t, "the token is refused", func() bool { return e.refused(token) })
}

func TestFollowFeedConfig(t *testing.T) {
	e := newEnv(t)
	for _, cfg := range []FeedConfig{{}, {APIKey: apiKey, PollInterval: -1}, {APIKey: apiKey, Window: -1}} {
		if err := e.v.FollowFeed(t.Context(), cfg); err == nil {
			t.Fatalf("FollowFeed(%+v) succeeded", cfg)
		}
	}
	ctx, stop := context.WithCancel(t.Context())
	if err := e.v.FollowFeed(ctx, FeedConfig{APIKey: apiKey, AccountID: accountID}); err != nil {
		t.Fatal(err)
	}
	if err := e.v.FollowFeed(ctx, FeedConfig{APIKey: apiKey, AccountID: accountID}); err == nil {
		t.Fatal("the feed is followed twice")
	}
	stop()
	eventually(t, "the follower stops with its context", func() bool { return !e.v.Status().Following })
}

// Tokens of an account whose feed the verifier does not read are refused:
// their revocations would never be heard of. A regular key reads its own
// account's feed; a superadmin's, every account's.
func TestFeedScope(t *testing.T) {
	for _, tt := range []struct {
		name        string
		superadmin  bool
		account     string
		othersValid bool
	}{
		{"a regular key", false, "", false},
		{"a regular key naming its account", false, accountID, false},
		{"a superadmin's key", true, "", true},
		{"a superadmin's key naming an account", true, accountID, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.set(func(s *service) { s.superadmin = tt.superadmin })
			if e.v.Ready() != nil {
				t.Fatal("Ready before FollowFeed")
			}
			if err := e.v.FollowFeed(t.Context(), FeedConfig{APIKey: apiKey, AccountID: tt.account, PollInterval: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-e.v.Ready():
			case <-time.After(10 * time.Second):
				t.Fatal("the start-up read never ended")
			}
			mustVerify(t, e.v, e.token(nil))
			other := e.token(func(c map[string]any) { c["acc"] = newID("acc_") })
			_, err := e.v.Verify(t.Context(), other)
			if tt.othersValid != (err == nil) || err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("a token of another account: %v", err)
			}
			// Revocations of the account read are heard either way.
			now := e.clock.Now()
			revoked := e.tokenOf(newID("ses_"), newID("ply_"), now)
			e.svc.record("session.revoked", e.claimsOf(revoked).SessionID, now, nil)
			eventually(t, "the session's token is refused", func() bool { return e.refused(revoked) })
		})
	}
}

// An event of a transaction that began before the verifier's start and
// committed after it read the audit log is behind the feed's position: the
// audit log, read again a minute after the start, has it.
func TestFeedReadsTheLogAgainAfterAStart(t *testing.T) {
	e := newEnv(t)
	e.svc.record("identity.created", newID("ide_"), e.clock.Now(), nil) // the head
	e.follow(FeedConfig{})
	now := e.clock.Now()
	late := e.tokenOf(newID("ses_"), newID("ply_"), now)
	e.svc.recordLate("session.revoked", e.claimsOf(late).SessionID, now)
	mustVerify(t, e.v, late) // the feed never serves it
	e.clock.Add(readAgainAfter)
	eventually(t, "the late revocation is learned", func() bool { return e.refused(late) })
}
