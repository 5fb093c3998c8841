package player

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrBanNotFound = domain.NotFound("Ban not found")
	// ErrBanNotActive refuses to change the expiry of a ban that was lifted
	// or has expired: a new ban says more.
	ErrBanNotActive = domain.Conflict("Ban is not active")
)

// MaxReason is the most characters a ban's reason has.
const MaxReason = 500

// Reason is why a player was banned: 1–500 characters, trimmed.
type Reason struct{ value string }

func ParseReason(s string) (Reason, error) {
	if !utf8.ValidString(s) {
		return Reason{}, domain.Rejected("reason", "Must be valid UTF-8", s)
	}
	t := strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(t); {
	case n < 1:
		return Reason{}, domain.TooShort("reason", 1, s)
	case n > MaxReason:
		return Reason{}, domain.TooLong("reason", MaxReason, s)
	case strings.ContainsFunc(t, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f }):
		// A reason may run over lines; no other control character
		// belongs in text people read (and PostgreSQL refuses NUL).
		return Reason{}, domain.Rejected("reason", "Must not contain control characters", s)
	}
	return Reason{value: t}, nil
}

func (r Reason) String() string { return r.value }
func (r Reason) IsZero() bool   { return r.value == "" }

// Ban keeps a player from signing in until it is lifted or expires. A ban
// with no expiry lasts until lifted; one past its expiry ends by itself,
// with no job to end it.
type Ban struct {
	id        id.BanID
	playerID  id.PlayerID
	reason    Reason
	expiresAt time.Time // zero: none
	liftedAt  time.Time
	actor     event.Actor
	createdAt time.Time
	updatedAt time.Time
}

// BanSnapshot is a ban's whole state as a store keeps it.
type BanSnapshot struct {
	ID        id.BanID
	PlayerID  id.PlayerID
	Reason    string
	ExpiresAt time.Time
	LiftedAt  time.Time
	Actor     event.Actor
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RehydrateBan is for store adapters only.
func RehydrateBan(s BanSnapshot) *Ban {
	return &Ban{
		id: s.ID, playerID: s.PlayerID, reason: Reason{value: s.Reason}, expiresAt: utc(s.ExpiresAt),
		liftedAt: utc(s.LiftedAt), actor: s.Actor, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
	}
}

func (b *Ban) Snapshot() BanSnapshot {
	return BanSnapshot{
		ID: b.id, PlayerID: b.playerID, Reason: b.reason.value, ExpiresAt: b.expiresAt, LiftedAt: b.liftedAt,
		Actor: b.actor, CreatedAt: b.createdAt, UpdatedAt: b.updatedAt,
	}
}

func (b *Ban) ID() id.BanID          { return b.id }
func (b *Ban) PlayerID() id.PlayerID { return b.playerID }
func (b *Ban) Reason() Reason        { return b.reason }
func (b *Ban) ExpiresAt() time.Time  { return b.expiresAt }
func (b *Ban) LiftedAt() time.Time   { return b.liftedAt }
func (b *Ban) Actor() event.Actor    { return b.actor }
func (b *Ban) CreatedAt() time.Time  { return b.createdAt }
func (b *Ban) UpdatedAt() time.Time  { return b.updatedAt }
func (b *Ban) IsLifted() bool        { return !b.liftedAt.IsZero() }

// ActiveAt reports whether the ban is in force at now: not lifted, and not
// past its expiry.
func (b *Ban) ActiveAt(now time.Time) bool {
	return b.liftedAt.IsZero() && (b.expiresAt.IsZero() || now.Before(b.expiresAt))
}

// CheckExpiry: an expiry must lie ahead (zero: none). The use cases ask it
// first, before the ban or its player is looked up (422 before 403, 404).
func CheckExpiry(expiresAt, now time.Time) error {
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return domain.Rejected("expires_at", "must be in the future", expiresAt.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// BanFor bans the live player for reason until expiresAt (zero: until
// lifted), as actor. A player already banned is ErrAlreadyBanned.
func (p *Player) BanFor(reason Reason, expiresAt time.Time, actor event.Actor, now time.Time) (*Ban, error) {
	if reason.IsZero() {
		return nil, domain.Missing("reason")
	}
	if err := CheckExpiry(expiresAt, now); err != nil {
		return nil, err
	}
	if err := p.live(); err != nil {
		return nil, err
	}
	if b := p.Ban(); b != nil && b.ActiveAt(now) {
		return nil, ErrAlreadyBanned
	}
	now = domain.Timestamp(now)
	if !expiresAt.IsZero() {
		expiresAt = domain.Timestamp(expiresAt)
	}
	p.ban = &Ban{id: id.New[id.Ban](), playerID: p.id, reason: reason, expiresAt: expiresAt, actor: actor, createdAt: now, updatedAt: now}
	p.updatedAt = now
	return p.ban, nil
}

// ChangeBan changes the ban in force, banID: a new expiry (set: zero for
// none) and/or lifted. Lifting a ban that is no longer in force changes
// nothing; giving one a new expiry is ErrBanNotActive. Another ban of the
// player's history is not the player's to change here: ErrBanNotActive too,
// or ErrBanNotFound for none of its bans (the caller knows which).
func (p *Player) ChangeBan(banID id.BanID, expiresAt *time.Time, lift bool, now time.Time) error {
	if expiresAt != nil {
		if err := CheckExpiry(*expiresAt, now); err != nil {
			return err
		}
	}
	b := p.Ban()
	if b == nil || b.id != banID || !b.ActiveAt(now) {
		if expiresAt != nil {
			return ErrBanNotActive
		}
		return nil
	}
	now = domain.Timestamp(now)
	changed := false
	if expiresAt != nil {
		e := *expiresAt
		if !e.IsZero() {
			e = domain.Timestamp(e)
		}
		if !e.Equal(b.expiresAt) {
			b.expiresAt, changed = e, true
		}
	}
	if lift {
		b.liftedAt, changed = now, true
	}
	if changed {
		b.updatedAt, p.updatedAt = now, now
	}
	return nil
}
