package apptest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Players() }) }

func (m *Memory) Players() ports.PlayerRepository { return (*memPlayers)(m) }

// EncodeWith is the store outbox's way of setting the encoder, so that the
// contract suite can write events' data in the API's shape on either.
func (o *memOutbox) EncodeWith(encode ports.EventEncoder) { (*Memory)(o).EncodeEventsWith(encode) }

// playerTable holds the players' rows (a snapshot without identities, which
// the identity table holds, and without a ban) and every ban.
type playerTable struct {
	rows []player.Snapshot
	bans []player.BanSnapshot
}

type memPlayers Memory

// players is the player table; the caller holds the lock.
func (m *Memory) players() *playerTable { return table[playerTable](m, "players") }

func (m *Memory) playerIndex(playerID id.PlayerID) int {
	return slices.IndexFunc(m.players().rows, func(s player.Snapshot) bool { return s.ID == playerID })
}

// livePlayer reports whether the player is neither deleted, purged nor
// closed: what a restored identity needs.
func (m *Memory) livePlayer(playerID id.PlayerID) bool {
	i := m.playerIndex(playerID)
	if i < 0 {
		return false
	}
	s := m.players().rows[i]
	return s.DeletedAt.IsZero() && s.PurgedAt.IsZero() && s.MergedInto.IsZero()
}

// playerRow is what the table keeps of p.
func playerRow(p *player.Player) player.Snapshot {
	s := p.Snapshot()
	s.Identities, s.Ban = nil, nil
	return s
}

// currentBan is the player's newest ban when it is in force at now.
func (m *Memory) currentBan(playerID id.PlayerID, now time.Time) *player.Ban {
	var newest *player.BanSnapshot
	for i, b := range m.players().bans {
		if b.PlayerID == playerID && (newest == nil || newerBan(b, *newest)) {
			newest = &m.players().bans[i]
		}
	}
	if newest == nil {
		return nil
	}
	if b := player.RehydrateBan(*newest); b.ActiveAt(now) {
		return b
	}
	return nil
}

func newerBan(a, b player.BanSnapshot) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c > 0
	}
	return a.ID.UUID().String() > b.ID.UUID().String()
}

// playerIdentities are the identities a player shows: the live ones, or
// for a deleted player those deleted with it, oldest first.
func (m *Memory) playerIdentities(s player.Snapshot) []*identity.Identity {
	var out []*identity.Identity
	if !s.PurgedAt.IsZero() {
		return out
	}
	for _, i := range table[identityTable](m, "identities").rows {
		if i.PlayerID == s.ID && i.DeletedAt.Equal(s.DeletedAt) {
			out = append(out, identity.Rehydrate(i))
		}
	}
	slices.SortFunc(out, func(a, b *identity.Identity) int {
		return cmp.Or(a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(a.ID().UUID().String(), b.ID().UUID().String()))
	})
	return out
}

// readPlayer reads the player as Get does: a closed one, or none, is
// ErrNotFound; the caller holds the lock.
func (m *Memory) readPlayer(playerID id.PlayerID, now time.Time) (*player.Player, error) {
	i := m.playerIndex(playerID)
	if i < 0 || !m.players().rows[i].MergedInto.IsZero() {
		return nil, player.ErrNotFound
	}
	return m.rehydratePlayer(m.players().rows[i], now), nil
}

func (m *Memory) rehydratePlayer(row player.Snapshot, now time.Time) *player.Player {
	s := row
	s.Identities = m.playerIdentities(row)
	if b := m.currentBan(row.ID, now); b != nil {
		snap := b.Snapshot()
		s.Ban = &snap
	}
	return player.Rehydrate(s)
}

func (r *memPlayers) Create(ctx context.Context, p *player.Player) error {
	m := (*Memory)(r)
	return m.write(ctx, func(ctx context.Context, tx *memTx) error {
		s := playerRow(p)
		switch {
		case !slices.ContainsFunc(m.games().rows, func(g game.Snapshot) bool { return g.ID == s.GameID && g.AccountID == s.AccountID }):
			// The store's foreign key names the game of the account, live or not.
			return game.ErrNotFound
		case m.playerIndex(s.ID) >= 0:
			return errors.New("player exists")
		}
		add(tx, &m.players().rows, s)
		return tx.record(ctx, player.Created(p))
	})
}

