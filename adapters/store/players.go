package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Players implements ports.PlayerRepository. A player's identities are rows
// of the identities table that name it (player_id); it writes them when it
// moves, deletes, restores or purges them, with the identity's events.
type Players struct {
	db *DB
}

var _ ports.PlayerRepository = (*Players)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewPlayers(s) })
}

func NewPlayers(s *Store) (*Players, error) {
	if err := checkRowModel[playerRow](s.db.read, playerColumns, ports.PlayerSchema.Spec); err != nil {
		return nil, err
	}
	return &Players{db: s.db}, nil
}

func (r *Players) Create(ctx context.Context, p *player.Player) error {
	return r.db.create(ctx, playerToRow(p), player.Created(p), nil)
}

// visible is what Get and Update find: not closed by a merge.
const visible = "merged_into IS NULL"

func (r *Players) Get(ctx context.Context, playerID id.PlayerID, now time.Time) (*player.Player, error) {
	ps, err := r.load(ctx, r.db.read, []uuid.UUID{toUUID(playerID)}, false, now)
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// load reads players (none missing: player.ErrNotFound) with their
// identities and the bans in force at now, in the order of keys; with lock,
// their rows and their identities' are locked for update.
func (r *Players) load(ctx context.Context, db bun.IDB, keys []uuid.UUID, lock bool, now time.Time) ([]*player.Player, error) {
	var rows []playerRow
	q := db.NewSelect().Model(&rows).Where("id IN (?)", bun.List(keys)).Where(visible).OrderExpr("id")
	if lock {
		q = r.db.forUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("load players: %w", err)
	}
	byKey := make(map[uuid.UUID]*playerRow, len(rows))
	for i := range rows {
		byKey[rows[i].ID] = &rows[i]
	}
	found := make([]*playerRow, len(keys))
	for i, k := range keys {
		if found[i] = byKey[k]; found[i] == nil {
			return nil, player.ErrNotFound
		}
	}
	return r.complete(ctx, db, found, lock, now)
}

// complete reads the identities and the bans in force of the players of
// rows, and builds the players.
func (r *Players) complete(ctx context.Context, db bun.IDB, rows []*playerRow, lock bool, now time.Time) ([]*player.Player, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	keys := make([]uuid.UUID, len(rows))
	for i, row := range rows {
		keys[i] = row.ID
	}
	var identities []identityRow
	q := db.NewSelect().Model(&identities).Where("player_id IN (?)", bun.List(keys)).OrderExpr("created_at, id")
	if lock {
		q = r.db.forUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("load the players' identities: %w", err)
	}
	var bans []banRow
	err := db.NewSelect().Model(&bans).Where("player_id IN (?)", bun.List(keys)).
		Where(banInForce, domain.Timestamp(now)).
		OrderExpr("created_at, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the players' bans: %w", err)
	}
	out := make([]*player.Player, len(rows))
	for n, row := range rows {
		s := playerSnapshot(row)
		for i := range identities {
			ir := &identities[i]
			if ir.PlayerID != row.ID || !sameTime(ir.DeletedAt, row.DeletedAt) {
				continue
			}
			x, err := identityFromRow(ir)
			if err != nil {
				return nil, err
			}
			s.Identities = append(s.Identities, x)
		}
		for i := range bans {
			if bans[i].PlayerID == row.ID {
				b := banSnapshot(&bans[i])
				s.Ban = &b // the newest in force wins: they are in creation order
			}
		}
		out[n] = player.Rehydrate(s)
	}
	return out, nil
}

// sameTime: the identities a player holds are its live ones, or, once it is
// deleted, those deleted with it (at the same instant).
func sameTime(a, b sql.NullTime) bool {
	return a.Valid == b.Valid && (!a.Valid || a.Time.Equal(b.Time))
}

