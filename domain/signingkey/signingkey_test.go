package signingkey_test

import (
	"errors"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
)

var (
	t0    = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sched = signingkey.Schedule{Rotation: 30 * 24 * time.Hour, TokenTTL: 15 * time.Minute}
)

// firstKey is the ring of a new database after its first Schedule.
func firstKey(t *testing.T) (*signingkey.Ring, *signingkey.Key) {
	t.Helper()
	r := signingkey.NewRing(nil)
	k, err := r.Schedule(t0, sched)
	if err != nil || k == nil {
		t.Fatalf("the first schedule made %v, %v", k, err)
	}
	return r, k
}

func TestTheFirstKeySignsAtOnce(t *testing.T) {
	r, k := firstKey(t)
	if r.Signer(t0) != k || k.Private() == nil {
		t.Fatalf("the first key does not sign at once")
	}
	if again, _ := r.Schedule(t0.Add(time.Hour), sched); again != nil {
		t.Fatalf("a second key was made long before the rotation")
	}
	if got := r.Changed(); len(got) != 1 || got[0] != k {
		t.Fatalf("changed = %v", got)
	}
}

// The rotation: the next key appears Lead before it signs, takes over at
// the rotation instant, and the old one is published until its last token
// expired, then dropped.
func TestRotationOnSchedule(t *testing.T) {
	r, first := firstKey(t)
	rotateAt := t0.Add(sched.Rotation)

	if k, _ := r.Schedule(rotateAt.Add(-signingkey.Lead-time.Second), sched); k != nil {
		t.Fatal("the next key was made before Lead")
	}
	next, err := r.Schedule(rotateAt.Add(-signingkey.Lead), sched)
	if err != nil || next == nil {
		t.Fatalf("no next key at Lead before the rotation: %v", err)
	}
	if !next.SignsFrom().Equal(rotateAt) {
		t.Fatalf("the next key signs from %v, want %v", next.SignsFrom(), rotateAt)
	}
	if k, _ := r.Schedule(rotateAt.Add(-time.Minute), sched); k != nil {
		t.Fatal("a second pending key was made")
	}

	steps := []struct {
		at           time.Time
		signer       *signingkey.Key
		first, other signingkey.State
	}{
		{rotateAt.Add(-time.Nanosecond), first, signingkey.Signing, signingkey.Pending},
		{rotateAt, next, signingkey.Retired, signingkey.Signing},
		{rotateAt.Add(sched.TokenTTL + signingkey.Margin - time.Nanosecond), next, signingkey.Retired, signingkey.Signing},
		{rotateAt.Add(sched.TokenTTL + signingkey.Margin), next, signingkey.Expired, signingkey.Signing},
	}
	for _, s := range steps {
		if r.Signer(s.at) != s.signer {
			t.Errorf("at %v the wrong key signs", s.at)
		}
		if got := r.State(first, s.at, sched); got != s.first {
			t.Errorf("at %v the first key is %s, want %s", s.at, got, s.first)
		}
		if got := r.State(next, s.at, sched); got != s.other {
			t.Errorf("at %v the next key is %s, want %s", s.at, got, s.other)
		}
		published := r.Published(s.at, sched)
		wantFirst := s.first != signingkey.Expired
		if (r.Verifying(first.ID(), s.at, sched) != nil) != wantFirst || len(published) != 1+btoi(wantFirst) {
			t.Errorf("at %v the first key's publication is wrong: %d published", s.at, len(published))
		}
	}

	// Its private part goes Lead after it stopped signing, not at once: a
	// replica whose clock runs ahead must not wipe what the others sign
	// with.
	r.Prune(rotateAt.Add(signingkey.Lead-time.Nanosecond), sched)
	if first.Private() == nil {
		t.Fatal("prune wiped the retired key's private part within Lead of the switch")
	}
	r.Prune(rotateAt.Add(signingkey.Lead), sched)
	if first.Private() != nil || next.Private() == nil {
		t.Fatal("prune did not wipe exactly the retired key's private part")
	}
	r.Prune(rotateAt.Add(sched.TokenTTL+signingkey.Margin), sched)
	if d := r.Dropped(); len(d) != 1 || d[0] != first.ID() || len(r.Keys()) != 1 {
		t.Fatalf("prune dropped %v, keeps %d", d, len(r.Keys()))
	}
}

// A late schedule (replicas down over the rotation instant) still
// publishes the next key Lead before it signs.
func TestALateRotationKeepsTheLead(t *testing.T) {
	r, _ := firstKey(t)
	late := t0.Add(sched.Rotation + time.Hour)
	next, err := r.Schedule(late, sched)
	if err != nil || next == nil || !next.SignsFrom().Equal(late.Add(signingkey.Lead)) {
		t.Fatalf("late rotation: %v, %v", next, err)
	}
}

