package player_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/player"
)

// invalid fails t unless err is an Invalid error of field breaking rule.
func invalid(t *testing.T, err error, field string, rule domain.Rule) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Category != domain.CategoryInvalid {
		t.Fatalf("error %v, want an Invalid error of %s", err, field)
	}
	if de.Field != field || de.Rule != rule {
		t.Errorf("field, rule = %q, %v; want %q, %v", de.Field, de.Rule, field, rule)
	}
}

func TestParseReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
		rule domain.Rule // of the refusal; NoRule: accepted
	}{
		{"plain", "Cheating", "Cheating", domain.NoRule},
		{"trimmed", " \tCheating in ranked\n ", "Cheating in ranked", domain.NoRule},
		{"500 characters, not bytes", strings.Repeat("é", player.MaxReason), strings.Repeat("é", player.MaxReason), domain.NoRule},
		{"empty", "", "", domain.MinLength},
		{"blank", " \n\t ", "", domain.MinLength},
		{"501 characters", strings.Repeat("a", player.MaxReason+1), "", domain.MaxLength},
		{"501 once trimmed is 500", " " + strings.Repeat("a", player.MaxReason) + " ", strings.Repeat("a", player.MaxReason), domain.NoRule},
		{"invalid UTF-8", "Cheat\xffing", "", domain.Custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := player.ParseReason(tt.in)
			if tt.rule != domain.NoRule {
				invalid(t, err, "reason", tt.rule)
				if !r.IsZero() {
					t.Errorf("refused reason %q returned with its error", r)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseReason(%q): %v", tt.in, err)
			}
			if r.String() != tt.want || r.IsZero() {
				t.Errorf("ParseReason(%q) = %q, want %q", tt.in, r, tt.want)
			}
		})
	}
}