func (r *Players) Update(ctx context.Context, ids []id.PlayerID, now time.Time, fn func(ctx context.Context, ps []*player.Player) error) ([]*player.Player, error) {
	var out []*player.Player
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Locked in the order of their keys, which load's ORDER BY id
		// gives: two changes of the same players wait rather than deadlock.
		keys := make([]uuid.UUID, 0, len(ids))
		for _, x := range ids {
			if k := toUUID(x); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		loaded, err := r.load(ctx, tx, keys, true, now)
		if err != nil {
			return err
		}
		for _, p := range loaded {
			if p.IsPurged() {
				return player.ErrNotFound // a tombstone changes no more
			}
		}
		before := make([]*player.Player, len(loaded))
		identitiesBefore := map[id.IdentityID]identity.Snapshot{}
		var held []*identity.Identity
		for i, p := range loaded {
			before[i] = p.Clone()
			for _, x := range p.Identities() {
				identitiesBefore[x.ID()] = x.Snapshot()
				held = append(held, x)
			}
		}
		byID := make(map[id.PlayerID]*player.Player, len(loaded))
		for _, p := range loaded {
			byID[p.ID()] = p
		}
		given := make([]*player.Player, len(ids))
		for i, x := range ids {
			given[i] = byID[x]
		}
		if err := fn(ctx, given); err != nil {
			return err
		}
		for _, x := range held {
			if err := r.saveIdentity(ctx, tx, identitiesBefore[x.ID()], x, byID); err != nil {
				return err
			}
		}
		for i, p := range loaded {
			if err := r.save(ctx, tx, before[i], p, byID); err != nil {
				return err
			}
		}
		out = given
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// saveIdentity writes an identity a change moved, deleted or restored, with
// its event: linked to a player the change held, unlinked to one it made.
func (r *Players) saveIdentity(ctx context.Context, tx bun.Tx, before identity.Snapshot, after *identity.Identity, held map[id.PlayerID]*player.Player) error {
	if after.Snapshot() == before {
		return nil
	}
	_, err := tx.NewUpdate().Model(identityToRow(after)).Column(identityMutable...).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("save identity: %w", translate(err, "identities", identityRestoreConstraints))
	}
	previous := identity.Rehydrate(before)
	e := identity.Changed(previous, after)
	if before.PlayerID != after.PlayerID() {
		if _, ok := held[after.PlayerID()]; ok {
			e = identity.Linked(previous, after)
		} else {
			e = identity.Unlinked(previous, after)
		}
	}
	return r.db.record(ctx, e)
}

// save writes a player's row and the ban the change made or changed, with
// the player's event.
func (r *Players) save(ctx context.Context, tx bun.Tx, before, after *player.Player, held map[id.PlayerID]*player.Player) error {
	if b := after.ChangedBan(); b != nil {
		var old *player.BanSnapshot
		if bb := before.Ban(); bb != nil && bb.ID() == b.ID() {
			s := bb.Snapshot()
			old = &s
		}
		switch row := banToRow(b); {
		case old == nil:
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return fmt.Errorf("save ban: %w", err)
			}
		case *old != b.Snapshot():
			if _, err := tx.NewUpdate().Model(row).Column("expires_at", "lifted_at", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("save ban: %w", err)
			}
		}
	}
	if after.IsClosed() && !before.IsClosed() {
		_, err := tx.NewUpdate().Table("players").Set("merged_into = ?, updated_at = ?", toUUID(after.MergedInto()), after.UpdatedAt()).
			Where("id = ?", toUUID(after.ID())).Exec(ctx)
		if err != nil {
			return fmt.Errorf("close player: %w", err)
		}
		if err := r.carryDeleted(ctx, tx, after); err != nil {
			return err
		}
		return r.db.record(ctx, player.Merged(after, held[after.MergedInto()]))
	}
	return r.db.saveIfChanged(ctx, "player", playerToRow(before), playerToRow(after), playerMutable,
		func() event.Event { return player.Changed(before, after) })
}