// A signer without its private part (wiped by a replica whose clock ran
// far ahead, or by an operator's host with a slow clock) is replaced at
// once rather than left to fail every sign-in.
func TestASignerThatCannotSignIsReplaced(t *testing.T) {
	r, first := firstKey(t)
	now := t0.Add(time.Hour)
	next, _, _ := r.Rotate(now)
	fast := next.SignsFrom().Add(signingkey.Lead) // a clock Lead ahead
	r.Prune(fast, sched)
	if first.Private() != nil {
		t.Fatal("the fast clock did not wipe the first key")
	}
	// On time, the first key still signs, without its private part.
	signsFrom, due := r.Due(now.Add(time.Minute), sched)
	if !due || !signsFrom.Equal(now.Add(time.Minute)) {
		t.Fatalf("a signer that cannot sign: due %v at %v", due, signsFrom)
	}
	k, err := r.Schedule(now.Add(time.Minute), sched)
	if err != nil || k == nil || r.Signer(now.Add(time.Minute)) != k {
		t.Fatalf("the replacement does not sign at once: %v %v", k, err)
	}
}

func TestRotateNow(t *testing.T) {
	r, first := firstKey(t)
	now := t0.Add(time.Hour)
	next, created, err := r.Rotate(now)
	if err != nil || !created || !next.SignsFrom().Equal(now.Add(signingkey.Lead)) {
		t.Fatalf("rotate: %v %v %v", next, created, err)
	}
	if r.Signer(now.Add(signingkey.Lead-time.Nanosecond)) != first || r.Signer(now.Add(signingkey.Lead)) != next {
		t.Fatal("the rotated key does not take over exactly Lead later")
	}
	again, created, err := r.Rotate(now.Add(time.Minute))
	if err != nil || created || again != next {
		t.Fatalf("a second rotation while one is pending made another key")
	}
}

func TestRevoke(t *testing.T) {
	t.Run("the signer, with a key pending: the pending key signs at once", func(t *testing.T) {
		r, first := firstKey(t)
		now := t0.Add(time.Hour)
		next, _, _ := r.Rotate(now)
		if _, err := r.Revoke(first.ID(), now); err != nil {
			t.Fatal(err)
		}
		if r.Signer(now) != next || r.State(first, now, sched) != signingkey.Revoked || first.Private() != nil {
			t.Fatal("the pending key does not sign at once, or the revoked key lives on")
		}
		if r.Verifying(first.ID(), now, sched) != nil || len(r.Published(now, sched)) != 1 {
			t.Fatal("a revoked key is published")
		}
	})
	t.Run("the signer alone: a new key signs at once", func(t *testing.T) {
		r, first := firstKey(t)
		now := t0.Add(time.Hour)
		if _, err := r.Revoke(first.ID(), now); err != nil {
			t.Fatal(err)
		}
		s := r.Signer(now)
		if s == nil || s == first || len(r.Changed()) != 2 {
			t.Fatal("no new key signs after the only one was revoked")
		}
	})
	t.Run("a pending key: the signer goes on, the next rotation makes another", func(t *testing.T) {
		r, first := firstKey(t)
		now := t0.Add(time.Hour)
		next, _, _ := r.Rotate(now)
		if _, err := r.Revoke(next.ID(), now); err != nil {
			t.Fatal(err)
		}
		if r.Signer(now.Add(signingkey.Lead)) != first {
			t.Fatal("revoking the pending key changed the signer")
		}
		if again, created, _ := r.Rotate(now); !created || again == next {
			t.Fatal("a rotation after revoking the pending key made none")
		}
	})
	t.Run("an unknown key", func(t *testing.T) {
		r, _ := firstKey(t)
		if _, err := r.Revoke(id.New[id.SigningKey](), t0); !errors.Is(err, signingkey.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a revoked key is dropped once its tokens expired", func(t *testing.T) {
		r, first := firstKey(t)
		now := t0.Add(time.Hour)
		r.Revoke(first.ID(), now)
		r.Prune(now.Add(sched.TokenTTL), sched)
		if len(r.Dropped()) != 0 {
			t.Fatal("dropped before its tokens expired")
		}
		r.Prune(now.Add(sched.TokenTTL+signingkey.Margin), sched)
		if d := r.Dropped(); len(d) != 1 || d[0] != first.ID() {
			t.Fatalf("dropped %v", d)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// NeedsWork says yes exactly when Schedule or Prune would change something:
// a replica takes the store's lock for nothing else (Prune waits Lead
// after a switch to wipe, so NeedsWork must too).
func TestNeedsWorkAgreesWithPrune(t *testing.T) {
	r, _ := firstKey(t)
	next, _, _ := r.Rotate(t0.Add(time.Hour))
	switched := next.SignsFrom()
	for _, at := range []time.Time{switched, switched.Add(signingkey.Lead / 2), switched.Add(signingkey.Lead - time.Nanosecond)} {
		if r.NeedsWork(at, sched) {
			t.Fatalf("work at %v after the switch, within Lead", at.Sub(switched))
		}
	}
	if !r.NeedsWork(switched.Add(signingkey.Lead), sched) {
		t.Fatal("no work Lead after the switch, when the retired key's private part goes")
	}
	r.Prune(switched.Add(signingkey.Lead), sched)
	if r.NeedsWork(switched.Add(signingkey.Lead), sched) {
		t.Fatal("work left after Prune")
	}
	if !r.NeedsWork(switched.Add(sched.TokenTTL+signingkey.Margin), sched) {
		t.Fatal("no work when the retired key is to go")
	}
}