func TestBanFor(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	expiry := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	tests := []struct {
		name    string
		prior   func(t *testing.T, p *player.Player) // what happened before now
		reason  string                               // "": none
		expires time.Time
		err     error
		field   string // of an Invalid error
		rule    domain.Rule
	}{
		{name: "until lifted", reason: "Cheating"},
		{name: "until a date", reason: "Cheating", expires: expiry},
		{name: "no reason", field: "reason", rule: domain.Required},
		{name: "expiry in the past", reason: "Cheating", expires: now.Add(-time.Second), field: "expires_at", rule: domain.Custom},
		{name: "expiry now", reason: "Cheating", expires: now, field: "expires_at", rule: domain.Custom},
		{name: "already banned until lifted", reason: "Again", err: player.ErrAlreadyBanned,
			prior: func(t *testing.T, p *player.Player) { banned(t, p, time.Time{}) }},
		{name: "already banned until later", reason: "Again", err: player.ErrAlreadyBanned,
			prior: func(t *testing.T, p *player.Player) { banned(t, p, now.Add(time.Microsecond)) }},
		// A ban that expired, or was lifted, does not stand in the way.
		{name: "after a ban expired", reason: "Again",
			prior: func(t *testing.T, p *player.Player) { banned(t, p, now) }},
		{name: "after a ban was lifted", reason: "Again", prior: func(t *testing.T, p *player.Player) {
			b := banned(t, p, time.Time{})
			if err := p.ChangeBan(b.ID(), nil, true, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			var earlier *player.Ban
			if tt.prior != nil {
				tt.prior(t, p)
				earlier = p.ChangedBan()
			}
			var reason player.Reason
			if tt.reason != "" {
				reason = mustReason(t, tt.reason)
			}
			before := p.Clone()
			b, err := p.BanFor(reason, tt.expires, actor, now)
			switch {
			case tt.field != "":
				invalid(t, err, tt.field, tt.rule)
			case !errors.Is(err, tt.err):
				t.Fatalf("BanFor: %v, want %v", err, tt.err)
			}
			if tt.field != "" || tt.err != nil {
				if b != nil {
					t.Errorf("a refused ban %s returned", b.ID())
				}
				unchanged(t, "a refused ban", before, p)
				return
			}
			at := domain.Timestamp(now)
			var wantExpiry time.Time
			if !tt.expires.IsZero() {
				wantExpiry = domain.Timestamp(tt.expires)
			}
			if b.ID().IsZero() || !strings.HasPrefix(b.ID().String(), "ban_") || b.PlayerID() != p.ID() {
				t.Errorf("ban %s of player %s, want a ban_ ID of %s", b.ID(), b.PlayerID(), p.ID())
			}
			if earlier != nil && b.ID() == earlier.ID() {
				t.Errorf("the new ban has the earlier one's ID %s", b.ID())
			}
			if b.Reason().String() != tt.reason || b.ExpiresAt() != wantExpiry || b.Actor() != actor {
				t.Errorf("reason %q, expires_at %v, actor %+v; want %q, %v, %+v", b.Reason(), b.ExpiresAt(), b.Actor(), tt.reason, wantExpiry, actor)
			}
			if b.IsLifted() || !b.LiftedAt().IsZero() || b.CreatedAt() != at || b.UpdatedAt() != at || !b.ActiveAt(now) {
				t.Errorf("lifted_at %v, created_at %v, updated_at %v, active %v", b.LiftedAt(), b.CreatedAt(), b.UpdatedAt(), b.ActiveAt(now))
			}
			if p.Ban() != b || p.ChangedBan() != b || p.UpdatedAt() != at {
				t.Errorf("the player's ban %v, changed %v, updated_at %v", p.Ban(), p.ChangedBan(), p.UpdatedAt())
			}
			if err := p.CheckNotBanned(now); !errors.Is(err, player.ErrBanned) {
				t.Errorf("CheckNotBanned after the ban: %v", err)
			}
		})
	}
}

func TestChangeBan(t *testing.T) {
	t.Parallel()
	expiry := domain.Timestamp(t0.Add(2 * time.Hour))
	now := t0.Add(time.Hour)
	later := time.Date(2026, 6, 1, 0, 0, 0, 777, time.UTC)
	tests := []struct {
		name    string
		prior   func(t *testing.T, p *player.Player, b *player.Ban) // after the ban, before now
		at      time.Time                                           // now, if zero
		other   bool                                                // a ban ID that is not the player's
		expires *time.Time
		lift    bool
		err     error
		field   string // of an Invalid error
		// the ban afterwards; a zero updated_at means unchanged.
		wantExpiry time.Time
		wantLifted bool
	}{
		{name: "new expiry", expires: &later, wantExpiry: domain.Timestamp(later)},
		{name: "clear the expiry", expires: &time.Time{}},
		{name: "lift", lift: true, wantExpiry: expiry, wantLifted: true},
		{name: "lift and change the expiry", expires: &later, lift: true, wantExpiry: domain.Timestamp(later), wantLifted: true},
		{name: "expiry in the past", expires: ptr(now.Add(-time.Second)), field: "expires_at"},
		{name: "expiry now", expires: &now, field: "expires_at"},
		// A ban no longer in force: a lift changes nothing, a new expiry
		// is a conflict.
		{name: "lift a lifted ban", lift: true, prior: lift},
		{name: "lift an expired ban", lift: true, at: expiry},
		{name: "new expiry of a lifted ban", expires: &later, prior: lift, err: player.ErrBanNotActive},
		{name: "new expiry of an expired ban", expires: &later, at: expiry.Add(time.Minute), err: player.ErrBanNotActive},
		{name: "clear the expiry of an expired ban", expires: &time.Time{}, at: expiry, err: player.ErrBanNotActive},
		{name: "lift another ban", lift: true, other: true},
		{name: "new expiry of another ban", expires: &later, other: true, err: player.ErrBanNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			b := banned(t, p, expiry)
			if tt.prior != nil {
				tt.prior(t, p, b)
			}
			at := tt.at
			if at.IsZero() {
				at = now
			}
			banID := b.ID()
			if tt.other {
				banID = id.New[id.Ban]()
			}
			before := p.Clone()
			err := p.ChangeBan(banID, tt.expires, tt.lift, at)
			switch {
			case tt.field != "":
				invalid(t, err, tt.field, domain.Custom)
			case !errors.Is(err, tt.err):
				t.Fatalf("ChangeBan: %v, want %v", err, tt.err)
			}
			changes := tt.field == "" && tt.err == nil && (tt.expires != nil || tt.lift) && before.Ban() != nil && !tt.other && at.Before(expiry)
			if !changes {
				unchanged(t, "ChangeBan", before, p)
				return
			}
			got := p.ChangedBan()
			stamp := domain.Timestamp(at)
			if got.ExpiresAt() != tt.wantExpiry || got.IsLifted() != tt.wantLifted {
				t.Errorf("expires_at %v, lifted %v; want %v, %v", got.ExpiresAt(), got.IsLifted(), tt.wantExpiry, tt.wantLifted)
			}
			if got.UpdatedAt() != stamp || p.UpdatedAt() != stamp || got.CreatedAt() != domain.Timestamp(t0) {
				t.Errorf("updated_at %v (player %v), created_at %v; want %v, %v", got.UpdatedAt(), p.UpdatedAt(), got.CreatedAt(), stamp, domain.Timestamp(t0))
			}
			if tt.wantLifted {
				if got.LiftedAt() != stamp || p.Ban() != nil || got.ActiveAt(at) || p.CheckNotBanned(at) != nil {
					t.Errorf("lifted at %v, ban in force %v, active %v", got.LiftedAt(), p.Ban(), got.ActiveAt(at))
				}
			} else if p.Ban() != got || !got.ActiveAt(at) {
				t.Errorf("ban in force %v, active %v; want the changed ban, active", p.Ban(), got.ActiveAt(at))
			}
		})
	}
}

