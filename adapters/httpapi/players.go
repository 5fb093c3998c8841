package httpapi

import (
	_ "embed"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed players.openapi.json
var playersOpenAPI []byte

// playersFragment is the players' part of the document, its schemas
// generated from the wire types.
var playersFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(playersOpenAPI, map[string]any{
		"Player":                wire.Player{},
		"PlayerTombstone":       wire.PlayerTombstone{},
		"PlayerPage":            wire.Page[wire.Player]{},
		"PlayerExport":          wire.PlayerExport{},
		"Ban":                   wire.Ban{},
		"BanList":               wire.BanList{},
		"PlayerLink":            wire.LinkIdentityRequest{},
		"BanCreate":             wire.CreateBanRequest{},
		"BanUpdate":             wire.UpdateBanRequest{},
		"PlayerBanned":          wire.PlayerBanned{},
		"IdentityOfOtherPlayer": wire.IdentityOfOtherPlayer{},
	})
})

// PlayerRoutes are the admin endpoints of players. The client's own
// (linking, unlinking, in-app deletion) are the session slice's, under
// /v1/client/me: they take a bearer token and a nonce.
func PlayerRoutes(app ports.Players) Routes {
	h := playerHandlers{app: app}
	return Routes{OpenAPI: playersFragment(), Mount: func(api gin.IRoutes) {
		api.GET("/players", h.list)
		api.GET("/players/:player_id", h.get)
		api.DELETE("/players/:player_id", h.delete)
		api.POST("/players/:player_id/restore", h.restore)
		api.GET("/players/:player_id/export", h.export)
		api.POST("/players/:player_id/identities", h.link)
		api.DELETE("/players/:player_id/identities/:identity_id", h.unlink)
		api.POST("/players/:player_id/bans", h.ban)
		api.GET("/players/:player_id/bans", h.bans)
		api.PATCH("/players/:player_id/bans/:ban_id", h.updateBan)
	}}
}

type playerHandlers struct {
	app ports.Players
}

