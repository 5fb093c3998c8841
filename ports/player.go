package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// PlayerSchema is what player lists sort by.
var PlayerSchema = paging.NewSchema("players", "created_at:desc,id:asc",
	paging.Field[*player.Player]{Name: "id", Type: paging.UUID, Value: func(p *player.Player) any { return p.ID().UUID() }},
	paging.Field[*player.Player]{Name: "created_at", Type: paging.Time, Value: func(p *player.Player) any { return p.CreatedAt() }},
	paging.Field[*player.Player]{Name: "updated_at", Type: paging.Time, Value: func(p *player.Player) any { return p.UpdatedAt() }},
)

// PlayerFilter narrows a list of players; zero fields do not filter. Lists
// hold live players, or with Deleted the deleted ones not purged yet;
// never tombstones or players closed by a merge.
type PlayerFilter struct {
	AccountID id.AccountID
	GameID    id.GameID
	// Kind and ExternalKey select the player holding that live identity.
	Kind        identity.Kind
	ExternalKey string
	// Banned is "true" (a ban in force), "false" (none) or "" (either).
	Banned  string
	Deleted bool
}

// MaxBanHistory is the most bans a player's history answers, newest first.
const MaxBanHistory = 1000

// PlayerRepository stores Player aggregates, their bans, and which player
// each identity belongs to.
type PlayerRepository interface {
	// Create stores a new player (its identities are stored by their own
	// repository), recording player.created.
	Create(ctx context.Context, p *player.Player) error
	// Get finds a live, deleted or purged player (a purged one is its
	// tombstone: no identities, PurgedAt set); its ban is the one in force
	// at now (the newest ban, when it is neither lifted nor expired). Its
	// identities are the live ones, or for a deleted player those deleted
	// with it (deleted_at equal to the player's), oldest first. A player
	// closed by a merge, or none, is player.ErrNotFound.
	Get(ctx context.Context, id id.PlayerID, now time.Time) (*player.Player, error)
	// Update locks the players (in the order of their IDs, so that changes
	// of the same players never deadlock, and they are ordered) and their
	// identities, reads them as Get does, runs fn with them in the order
	// given and a context whose writes join the transaction, and saves what
	// fn changed, all in one transaction: each player (player.Changed,
	// player.Merged when fn closed it), each identity it holds or held
	// (identity.Linked when it moved to another existing player,
	// identity.Unlinked when to a player created within fn, else
	// identity.Changed) and the ban it made or changed. A restored identity
	// whose key a live one took meanwhile is identity.ErrKeyInUse, and
	// nothing is saved. A purged or closed player is player.ErrNotFound.
	// Players that fn makes (an unlink's) it stores with Create, with the
	// context it was given; identities it creates it stores through the
	// identity repository, with that context too.
	Update(ctx context.Context, ids []id.PlayerID, now time.Time, fn func(ctx context.Context, ps []*player.Player) error) ([]*player.Player, error)
	List(ctx context.Context, f PlayerFilter, req paging.Request, now time.Time) (paging.Result[*player.Player], error)
	// Bans is the player's ban history, newest first, at most MaxBanHistory.
	Bans(ctx context.Context, id id.PlayerID) ([]*player.Ban, error)
	// CheckSessionStart refuses (player.Banned) a session of the identity
	// while its player is banned at now. It runs in the transaction that
	// starts the session, which holds a shared lock of the identity's row
	// (SessionRepository.Create); a ban's Update locks every identity of
	// the player to write, so a ban and a sign-in are ordered: either the
	// ban revokes the new session, or the sign-in sees the ban.
	CheckSessionStart(ctx context.Context, identityID id.IdentityID, now time.Time) error
	// RefreshBan is player.Banned when the session that the refresh token
	// (its hash) was given to belongs to a player banned at now, else nil.
	RefreshBan(ctx context.Context, refreshHash []byte, now time.Time) error
	// Export reads everything held about the player.
	Export(ctx context.Context, id id.PlayerID, now time.Time) (PlayerExport, error)
	// Purge erases for good at most most of the players whose purge_after
	// passed, and of the identities soft-deleted more than grace before
	// now, each in a transaction of its own (see Erase), and reports how
	// many. Replicas may purge at once: each row is purged by one.
	Purge(ctx context.Context, now time.Time, grace time.Duration, most int) (int, error)
	// Erase purges the player at once, live or deleted: its identities,
	// their sessions (refresh tokens and nonces with them) and its bans are
	// deleted, the personal fields (external keys, display names) of every
	// event that held them are removed, and the player is left as a
	// tombstone; player.purged and identity.purged are recorded.
	Erase(ctx context.Context, id id.PlayerID, now time.Time) (*player.Player, error)
}