// The same expiry again is no change: updated_at stays.
func TestChangeBanToTheSameExpiry(t *testing.T) {
	t.Parallel()
	expiry := t0.Add(2 * time.Hour)
	p := newPlayer(t, 1)
	b := banned(t, p, expiry)
	before := p.Clone()
	if err := p.ChangeBan(b.ID(), &expiry, false, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unchanged(t, "the same expiry", before, p)
}

func lift(t *testing.T, p *player.Player, b *player.Ban) {
	t.Helper()
	if err := p.ChangeBan(b.ID(), nil, true, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestActiveAt(t *testing.T) {
	t.Parallel()
	expiry := domain.Timestamp(t0.Add(time.Hour))
	far := t0.Add(100 * 365 * 24 * time.Hour)
	tests := []struct {
		name   string
		expiry time.Time
		lifted bool
		at     time.Time
		active bool
	}{
		{"when made", expiry, false, t0, true},
		{"just before the expiry", expiry, false, expiry.Add(-time.Microsecond), true},
		{"at the expiry", expiry, false, expiry, false},
		{"after the expiry", expiry, false, expiry.Add(time.Microsecond), false},
		{"no expiry, far ahead", time.Time{}, false, far, true},
		{"lifted before the expiry", expiry, true, t0.Add(time.Minute), false},
		{"no expiry, lifted", time.Time{}, true, far, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t, 1)
			b := banned(t, p, tt.expiry)
			if tt.lifted {
				lift(t, p, b)
			}
			if got := b.ActiveAt(tt.at); got != tt.active {
				t.Errorf("ActiveAt(%v) = %v, want %v", tt.at, got, tt.active)
			}
		})
	}
}

func TestBanSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPlayer(t, 1)
	b := banned(t, p, t0.Add(time.Hour))
	lift(t, p, b)
	if back := player.RehydrateBan(b.Snapshot()); back.Snapshot() != b.Snapshot() {
		t.Errorf("round trip changed the ban:\n got %+v\nwant %+v", back.Snapshot(), b.Snapshot())
	}
	// A player read with a lifted ban has none in force.
	s := p.Snapshot()
	snap := b.Snapshot()
	s.Ban = &snap
	if got := player.Rehydrate(s).Ban(); got != nil {
		t.Errorf("ban in force %s, want none: it was lifted", got.ID())
	}
}