// carryDeleted moves the soft-deleted identities of a player a merge
// closed (Absorb moved its live ones) into the player it went into: they
// are the same person's, restorable there, and erased with it.
func (r *Players) carryDeleted(ctx context.Context, tx bun.Tx, closed *player.Player) error {
	var rows []identityRow
	if err := tx.NewSelect().Model(&rows).Where("player_id = ? AND deleted_at IS NOT NULL", toUUID(closed.ID())).Scan(ctx); err != nil {
		return fmt.Errorf("find the closed player's deleted identities: %w", err)
	}
	for i := range rows {
		before, err := identityFromRow(&rows[i])
		if err != nil {
			return err
		}
		s := before.Snapshot()
		s.PlayerID, s.UpdatedAt = closed.MergedInto(), closed.UpdatedAt()
		after := identity.Rehydrate(s)
		if _, err := tx.NewUpdate().Model(identityToRow(after)).Column("player_id", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("move a deleted identity: %w", err)
		}
		if err := r.db.record(ctx, identity.Linked(before, after)); err != nil {
			return err
		}
	}
	return nil
}

var playerMutable = []string{"updated_at", "deleted_at", "purge_after", "purged_at"}

func (r *Players) List(ctx context.Context, f ports.PlayerFilter, req paging.Request, now time.Time) (paging.Result[*player.Player], error) {
	res, err := list(ctx, r.db, playerListing(f, now), req, func(row *playerRow) (*playerRow, error) { return row, nil })
	if err != nil {
		return paging.Result[*player.Player]{}, err
	}
	rows := slices.Clone(res.Items)
	if res.Peek != nil {
		rows = append(rows, res.Peek)
	}
	ps, err := r.complete(ctx, r.db.read, rows, false, now)
	if err != nil {
		return paging.Result[*player.Player]{}, err
	}
	out := paging.Result[*player.Player]{Items: ps[:len(res.Items)], More: res.More}
	if res.Peek != nil {
		out.Peek = ps[len(ps)-1]
	}
	return out, nil
}

func playerListing(f ports.PlayerFilter, now time.Time) listing {
	l := listing{
		table:   "players",
		columns: playerColumns,
		sortBy:  ports.PlayerSchema.Spec,
		// Each matches a partial index: live players, or deleted ones not
		// purged yet.
		where: []condition{cond("deleted_at IS NULL AND merged_into IS NULL")},
	}
	if f.Deleted {
		l.where[0] = cond("deleted_at IS NOT NULL AND purged_at IS NULL AND merged_into IS NULL")
	}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if !f.GameID.IsZero() {
		l.where = append(l.where, cond("game_id = ?", toUUID(f.GameID)))
	}
	if !f.Kind.IsZero() || f.ExternalKey != "" {
		// The identity is found by its key (identities_live_key), then its
		// player; of a deleted player, among those deleted with it.
		live := "i.deleted_at IS NULL"
		if f.Deleted {
			live = "i.deleted_at IS NOT NULL"
		}
		if f.ExternalKey == "" {
			// A kind alone: the players holding an identity of that kind.
			l.where = append(l.where, cond("id IN (SELECT i.player_id FROM identities AS i WHERE i.kind = ? AND "+live+")", f.Kind.String()))
		} else {
			l.where = append(l.where, cond("id IN (SELECT i.player_id FROM identities AS i WHERE i.external_key = ? AND i.kind = ? AND "+live+")",
				f.ExternalKey, f.Kind.String()))
		}
	}
	switch f.Banned {
	case "true":
		// Bans in force are few: found first, then their players.
		l.where = append(l.where, cond("id IN (SELECT player_id FROM bans WHERE "+banInForce+")", domain.Timestamp(now)))
	case "false":
		l.where = append(l.where, cond("NOT EXISTS (SELECT 1 FROM bans WHERE bans.player_id = players.id AND "+banInForce+")", domain.Timestamp(now)))
	}
	return l
}

func (r *Players) Bans(ctx context.Context, playerID id.PlayerID) ([]*player.Ban, error) {
	var rows []banRow
	err := r.db.read.NewSelect().Model(&rows).Where("player_id = ?", toUUID(playerID)).
		OrderExpr("created_at DESC, id DESC").Limit(ports.MaxBanHistory).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list bans: %w", err)
	}
	out := make([]*player.Ban, len(rows))
	for i := range rows {
		out[i] = player.RehydrateBan(banSnapshot(&rows[i]))
	}
	return out, nil
}

