// Package identity is the Identity aggregate: one player's identity in one
// game of one account, known by its kind and external key.
package identity

import (
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrNotFound = domain.NotFound("Identity not found")
	// ErrDeleted is returned when a deleted identity is asked to change.
	ErrDeleted = domain.Conflict("Identity is deleted")
	// ErrAlreadyDeleted is returned by a second Delete.
	ErrAlreadyDeleted = domain.Conflict("Identity is already deleted")
	// ErrForbidden is the access policy's answer for another account's identity.
	ErrForbidden = domain.Forbidden("You do not have access to this identity's account")
	// ErrKeyInUse refuses to restore an identity whose key a live identity
	// took while it was deleted.
	ErrKeyInUse = domain.Conflict("Identity key is in use")
	// ErrPreconditionFailed is returned when a change was asked of the
	// identity only as it was (a version the caller saw) and it is no longer.
	ErrPreconditionFailed = domain.PreconditionFailed("Precondition failed")
)

// DefaultDeletionGrace is how long a deleted identity or player can be
// restored before the purge erases it (LEADR_DELETION_GRACE).
const DefaultDeletionGrace = 30 * 24 * time.Hour

// Identity is the aggregate root. Account, game, kind and external key never
// change after creation; the display name and the player it belongs to can,
// while it is live. A soft-deleted identity can be restored within the
// grace period that the purge ends.
type Identity struct {
	id          id.IdentityID
	accountID   id.AccountID
	gameID      id.GameID
	playerID    id.PlayerID
	key         ExternalKey
	displayName DisplayName
	createdAt   time.Time
	updatedAt   time.Time
	deletedAt   time.Time
}

// New creates a live identity, the only one of a new player. The display
// name may be zero (none). The player's ID is the identity's own UUID under
// the player's prefix: the two come to exist together, and so the identity
// names its player before the player's row is written (by the player slice,
// which hears of identity.created in the same transaction).
func New(accountID id.AccountID, gameID id.GameID, key ExternalKey, name DisplayName, now time.Time) (*Identity, error) {
	switch {
	case accountID.IsZero():
		return nil, domain.Missing("account_id")
	case gameID.IsZero():
		return nil, domain.Missing("game_id")
	case key.Kind().IsZero():
		return nil, domain.Missing("external_key")
	}
	now = domain.Timestamp(now)
	identityID := id.New[id.Identity]()
	return &Identity{
		id:          identityID,
		playerID:    id.FromUUID[id.Player](identityID.UUID()),
		accountID:   accountID,
		gameID:      gameID,
		key:         key,
		displayName: name,
		createdAt:   now,
		updatedAt:   now,
	}, nil
}

// Snapshot is an identity's whole state as a store keeps it.
type Snapshot struct {
	ID          id.IdentityID
	AccountID   id.AccountID
	GameID      id.GameID
	PlayerID    id.PlayerID
	Kind        Kind
	ExternalKey string
	DisplayName string // "" for none
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   time.Time // zero while live
}

// Rehydrate rebuilds an identity from a store's snapshot. It is for store
// adapters only: it trusts the snapshot, which was valid when written, and so
// keeps data readable when validation rules become stricter later.
func Rehydrate(s Snapshot) *Identity {
	return &Identity{
		id:          s.ID,
		accountID:   s.AccountID,
		gameID:      s.GameID,
		playerID:    s.PlayerID,
		key:         ExternalKey{kind: s.Kind, value: s.ExternalKey},
		displayName: DisplayName{value: s.DisplayName},
		createdAt:   s.CreatedAt.UTC(),
		updatedAt:   s.UpdatedAt.UTC(),
		deletedAt:   utcOrZero(s.DeletedAt),
	}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Snapshot returns the identity's state for a store to write.
func (i *Identity) Snapshot() Snapshot {
	return Snapshot{
		ID:          i.id,
		AccountID:   i.accountID,
		GameID:      i.gameID,
		PlayerID:    i.playerID,
		Kind:        i.key.Kind(),
		ExternalKey: i.key.String(),
		DisplayName: i.displayName.String(),
		CreatedAt:   i.createdAt,
		UpdatedAt:   i.updatedAt,
		DeletedAt:   i.deletedAt,
	}
}

// Rename sets the display name. It reports whether anything changed: the
// same name again is not a change and does not touch updated_at.
func (i *Identity) Rename(name DisplayName, now time.Time) (bool, error) {
	if i.IsDeleted() {
		return false, ErrDeleted
	}
	if name.IsZero() {
		return false, domain.Missing("display_name")
	}
	if name == i.displayName {
		return false, nil
	}
	i.displayName = name
	i.updatedAt = domain.Timestamp(now)
	return true, nil
}

// Delete soft-deletes the identity: Restore can undo it until the grace
// period ends.
func (i *Identity) Delete(now time.Time) error {
	if i.IsDeleted() {
		return ErrAlreadyDeleted
	}
	now = domain.Timestamp(now)
	i.deletedAt = now
	i.updatedAt = now
	return nil
}

// Restore makes a soft-deleted identity live again, before grace has passed
// since its deletion; after that it is as good as purged (ErrNotFound).
// Whether its key is free is the store's to say (ErrKeyInUse).
func (i *Identity) Restore(grace time.Duration, now time.Time) error {
	if !i.IsDeleted() || !now.Before(i.PurgeAfter(grace)) {
		return ErrNotFound
	}
	i.deletedAt = time.Time{}
	i.updatedAt = domain.Timestamp(now)
	return nil
}

// PurgeAfter is when a soft-deleted identity is erased for good.
func (i *Identity) PurgeAfter(grace time.Duration) time.Time { return i.deletedAt.Add(grace) }

// MoveTo makes the live identity one of player p's: linking, merging and
// unlinking. It reports whether anything changed.
func (i *Identity) MoveTo(p id.PlayerID, now time.Time) (bool, error) {
	if i.IsDeleted() {
		return false, ErrDeleted
	}
	if p.IsZero() {
		return false, domain.Missing("player_id")
	}
	if p == i.playerID {
		return false, nil
	}
	i.playerID = p
	i.updatedAt = domain.Timestamp(now)
	return true, nil
}

func (i *Identity) ID() id.IdentityID        { return i.id }
func (i *Identity) AccountID() id.AccountID  { return i.accountID }
func (i *Identity) GameID() id.GameID        { return i.gameID }
func (i *Identity) PlayerID() id.PlayerID    { return i.playerID }
func (i *Identity) Kind() Kind               { return i.key.Kind() }
func (i *Identity) ExternalKey() ExternalKey { return i.key }
func (i *Identity) DisplayName() DisplayName { return i.displayName }
func (i *Identity) CreatedAt() time.Time     { return i.createdAt }
func (i *Identity) UpdatedAt() time.Time     { return i.updatedAt }
func (i *Identity) IsDeleted() bool          { return !i.deletedAt.IsZero() }

// DeletedAt is zero while the identity is live.
func (i *Identity) DeletedAt() time.Time { return i.deletedAt }