// PlayerExport is everything held about a player, secrets aside: the
// player, all its identities (soft-deleted ones not purged yet included),
// its bans, the sessions of its identities, and the events whose subject is
// the player or one of its identities.
type PlayerExport struct {
	Player     *player.Player
	Identities []*identity.Identity
	Bans       []*player.Ban
	Sessions   []*session.Session
	Events     []*Recorded
}

// The use cases take raw values for what the domain validates; zero IDs
// mean "not given".

type GetPlayer struct {
	ID        id.PlayerID
	AccountID id.AccountID
}

type ListPlayers struct {
	AccountID   id.AccountID
	GameID      id.GameID
	Kind        *string
	ExternalKey *string
	Banned      *bool
	Deleted     *bool
	Page        paging.Params
}

// LinkIdentity moves an identity (and, with Merge, every identity of its
// player) into a player.
type LinkIdentity struct {
	PlayerID   id.PlayerID
	AccountID  id.AccountID
	IdentityID id.IdentityID
	Merge      bool
}

type UnlinkIdentity struct {
	PlayerID   id.PlayerID
	AccountID  id.AccountID
	IdentityID id.IdentityID
}

type CreateBan struct {
	PlayerID  id.PlayerID
	AccountID id.AccountID
	Reason    *string
	ExpiresAt *time.Time
}

type UpdateBan struct {
	PlayerID  id.PlayerID
	AccountID id.AccountID
	BanID     id.BanID
	// ExpiresAtSet: ExpiresAt was given, nil meaning none.
	ExpiresAtSet bool
	ExpiresAt    *time.Time
	Lift         bool
}

type DeletePlayer struct {
	ID        id.PlayerID
	AccountID id.AccountID
	// Erase purges at once rather than after the grace period.
	Erase bool
}

// LinkCredential is a client's link of a credential it proved (a device ID,
// or the SteamID64 of a ticket Steam verified) into its player.
type LinkCredential struct {
	PlayerOf id.IdentityID // the session's identity, whose player links
	Kind     identity.Kind
	Key      string
	Merge    bool
}

// Players is the player API: the studio's (admin) side, and what a game
// client's calls need once the session slice has checked the client's
// token, nonce and credential.
type Players interface {
	Get(ctx context.Context, p tenancy.Principal, q GetPlayer) (*player.Player, error)
	List(ctx context.Context, p tenancy.Principal, q ListPlayers) (paging.Page[*player.Player], error)
	// Link reports whether the identity joined the player (false: it was
	// the player's already).
	Link(ctx context.Context, p tenancy.Principal, c LinkIdentity) (*player.Player, bool, error)
	Unlink(ctx context.Context, p tenancy.Principal, c UnlinkIdentity) (*identity.Identity, error)
	Ban(ctx context.Context, p tenancy.Principal, c CreateBan) (*player.Ban, error)
	UpdateBan(ctx context.Context, p tenancy.Principal, c UpdateBan) (*player.Ban, error)
	Bans(ctx context.Context, p tenancy.Principal, q GetPlayer) ([]*player.Ban, error)
	Delete(ctx context.Context, p tenancy.Principal, c DeletePlayer) (*player.Player, error)
	Restore(ctx context.Context, p tenancy.Principal, q GetPlayer) (*player.Player, error)
	Export(ctx context.Context, p tenancy.Principal, q GetPlayer) (PlayerExport, error)

	// LinkCredential links or creates the identity of a proven credential
	// in the player of c.PlayerOf; it reports whether it created it.
	LinkCredential(ctx context.Context, c LinkCredential) (*identity.Identity, bool, error)
	// UnlinkOwn takes identityID out of the player of the session's
	// identity (which cannot go: player.ErrOwnIdentity).
	UnlinkOwn(ctx context.Context, sessionIdentity, identityID id.IdentityID) (*identity.Identity, error)
	// DeleteOwn deletes the player of the session's identity (in-app
	// account deletion).
	DeleteOwn(ctx context.Context, sessionIdentity id.IdentityID) (*player.Player, error)
}