func (r *Players) CheckSessionStart(ctx context.Context, identityID id.IdentityID, now time.Time) error {
	return r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// No lock of its own: the session's creation holds a shared lock
		// of the identity's row, which a ban's transaction locks to write
		// (Update locks every identity of the player). Locking the player
		// here too would take the two rows in the opposite order to a ban,
		// a deadlock.
		return r.banOf(ctx, tx, "(SELECT player_id FROM identities WHERE id = ?)", toUUID(identityID), now)
	})
}

// banInForce is the condition on a ban's columns that it is in force at
// its one argument's time.
const banInForce = "lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"

// banOf is player.Banned while the player that playerOf (an SQL
// expression of its one argument, arg) names has a ban in force at now:
// one query, on the paths of every sign-in and refresh.
func (r *Players) banOf(ctx context.Context, db bun.IDB, playerOf string, arg any, now time.Time) error {
	var bans []banRow
	err := db.NewSelect().Model(&bans).Where("player_id = "+playerOf, arg).
		Where(banInForce, domain.Timestamp(now)).
		OrderExpr("created_at DESC").Limit(1).Scan(ctx)
	if err != nil {
		return fmt.Errorf("find the player's ban: %w", err)
	}
	if len(bans) == 0 {
		return nil
	}
	return player.Banned(bans[0].ExpiresAt.Time)
}

func (r *Players) RefreshBan(ctx context.Context, refreshHash []byte, now time.Time) error {
	return r.banOf(ctx, r.db.read, `(SELECT i.player_id FROM session_refresh_tokens AS t
		JOIN sessions AS s ON s.id = t.session_id JOIN identities AS i ON i.id = s.identity_id WHERE t.hash = ?)`, refreshHash, now)
}

func (r *Players) Export(ctx context.Context, playerID id.PlayerID, now time.Time) (ports.PlayerExport, error) {
	p, err := r.Get(ctx, playerID, now)
	if err != nil {
		return ports.PlayerExport{}, err
	}
	out := ports.PlayerExport{Player: p}
	var identities []identityRow
	if err := r.db.read.NewSelect().Model(&identities).Where("player_id = ?", toUUID(playerID)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return ports.PlayerExport{}, fmt.Errorf("export identities: %w", err)
	}
	subjects := []string{playerID.String()}
	keys := make([]uuid.UUID, 0, len(identities))
	for i := range identities {
		x, err := identityFromRow(&identities[i])
		if err != nil {
			return ports.PlayerExport{}, err
		}
		out.Identities = append(out.Identities, x)
		subjects = append(subjects, x.ID().String())
		keys = append(keys, identities[i].ID)
	}
	if out.Bans, err = r.Bans(ctx, playerID); err != nil {
		return ports.PlayerExport{}, err
	}
	if len(keys) > 0 {
		var sessions []sessionRow
		if err := r.db.read.NewSelect().Model(&sessions).Where("identity_id IN (?)", bun.List(keys)).OrderExpr("created_at, id").Scan(ctx); err != nil {
			return ports.PlayerExport{}, fmt.Errorf("export sessions: %w", err)
		}
		for i := range sessions {
			s, _ := sessionFromRow(&sessions[i])
			out.Sessions = append(out.Sessions, s)
		}
	}
	var events []eventRow
	if err := r.db.read.NewSelect().Model(&events).Where("subject_id IN (?)", bun.List(subjects)).OrderExpr("occurred_at, id").Scan(ctx); err != nil {
		return ports.PlayerExport{}, fmt.Errorf("export events: %w", err)
	}
	for i := range events {
		e, _ := eventFromRow(&events[i])
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func (r *Players) Erase(ctx context.Context, playerID id.PlayerID, now time.Time) (*player.Player, error) {
	var out *player.Player
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = r.erase(ctx, tx, toUUID(playerID), now)
		return err
	})
	if err == nil {
		r.forgetLog(ctx)
	}
	return out, err
}

// forgetLog empties SQLite's write-ahead log after an erasure: the file's
// freed pages are zeroed (secure_delete), but the log still holds the
// erased rows' earlier frames until a checkpoint copies them back and
// TRUNCATE empties it. It is best effort: while a reader holds the log it
// cannot be truncated (the checkpoint answers busy), and the next writes
// overwrite it from its start. PostgreSQL's dumps read live rows only.
func (r *Players) forgetLog(ctx context.Context) {
	if !r.db.sqlite {
		return
	}
	var busy, logged, copied int
	_ = r.db.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &copied)
}