func (r *memPlayers) Get(ctx context.Context, playerID id.PlayerID, now time.Time) (*player.Player, error) {
	defer (*Memory)(r).lock(ctx)()
	return (*Memory)(r).readPlayer(playerID, now)
}

func (r *memPlayers) Update(ctx context.Context, ids []id.PlayerID, now time.Time, fn func(ctx context.Context, ps []*player.Player) error) ([]*player.Player, error) {
	m := (*Memory)(r)
	var out []*player.Player
	err := m.write(ctx, func(ctx context.Context, tx *memTx) error {
		ps := make([]*player.Player, len(ids))
		before := make([]*player.Player, len(ids))
		// held are the identities fn is given: it changes them in place,
		// and those an unlink moves out are no player's of ps afterwards.
		var held []*identity.Identity
		for n, playerID := range ids {
			p, err := m.readPlayer(playerID, now)
			if err != nil {
				return err
			}
			if p.IsPurged() {
				return player.ErrNotFound
			}
			ps[n], before[n] = p, p.Clone()
			held = append(held, p.Identities()...)
		}
		// Rows added from here on are players made within fn.
		existed := len(m.players().rows)
		if err := fn(ctx, ps); err != nil {
			return err
		}
		for n, p := range ps {
			if err := tx.savePlayer(ctx, before[n], p, ps); err != nil {
				return err
			}
		}
		for _, p := range ps {
			held = append(held, p.Identities()...)
		}
		saved := map[id.IdentityID]bool{}
		for _, i := range held {
			if saved[i.ID()] {
				continue
			}
			saved[i.ID()] = true
			if err := tx.saveIdentity(ctx, i, existed); err != nil {
				return err
			}
		}
		out = ps
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// savePlayer writes the player's row and its changed ban, recording
// player.Changed, and player.Merged when fn closed it.
func (tx *memTx) savePlayer(ctx context.Context, before, after *player.Player, ps []*player.Player) error {
	m := tx.m
	t := m.players()
	i := m.playerIndex(after.ID())
	changed := false
	if row := playerRow(after); !reflect.DeepEqual(t.rows[i], row) {
		set(tx, &t.rows, i, row)
		changed = true
	}
	if b := after.ChangedBan(); b != nil {
		s := b.Snapshot()
		switch k := slices.IndexFunc(t.bans, func(x player.BanSnapshot) bool { return x.ID == s.ID }); {
		case k < 0:
			add(tx, &t.bans, s)
			changed = true
		case t.bans[k] != s:
			set(tx, &t.bans, k, s)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	var events []event.Event
	if e := player.Changed(before, after); e.Type != "" {
		events = append(events, e)
	}
	if after.IsClosed() && !before.IsClosed() {
		// Its soft-deleted identities go along, as the store's do.
		ids := &table[identityTable](m, "identities").rows
		for k, s := range *ids {
			if s.PlayerID != after.ID() || s.DeletedAt.IsZero() {
				continue
			}
			moved := s
			moved.PlayerID, moved.UpdatedAt = after.MergedInto(), after.UpdatedAt()
			set(tx, ids, k, moved)
			events = append(events, identity.Linked(identity.Rehydrate(s), identity.Rehydrate(moved)))
		}
		into := player.Rehydrate(player.Snapshot{ID: after.MergedInto()})
		if k := slices.IndexFunc(ps, func(p *player.Player) bool { return p.ID() == after.MergedInto() }); k >= 0 {
			into = ps[k]
		}
		events = append(events, player.Merged(after, into))
	}
	return tx.record(ctx, events...)
}

// saveIdentity writes an identity an Update changed: identity.Linked when
// it moved to a player that existed before fn, identity.Unlinked when to
// one made within fn (a row at existed or after), else identity.Changed.
// A restored identity whose key a live one holds is ErrKeyInUse.
func (tx *memTx) saveIdentity(ctx context.Context, i *identity.Identity, existed int) error {
	m := tx.m
	rows := &table[identityTable](m, "identities").rows
	k := slices.IndexFunc(*rows, func(s identity.Snapshot) bool { return s.ID == i.ID() })
	if k < 0 {
		return identity.ErrNotFound
	}
	after := i.Snapshot()
	if (*rows)[k] == after {
		return nil
	}
	before := identity.Rehydrate((*rows)[k])
	if before.IsDeleted() && !i.IsDeleted() && m.liveKeyTaken(after) {
		return identity.ErrKeyInUse
	}
	set(tx, rows, k, after)
	switch {
	case before.PlayerID() == i.PlayerID():
		return tx.record(ctx, identity.Changed(before, i))
	case m.playerIndex(i.PlayerID()) >= existed:
		return tx.record(ctx, identity.Unlinked(before, i))
	}
	return tx.record(ctx, identity.Linked(before, i))
}

func (r *memPlayers) List(ctx context.Context, f ports.PlayerFilter, req paging.Request, now time.Time) (paging.Result[*player.Player], error) {
	m := (*Memory)(r)
	defer m.lock(ctx)()
	var holders map[id.PlayerID]bool
	if !f.Kind.IsZero() || f.ExternalKey != "" {
		holders = map[id.PlayerID]bool{}
		for _, s := range table[identityTable](m, "identities").rows {
			// A deleted player is found by the identities deleted with it.
			if s.DeletedAt.IsZero() != f.Deleted && (f.Kind.IsZero() || s.Kind == f.Kind) && (f.ExternalKey == "" || s.ExternalKey == f.ExternalKey) {
				holders[s.PlayerID] = true
			}
		}
	}
	var items []*player.Player
	for _, s := range m.players().rows {
		if !s.PurgedAt.IsZero() || !s.MergedInto.IsZero() || f.Deleted == s.DeletedAt.IsZero() ||
			!f.AccountID.IsZero() && s.AccountID != f.AccountID ||
			!f.GameID.IsZero() && s.GameID != f.GameID ||
			holders != nil && !holders[s.ID] {
			continue
		}
		banned := m.currentBan(s.ID, now) != nil
		if f.Banned == "true" && !banned || f.Banned == "false" && banned {
			continue
		}
		items = append(items, m.rehydratePlayer(s, now))
	}
	return Page(items, req, ports.PlayerSchema), nil
}

// Bans reads the history alone, as the store does: whether the player is
// there is the caller's to ask (Get); a purged one's bans went with it.
func (r *memPlayers) Bans(ctx context.Context, playerID id.PlayerID) ([]*player.Ban, error) {
	m := (*Memory)(r)
	defer m.lock(ctx)()
	return m.bansOf(playerID, ports.MaxBanHistory), nil
}

// bansOf is the player's ban history, newest first, at most most.
func (m *Memory) bansOf(playerID id.PlayerID, most int) []*player.Ban {
	var list []player.BanSnapshot
	for _, b := range m.players().bans {
		if b.PlayerID == playerID {
			list = append(list, b)
		}
	}
	slices.SortFunc(list, func(a, b player.BanSnapshot) int {
		if newerBan(a, b) {
			return -1
		}
		return 1
	})
	out := []*player.Ban{}
	for _, b := range list[:min(len(list), most)] {
		out = append(out, player.RehydrateBan(b))
	}
	return out
}

// banOfIdentity is player.Banned when the identity's player is banned at
// now; the caller holds the lock.
func (m *Memory) banOfIdentity(identityID id.IdentityID, now time.Time) error {
	k := slices.IndexFunc(table[identityTable](m, "identities").rows, func(s identity.Snapshot) bool { return s.ID == identityID })
	if k < 0 {
		return nil
	}
	if b := m.currentBan(table[identityTable](m, "identities").rows[k].PlayerID, now); b != nil {
		return player.Banned(b.ExpiresAt())
	}
	return nil
}

// CheckSessionStart needs no lock of its own: the fake's one lock, held by
// the session's transaction, orders it with every ban.
func (r *memPlayers) CheckSessionStart(ctx context.Context, identityID id.IdentityID, now time.Time) error {
	m := (*Memory)(r)
	defer m.lock(ctx)()
	return m.banOfIdentity(identityID, now)
}

func (r *memPlayers) RefreshBan(ctx context.Context, refreshHash []byte, now time.Time) error {
	m := (*Memory)(r)
	defer m.lock(ctx)()
	t := table[sessionTable](m, "sessions")
	k := slices.IndexFunc(t.tokens, func(x refreshToken) bool { return bytes.Equal(x.hash, refreshHash) })
	if k < 0 {
		return nil
	}
	i := slices.IndexFunc(t.rows, sessionWithID(t.tokens[k].sessionID))
	if i < 0 {
		return nil
	}
	return m.banOfIdentity(t.rows[i].IdentityID, now)
}

func (r *memPlayers) Export(ctx context.Context, playerID id.PlayerID, now time.Time) (ports.PlayerExport, error) {
	m := (*Memory)(r)
	defer m.lock(ctx)()
	p, err := m.readPlayer(playerID, now)
	if err != nil {
		return ports.PlayerExport{}, err
	}
	out := ports.PlayerExport{Player: p, Identities: []*identity.Identity{}, Sessions: []*session.Session{}, Events: []*ports.Recorded{}}
	subjects := map[string]bool{playerID.String(): true}
	ofPlayer := map[id.IdentityID]bool{}
	for _, s := range table[identityTable](m, "identities").rows {
		if s.PlayerID == playerID {
			out.Identities = append(out.Identities, identity.Rehydrate(s))
			subjects[s.ID.String()] = true
			ofPlayer[s.ID] = true
		}
	}
	slices.SortFunc(out.Identities, func(a, b *identity.Identity) int {
		return cmp.Or(a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(a.ID().UUID().String(), b.ID().UUID().String()))
	})
	out.Bans = m.bansOf(playerID, len(m.players().bans))
	for _, s := range table[sessionTable](m, "sessions").rows {
		if ofPlayer[s.IdentityID] {
			out.Sessions = append(out.Sessions, session.Rehydrate(s))
		}
	}
	for _, e := range m.events().rows {
		if subjects[e.Subject.ID] {
			e.Data = bytes.Clone(e.Data)
			out.Events = append(out.Events, &e)
		}
	}
	return out, nil
}

// Purge purges each row in a transaction of its own, as the store does:
// first the players due, then the identities due that are left.
func (r *memPlayers) Purge(ctx context.Context, now time.Time, grace time.Duration, most int) (int, error) {
	m := (*Memory)(r)
	n := 0
	purgeOne := func(purge func(ctx context.Context, tx *memTx) (bool, error)) (bool, error) {
		var done bool
		err := m.write(ctx, func(ctx context.Context, tx *memTx) (err error) {
			done, err = purge(ctx, tx)
			return err
		})
		return done, err
	}
	for n < most {
		done, err := purgeOne(func(ctx context.Context, tx *memTx) (bool, error) {
			i := slices.IndexFunc(m.players().rows, func(s player.Snapshot) bool {
				return s.PurgedAt.IsZero() && s.MergedInto.IsZero() && !s.PurgeAfter.IsZero() && !now.Before(s.PurgeAfter)
			})
			if i < 0 {
				return false, nil
			}
			_, err := tx.erase(ctx, m.players().rows[i].ID, now)
			return true, err
		})
		if err != nil || !done {
			if err != nil {
				return n, err
			}
			break
		}
		n++
	}
	for n < most {
		done, err := purgeOne(func(ctx context.Context, tx *memTx) (bool, error) {
			rows := table[identityTable](m, "identities").rows
			// Those of a deleted player wait for its own purge, which
			// takes them all, as the store's do.
			k := slices.IndexFunc(rows, func(s identity.Snapshot) bool {
				p := m.playerIndex(s.PlayerID)
				return !s.DeletedAt.IsZero() && !now.Before(s.DeletedAt.Add(grace)) &&
					(p < 0 || m.players().rows[p].DeletedAt.IsZero())
			})
			if k < 0 {
				return false, nil
			}
			i := identity.Rehydrate(rows[k])
			if err := tx.deleteIdentities(ctx, []*identity.Identity{i}, now); err != nil {
				return true, err
			}
			return true, tx.scrub([]id.IdentityID{i.ID()}, []id.PlayerID{i.PlayerID()})
		})
		if err != nil {
			return n, err
		}
		if !done {
			break
		}
		n++
	}
	return n, nil
}

func (r *memPlayers) Erase(ctx context.Context, playerID id.PlayerID, now time.Time) (*player.Player, error) {
	m := (*Memory)(r)
	var out *player.Player
	err := m.write(ctx, func(ctx context.Context, tx *memTx) (err error) {
		out, err = tx.erase(ctx, playerID, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// erase purges the player in tx: its identities (every one, whatever its
// state), their sessions, its bans and the personal fields of its events;
// the row is left as the tombstone.
func (tx *memTx) erase(ctx context.Context, playerID id.PlayerID, now time.Time) (*player.Player, error) {
	m := tx.m
	p, err := m.readPlayer(playerID, now)
	if err != nil {
		return nil, err
	}
	if err := p.Purge(now); err != nil {
		return nil, err
	}
	var gone []*identity.Identity
	var goneIDs []id.IdentityID
	for _, s := range table[identityTable](m, "identities").rows {
		if s.PlayerID == playerID {
			gone = append(gone, identity.Rehydrate(s))
			goneIDs = append(goneIDs, s.ID)
		}
	}
	t := m.players()
	deleteWhere(tx, &t.bans, func(b player.BanSnapshot) bool { return b.PlayerID == playerID })
	set(tx, &t.rows, m.playerIndex(playerID), playerRow(p))
	if err := tx.scrub(goneIDs, []id.PlayerID{playerID}); err != nil {
		return nil, err
	}
	if err := tx.deleteIdentities(ctx, gone, now); err != nil {
		return nil, err
	}
	if err := tx.record(ctx, player.Purged(p)); err != nil {
		return nil, err
	}
	return p, nil
}

// deleteIdentities deletes the identities' rows, their sessions, refresh
// tokens and nonces, recording identity.purged for each.
func (tx *memTx) deleteIdentities(ctx context.Context, list []*identity.Identity, now time.Time) error {
	if len(list) == 0 {
		return nil
	}
	m := tx.m
	ids := map[id.IdentityID]bool{}
	events := make([]event.Event, 0, len(list))
	for _, i := range list {
		ids[i.ID()] = true
		events = append(events, identity.Purged(i, now))
	}
	st := table[sessionTable](m, "sessions")
	sessions := map[id.SessionID]bool{}
	for _, s := range st.rows {
		if ids[s.IdentityID] {
			sessions[s.ID] = true
		}
	}
	deleteWhere(tx, &st.rows, func(s session.Snapshot) bool { return sessions[s.ID] })
	deleteWhere(tx, &st.tokens, func(k refreshToken) bool { return sessions[k.sessionID] })
	deleteWhere(tx, &st.nonces, func(n nonce) bool { return sessions[n.sessionID] })
	deleteWhere(tx, &table[identityTable](m, "identities").rows, func(s identity.Snapshot) bool { return ids[s.ID] })
	return tx.record(ctx, events...)
}

// personalFields are what a purge removes from events' data.
var personalFields = []string{"external_key", "display_name"}

// scrub removes the personal fields of the identities from the data of the
// events about them, about the players, and about every player the
// identities belonged to before (their events' data name them in
// "player_id" and its "changes"): from any object whose "id" is one of
// the identities', and from the "changes" beside them.
func (tx *memTx) scrub(identities []id.IdentityID, players []id.PlayerID) error {
	if len(identities) == 0 {
		return nil
	}
	rows := &tx.m.events().rows
	ids, subjects := map[string]bool{}, map[string]bool{}
	for _, i := range identities {
		ids[i.String()], subjects[i.String()] = true, true
	}
	for _, p := range players {
		subjects[p.String()] = true
	}
	for _, e := range *rows {
		if ids[e.Subject.ID] {
			for _, p := range formerPlayers(e.Data) {
				subjects[p] = true
			}
		}
	}
	for k, e := range *rows {
		if !subjects[e.Subject.ID] {
			continue
		}
		v, err := decodeData(e.Data)
		if err != nil {
			continue // not JSON of ours: nothing personal to find
		}
		if !scrubValue(v, ids) {
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		e.Data = data
		set(tx, rows, k, e)
	}
	return nil
}

func decodeData(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}

// formerPlayers are the players an identity event's data names.
func formerPlayers(data []byte) []string {
	v, err := decodeData(data)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil
	}
	var out []string
	if p, ok := obj["player_id"].(string); ok {
		out = append(out, p)
	}
	if changes, ok := obj["changes"].(map[string]any); ok {
		if pair, ok := changes["player_id"].([]any); ok {
			for _, p := range pair {
				if p, ok := p.(string); ok {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// scrubValue removes the personal fields in place and reports whether it
// removed any.
func scrubValue(v any, ids map[string]bool) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["id"].(string); ok && ids[s] {
			changes, _ := x["changes"].(map[string]any)
			for _, f := range personalFields {
				if _, ok := x[f]; ok {
					delete(x, f)
					changed = true
				}
				if _, ok := changes[f]; ok {
					delete(changes, f)
					changed = true
				}
			}
		}
		for _, y := range x {
			changed = scrubValue(y, ids) || changed
		}
	case []any:
		for _, y := range x {
			changed = scrubValue(y, ids) || changed
		}
	}
	return changed
}
