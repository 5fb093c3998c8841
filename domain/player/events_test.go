package player_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/player"
)

func subjectOf(p *player.Player) event.Subject {
	return event.Subject{Resource: "player", ID: p.ID().String()}
}

// Changed names what a change did to the player: a ban (made, or its
// expiry changed), a lift, a deletion, a restore; a change of its
// identities alone is none of these, and records no player event (its
// identities' events say it). Bans and deletions change access.
func TestChangedVerbs(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	tests := []struct {
		name   string
		prior  func(t *testing.T, p *player.Player) // before the change
		change func(t *testing.T, p *player.Player)
		typ    event.Type
		access bool
	}{
		{
			name:   "banned",
			change: func(t *testing.T, p *player.Player) { banned(t, p, time.Time{}) },
			typ:    "player.banned", access: true,
		},
		{
			name:  "the ban's expiry changed",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, time.Time{}) },
			change: func(t *testing.T, p *player.Player) {
				expiry := now.Add(time.Hour)
				if err := p.ChangeBan(p.Ban().ID(), &expiry, false, now); err != nil {
					t.Fatal(err)
				}
			},
			typ: "player.banned", access: true,
		},
		{
			name:  "unbanned",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, time.Time{}) },
			change: func(t *testing.T, p *player.Player) {
				if err := p.ChangeBan(p.Ban().ID(), nil, true, now); err != nil {
					t.Fatal(err)
				}
			},
			typ: "player.unbanned",
		},
		{
			name: "deleted",
			change: func(t *testing.T, p *player.Player) {
				if err := p.Delete(grace, now); err != nil {
					t.Fatal(err)
				}
			},
			typ: "player.deleted", access: true,
		},
		{
			name:  "deleted while banned",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, time.Time{}) },
			change: func(t *testing.T, p *player.Player) {
				if err := p.Delete(grace, now); err != nil {
					t.Fatal(err)
				}
			},
			typ: "player.deleted", access: true,
		},
		{
			name: "restored",
			prior: func(t *testing.T, p *player.Player) {
				if err := p.Delete(grace, t0); err != nil {
					t.Fatal(err)
				}
			},
			change: func(t *testing.T, p *player.Player) {
				if err := p.Restore(now); err != nil {
					t.Fatal(err)
				}
			},
			typ: "player.restored",
		},
		{
			name: "an identity linked",
			change: func(t *testing.T, p *player.Player) {
				if err := p.Link(newIdentity(t, accountID, gameID), now); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "an identity unlinked",
			prior: func(t *testing.T, p *player.Player) {
				if err := p.Link(newIdentity(t, accountID, gameID), t0); err != nil {
					t.Fatal(err)
				}
			},
			change: func(t *testing.T, p *player.Player) {
				if _, err := p.Unlink(p.Identities()[1].ID(), now); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "an identity linked after a ban expired",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, t0.Add(time.Minute)) },
			change: func(t *testing.T, p *player.Player) {
				if err := p.Link(newIdentity(t, accountID, gameID), now); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "an expired ban lifted",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, t0.Add(time.Minute)) },
			change: func(t *testing.T, p *player.Player) {
				if err := p.ChangeBan(p.Ban().ID(), nil, true, now); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:   "nothing",
			change: func(*testing.T, *player.Player) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			if tt.prior != nil {
				tt.prior(t, p)
			}
			before := p.Clone()
			tt.change(t, p)
			e := player.Changed(before, p)
			if e.Type != tt.typ || e.ChangesAccess != tt.access {
				t.Fatalf("type %q, changes access %v; want %q, %v", e.Type, e.ChangesAccess, tt.typ, tt.access)
			}
			if tt.typ == "" {
				return
			}
			if e.Subject != subjectOf(p) || e.AccountID != accountID || !e.OccurredAt.Equal(p.UpdatedAt()) {
				t.Errorf("subject %+v of %s at %v; want %+v of %s at %v", e.Subject, e.AccountID, e.OccurredAt, subjectOf(p), accountID, p.UpdatedAt())
			}
			if e.Before != before || e.After != p {
				t.Errorf("before %p, after %p; want %p, %p", e.Before, e.After, before, p)
			}
		})
	}
}

func TestCreated(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 2)
	alone, err := p.Unlink(p.Identities()[1].ID(), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*player.Player{"with its identity": newPlayer(t, 1), "by an unlink": alone} {
		e := player.Created(x)
		if e.Type != "player.created" || e.ChangesAccess || e.Subject != subjectOf(x) || e.AccountID != accountID ||
			!e.OccurredAt.Equal(x.CreatedAt()) || e.Before != nil || e.After != x {
			t.Errorf("%s: %+v", name, e)
		}
	}
}

func TestMerged(t *testing.T) {
	t.Parallel()
	into, from := newPlayer(t, 1), newPlayer(t, 2)
	intoBefore, fromBefore := into.Clone(), from.Clone()
	now := t0.Add(time.Hour)
	if err := into.Absorb(from, now); err != nil {
		t.Fatal(err)
	}
	e := player.Merged(from, into)
	if e.Type != "player.merged" || e.Subject != subjectOf(from) || e.AccountID != accountID || !e.OccurredAt.Equal(domain.Timestamp(now)) {
		t.Errorf("%s of %+v at %v; want player.merged of the closed player %s at %v", e.Type, e.Subject, e.OccurredAt, from.ID(), domain.Timestamp(now))
	}
	if want := (player.Merge{From: from.ID(), Into: into.ID()}); e.After != want || e.Before != nil {
		t.Errorf("data %+v (before %v), want %+v", e.After, e.Before, want)
	}
	// Neither player's change has a verb of Changed's: player.merged and
	// the identities' identity.linked say it all.
	for name, c := range map[string][2]*player.Player{"closed": {fromBefore, from}, "absorbing": {intoBefore, into}} {
		if e := player.Changed(c[0], c[1]); e.Type != "" {
			t.Errorf("Changed of the %s player: %s, want none", name, e.Type)
		}
	}
}

func TestPurged(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 2)
	banned(t, p, time.Time{})
	purgedAt := time.Date(2026, 4, 1, 2, 3, 4, 5678, time.FixedZone("X", 3600))
	if err := p.Purge(purgedAt); err != nil {
		t.Fatal(err)
	}
	e := player.Purged(p)
	want := player.Tombstone{ID: p.ID(), AccountID: accountID, GameID: gameID, PurgedAt: domain.Timestamp(purgedAt)}
	if p.Tombstone() != want {
		t.Errorf("tombstone %+v, want %+v", p.Tombstone(), want)
	}
	if e.Type != "player.purged" || !e.ChangesAccess || e.Subject != subjectOf(p) || e.AccountID != accountID ||
		!e.OccurredAt.Equal(want.PurgedAt) {
		t.Errorf("%s of %+v at %v, changes access %v", e.Type, e.Subject, e.OccurredAt, e.ChangesAccess)
	}
	if e.After != want || e.Before != nil {
		t.Errorf("data %+v (before %v), want the tombstone %+v", e.After, e.Before, want)
	}
}