// erase purges a player in tx: see ports.PlayerRepository.Erase.
func (r *Players) erase(ctx context.Context, tx bun.Tx, key uuid.UUID, now time.Time) (*player.Player, error) {
	now = domain.Timestamp(now)
	var row playerRow
	err := r.db.forUpdate(tx.NewSelect().Model(&row).Where("id = ? AND "+visible+" AND purged_at IS NULL", key)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, player.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load player: %w", err)
	}
	var identities []identityRow
	if err := r.db.forUpdate(tx.NewSelect().Model(&identities).Where("player_id = ?", key)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load the player's identities: %w", err)
	}
	if err := r.eraseIdentities(ctx, tx, identities, []string{id.FromUUID[id.Player](id.UUID(key)).String()}, now); err != nil {
		return nil, err
	}
	if _, err := tx.NewDelete().Model((*banRow)(nil)).Where("player_id = ?", key).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete bans: %w", err)
	}
	if !row.DeletedAt.Valid {
		row.DeletedAt = sql.NullTime{Time: now, Valid: true}
	}
	row.PurgeAfter, row.PurgedAt, row.UpdatedAt = sql.NullTime{Time: now, Valid: true}, sql.NullTime{Time: now, Valid: true}, now
	if _, err := tx.NewUpdate().Model(&row).Column(playerMutable...).WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("purge player: %w", err)
	}
	p := player.Rehydrate(playerSnapshot(&row))
	return p, r.db.record(ctx, player.Purged(p))
}

// eraseIdentities deletes identities, with their sessions (their refresh
// tokens and nonces go with them), after taking their personal fields out
// of every event that holds them, and records identity.purged for each.
func (r *Players) eraseIdentities(ctx context.Context, tx bun.Tx, rows []identityRow, players []string, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	keys := make([]uuid.UUID, len(rows))
	purged := make(map[string]bool, len(rows))
	events := make([]event.Event, len(rows))
	for i := range rows {
		x, err := identityFromRow(&rows[i])
		if err != nil {
			return err
		}
		keys[i] = rows[i].ID
		purged[x.ID().String()] = true
		players = append(players, x.PlayerID().String())
		events[i] = identity.Purged(x, now)
	}
	if err := r.scrubEvents(ctx, tx, purged, players); err != nil {
		return err
	}
	if _, err := tx.NewDelete().Model((*sessionRow)(nil)).Where("identity_id IN (?)", bun.List(keys)).Exec(ctx); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	if _, err := tx.NewDelete().Model((*identityRow)(nil)).Where("id IN (?)", bun.List(keys)).Exec(ctx); err != nil {
		return fmt.Errorf("delete identities: %w", err)
	}
	return r.db.record(ctx, events...)
}

// scrubEvents takes external keys and display names of the purged
// identities out of the data of the events that hold them: the identities'
// own, and those of the players they belonged to (players, and any their
// events name), whose data lists their identities.
func (r *Players) scrubEvents(ctx context.Context, tx bun.Tx, purged map[string]bool, players []string) error {
	subjects := slices.Collect(func(yield func(string) bool) {
		for x := range purged {
			if !yield(x) {
				return
			}
		}
	})
	seen := map[string]bool{}
	for len(subjects) > 0 {
		for _, s := range subjects {
			seen[s] = true
		}
		var rows []eventRow
		if err := tx.NewSelect().Model(&rows).Column("id", "data").Where("subject_id IN (?)", bun.List(subjects)).Scan(ctx); err != nil {
			return fmt.Errorf("read the events to scrub: %w", err)
		}
		next := map[string]bool{}
		for _, p := range players {
			if !seen[p] {
				next[p] = true
			}
		}
		players = nil
		for i := range rows {
			data, named, changed, err := scrub([]byte(rows[i].Data), purged)
			if err != nil {
				return fmt.Errorf("scrub event %s: %w", rows[i].ID, err)
			}
			for _, p := range named {
				if !seen[p] {
					next[p] = true
				}
			}
			if !changed {
				continue
			}
			if _, err := tx.NewUpdate().Table("events").Set("data = ?", string(data)).Where("id = ?", rows[i].ID).Exec(ctx); err != nil {
				return fmt.Errorf("scrub event: %w", err)
			}
		}
		subjects = subjects[:0]
		for p := range next {
			subjects = append(subjects, p)
		}
	}
	return nil
}