func (h playerHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListPlayers{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		GameID:    queryID[id.Game](c, &ps, "game_id"),
		Banned:    queryBool(c, &ps, "banned"),
		Deleted:   queryBool(c, &ps, "deleted"),
		Page:      pageParams(c, &ps),
	}
	if k, ok := query(c, "kind"); ok {
		q.Kind = &k
	}
	if k, ok := query(c, "external_key"); ok {
		q.ExternalKey = &k
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.List(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toPlayer)
}

func playerTarget(c *gin.Context, ps *problems) ports.GetPlayer {
	return ports.GetPlayer{
		ID:        pathID[id.Player](c, ps, "player_id"),
		AccountID: queryID[id.Account](c, ps, "account_id"),
	}
}

// get answers a purged player's tombstone, 200: other services show that
// the player was deleted.
func (h playerHandlers) get(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	p, err := h.app.Get(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, p, err, toPlayerOrTombstone)
}

// delete soft-deletes the player, or with erase=true purges it at once and
// answers its tombstone.
func (h playerHandlers) delete(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	erase := queryBool(c, &ps, "erase")
	if !parsed(c, &ps) {
		return
	}
	p, err := h.app.Delete(c.Request.Context(), principal(c), ports.DeletePlayer{ID: q.ID, AccountID: q.AccountID, Erase: deref(erase)})
	writeOne(c, http.StatusOK, p, err, toPlayerOrTombstone)
}

func (h playerHandlers) restore(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	p, err := h.app.Restore(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, p, err, toPlayer)
}

func (h playerHandlers) export(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	x, err := h.app.Export(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, x, err, toPlayerExport)
}

// link answers 200 with the player whether the identity joined it, was in
// it already, or came with a merge: the identity existed before, and the
// player is what changed.
func (h playerHandlers) link(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.LinkIdentityRequest
	in := fieldsOf(b, &req)
	cmd := ports.LinkIdentity{
		PlayerID: q.ID, AccountID: q.AccountID,
		IdentityID: bodyID[id.Identity](in, &req.IdentityID),
		Merge:      deref(bodyBool(in, &req.Merge)),
	}
	if !parsed(c, &ps) {
		return
	}
	p, _, err := h.app.Link(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, p, err, toPlayer)
}

// unlink answers the identity, now the only one of a new player.
func (h playerHandlers) unlink(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	cmd := ports.UnlinkIdentity{PlayerID: q.ID, AccountID: q.AccountID, IdentityID: pathID[id.Identity](c, &ps, "identity_id")}
	if !parsed(c, &ps) {
		return
	}
	i, err := h.app.Unlink(c.Request.Context(), principal(c), cmd)
	writeIdentity(c, http.StatusOK, i, err)
}

// ban answers 201 with the ban's address, the one that changes it (the
// player's history lists it).
func (h playerHandlers) ban(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateBanRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateBan{PlayerID: q.ID, AccountID: q.AccountID, Reason: bodyString(in, &req.Reason)}
	if t := bodyTime(in, &req.ExpiresAt); !t.IsZero() {
		cmd.ExpiresAt = &t
	}
	if !parsed(c, &ps) {
		return
	}
	ban, err := h.app.Ban(c.Request.Context(), principal(c), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/players/"+q.ID.String()+"/bans/"+ban.ID().String())
	c.JSON(http.StatusCreated, toBan(ban))
}

// updateBan tells an absent expires_at (unchanged) from null (none).
func (h playerHandlers) updateBan(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	cmd := ports.UpdateBan{PlayerID: q.ID, AccountID: q.AccountID, BanID: pathID[id.Ban](c, &ps, "ban_id")}
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.UpdateBanRequest
	in := fieldsOf(b, &req)
	if s := bodySetting(in, &req.ExpiresAt); s.Given {
		cmd.ExpiresAtSet = true
		if s.Value != nil {
			t := b.timestamp(in.tag(&req.ExpiresAt).name, s.Value)
			cmd.ExpiresAt = &t
		}
	}
	cmd.Lift = deref(bodyBool(in, &req.Lifted))
	if !parsed(c, &ps) {
		return
	}
	ban, err := h.app.UpdateBan(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, ban, err, toBan)
}

func (h playerHandlers) bans(c *gin.Context) {
	var ps problems
	q := playerTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	bans, err := h.app.Bans(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, bans, err, toBanList)
}

// queryBool reads an optional boolean from the query string with
// pydantic's lax rules (true/false, 1/0, yes/no, on/off, t/f, y/n, in any
// case), as FastAPI reads a bool parameter.
func queryBool(c *gin.Context, ps *problems, name string) *bool {
	s, ok := query(c, name)
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "off", "f", "false", "n", "no":
		return ptr(false)
	case "1", "on", "t", "true", "y", "yes":
		return ptr(true)
	}
	ps.add("query", name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", s, nil)
	return nil
}

// A player's events hold it as its answers do; a merge's, the two
// players; a purge's, the tombstones, which hold nothing personal.
var (
	_ = eventResource(toPlayer)
	_ = eventResource(toPlayerMerge)
	_ = eventResource(toPlayerTombstone)
	_ = eventResource(toIdentityTombstone)
)

func toPlayer(p *player.Player) wire.Player {
	w := wire.Player{
		ID: p.ID().String(), AccountID: p.AccountID().String(), GameID: p.GameID().String(),
		Identities: make([]wire.Identity, len(p.Identities())),
		DeletedAt:  optionalWireTime(p.DeletedAt()), PurgeAfter: optionalWireTime(p.PurgeAfter()),
		CreatedAt: wireTime(p.CreatedAt()), UpdatedAt: wireTime(p.UpdatedAt()),
	}
	for i, x := range p.Identities() {
		w.Identities[i] = toIdentity(x)
	}
	if b := p.Ban(); b != nil {
		ban := toBan(b)
		w.Ban = &ban
	}
	return w
}

// toPlayerOrTombstone is a player as GET answers it: once purged, its
// tombstone and nothing more.
func toPlayerOrTombstone(p *player.Player) any {
	if p.IsPurged() {
		return toPlayerTombstone(p.Tombstone())
	}
	return toPlayer(p)
}

func toPlayerTombstone(t player.Tombstone) wire.PlayerTombstone {
	return wire.PlayerTombstone{ID: t.ID.String(), AccountID: t.AccountID.String(), GameID: t.GameID.String(), PurgedAt: wireTime(t.PurgedAt)}
}

func toIdentityTombstone(t identity.Tombstone) wire.IdentityTombstone {
	return wire.IdentityTombstone{
		ID: t.ID.String(), AccountID: t.AccountID.String(), GameID: t.GameID.String(), PlayerID: t.PlayerID.String(),
		PurgedAt: wireTime(t.PurgedAt),
	}
}

func toPlayerMerge(m player.Merge) wire.PlayerMerge {
	return wire.PlayerMerge{From: m.From.String(), Into: m.Into.String()}
}

func toBan(b *player.Ban) wire.Ban {
	w := wire.Ban{
		ID: b.ID().String(), PlayerID: b.PlayerID().String(), Reason: b.Reason().String(),
		ExpiresAt: optionalWireTime(b.ExpiresAt()), LiftedAt: optionalWireTime(b.LiftedAt()),
		Actor:     wire.EventActor{Type: string(b.Actor().Kind)},
		CreatedAt: wireTime(b.CreatedAt()), UpdatedAt: wireTime(b.UpdatedAt()),
	}
	if a := b.Actor().ID; a != "" {
		w.Actor.ID = &a
	}
	return w
}

func toBanList(bans []*player.Ban) wire.BanList {
	out := wire.BanList{Data: make([]wire.Ban, len(bans))}
	for i, b := range bans {
		out.Data[i] = toBan(b)
	}
	return out
}

// toPlayerExport holds no secret: sessions without their tokens, events
// as the audit log gives them.
func toPlayerExport(x ports.PlayerExport) wire.PlayerExport {
	w := wire.PlayerExport{
		Player:     toPlayer(x.Player),
		Identities: make([]wire.ExportedIdentity, len(x.Identities)),
		Bans:       toBanList(x.Bans).Data,
		Sessions:   make([]wire.IdentitySession, len(x.Sessions)),
		Events:     make([]wire.Event, len(x.Events)),
	}
	for i, x := range x.Identities {
		w.Identities[i] = wire.ExportedIdentity{Identity: toIdentity(x), DeletedAt: optionalWireTime(x.DeletedAt())}
	}
	for i, s := range x.Sessions {
		w.Sessions[i] = toIdentitySession(s)
	}
	for i, e := range x.Events {
		w.Events[i] = toEvent(e)
	}
	return w
}