// personal are the fields an identity holds about a person.
var personal = []string{"external_key", "display_name"}

// scrub removes the personal fields of every JSON object in data whose id
// is purged (and of the changes beside them), and reports the player IDs
// that the data names (an identity's player, before and after a move).
func scrub(data []byte, purged map[string]bool) (out []byte, players []string, changed bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, false, err
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			if p, ok := v["player_id"].(string); ok {
				players = append(players, p)
			}
			if id, ok := v["id"].(string); ok && purged[id] {
				for _, f := range personal {
					if _, ok := v[f]; ok {
						delete(v, f)
						changed = true
					}
				}
				if cs, ok := v["changes"].(map[string]any); ok {
					for _, f := range personal {
						if _, ok := cs[f]; ok {
							delete(cs, f)
							changed = true
						}
					}
				}
			}
			for k, x := range v {
				if k == "changes" {
					if cs, ok := x.(map[string]any); ok {
						if pair, ok := cs["player_id"].([]any); ok {
							for _, p := range pair {
								if s, ok := p.(string); ok {
									players = append(players, s)
								}
							}
						}
					}
				}
				walk(x)
			}
		}
	}
	walk(doc)
	if !changed {
		return data, players, false, nil
	}
	out, err = json.Marshal(doc)
	return out, players, true, err
}

// Purge erases one player or identity per transaction: the work of each is
// bounded by what one person holds, far inside a statement's timeout, and
// SKIP LOCKED lets replicas purging at once take different ones (and skip
// one that a restore holds: it is no longer due once that commits).
func (r *Players) Purge(ctx context.Context, now time.Time, grace time.Duration, most int) (int, error) {
	now = domain.Timestamp(now)
	players, playersErr := r.purgeDue(ctx, most,
		"SELECT id FROM players WHERE purged_at IS NULL AND purge_after IS NOT NULL AND purge_after <= ? AND "+visible, []any{now},
		" ORDER BY purge_after", func(ctx context.Context, tx bun.Tx, key uuid.UUID) error {
			_, err := r.erase(ctx, tx, key, now)
			return err
		})
	identities, identitiesErr := r.purgeDue(ctx, most-players,
		"SELECT id FROM identities WHERE deleted_at IS NOT NULL AND deleted_at <= ?"+
			" AND NOT EXISTS (SELECT 1 FROM players AS p WHERE p.id = identities.player_id AND p.deleted_at IS NOT NULL)",
		[]any{now.Add(-grace)}, " ORDER BY deleted_at", func(ctx context.Context, tx bun.Tx, key uuid.UUID) error {
			var rows []identityRow
			if err := tx.NewSelect().Model(&rows).Where("id = ?", key).Scan(ctx); err != nil {
				return fmt.Errorf("load the identity to purge: %w", err)
			}
			return r.eraseIdentities(ctx, tx, rows, nil, now)
		})
	total := players + identities
	if total > 0 {
		r.forgetLog(ctx)
	}
	return total, errors.Join(playersErr, identitiesErr)
}

// purgeFailures is how many erasures of one run may fail before it stops:
// a database that is down fails them all.
const purgeFailures = 3

// purgeDue erases, one per transaction, at most most of the rows that pick
// (with args, then order) finds due. One whose erasure fails (a statement
// timeout on a long history) is passed over for the rest of the run, and
// tried again by the next, so that it holds no other back.
func (r *Players) purgeDue(ctx context.Context, most int, pick string, args []any, order string,
	erase func(ctx context.Context, tx bun.Tx, key uuid.UUID) error,
) (int, error) {
	lock := " LIMIT 1 FOR UPDATE SKIP LOCKED"
	if r.db.sqlite {
		lock = " LIMIT 1"
	}
	var failed []uuid.UUID
	var errs []error
	n := 0
	for n < most && len(errs) < purgeFailures {
		var key uuid.UUID
		var done bool
		err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			q, a := pick, slices.Clone(args)
			if len(failed) > 0 {
				q, a = q+" AND id NOT IN (?)", append(a, bun.List(failed))
			}
			var due []uuid.UUID
			if err := tx.NewRaw(q+order+lock, a...).Scan(ctx, &due); err != nil {
				return fmt.Errorf("find what to purge: %w", err)
			}
			if len(due) == 0 {
				done = true
				return nil
			}
			key = due[0]
			return erase(ctx, tx, key)
		})
		switch {
		case err != nil:
			errs = append(errs, err)
			if key != (uuid.UUID{}) {
				failed = append(failed, key)
			}
		case done:
			return n, errors.Join(errs...)
		default:
			n++
		}
	}
	return n, errors.Join(errs...)
}

type playerRow struct {
	bun.BaseModel `bun:"table:players"`

	ID         uuid.UUID    `bun:"id,pk,type:uuid"`
	AccountID  uuid.UUID    `bun:"account_id,type:uuid"`
	GameID     uuid.UUID    `bun:"game_id,type:uuid"`
	CreatedAt  time.Time    `bun:"created_at"`
	UpdatedAt  time.Time    `bun:"updated_at"`
	DeletedAt  sql.NullTime `bun:"deleted_at"`
	PurgeAfter sql.NullTime `bun:"purge_after"`
	PurgedAt   sql.NullTime `bun:"purged_at"`
}

// playerColumns leave out merged_into: a closed player is never read.
const playerColumns = "id, account_id, game_id, created_at, updated_at, deleted_at, purge_after, purged_at"

func (r *playerRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), uuidField(&r.GameID), &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt, &r.PurgeAfter, &r.PurgedAt}
}

func playerToRow(p *player.Player) *playerRow {
	s := p.Snapshot()
	return &playerRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), GameID: toUUID(s.GameID),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		DeletedAt: nullTime(s.DeletedAt), PurgeAfter: nullTime(s.PurgeAfter), PurgedAt: nullTime(s.PurgedAt),
	}
}

func playerSnapshot(r *playerRow) player.Snapshot {
	return player.Snapshot{
		ID: fromUUID[id.Player](r.ID), AccountID: fromUUID[id.Account](r.AccountID), GameID: fromUUID[id.Game](r.GameID),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		DeletedAt: r.DeletedAt.Time, PurgeAfter: r.PurgeAfter.Time, PurgedAt: r.PurgedAt.Time,
	}
}

type banRow struct {
	bun.BaseModel `bun:"table:bans"`

	ID        uuid.UUID      `bun:"id,pk,type:uuid"`
	PlayerID  uuid.UUID      `bun:"player_id,type:uuid"`
	Reason    string         `bun:"reason"`
	ExpiresAt sql.NullTime   `bun:"expires_at"`
	LiftedAt  sql.NullTime   `bun:"lifted_at"`
	ActorType string         `bun:"actor_type"`
	ActorID   sql.NullString `bun:"actor_id"`
	CreatedAt time.Time      `bun:"created_at"`
	UpdatedAt time.Time      `bun:"updated_at"`
}

func banToRow(b *player.Ban) *banRow {
	s := b.Snapshot()
	return &banRow{
		ID: toUUID(s.ID), PlayerID: toUUID(s.PlayerID), Reason: s.Reason,
		ExpiresAt: nullTime(s.ExpiresAt), LiftedAt: nullTime(s.LiftedAt),
		ActorType: string(s.Actor.Kind), ActorID: sql.NullString{String: s.Actor.ID, Valid: s.Actor.ID != ""},
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func banSnapshot(r *banRow) player.BanSnapshot {
	return player.BanSnapshot{
		ID: fromUUID[id.Ban](r.ID), PlayerID: fromUUID[id.Player](r.PlayerID), Reason: r.Reason,
		ExpiresAt: r.ExpiresAt.Time, LiftedAt: r.LiftedAt.Time,
		Actor:     event.Actor{Kind: event.ActorKind(r.ActorType), ID: r.ActorID.String},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
