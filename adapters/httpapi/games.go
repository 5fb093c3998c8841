package httpapi

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed games.openapi.json
var gamesOpenAPI []byte

// gamesFragment is the games' part of the document, its schemas generated
// from the wire types but for GameUpdate, whose null and absent differ.
var gamesFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(gamesOpenAPI, map[string]any{
		"Game":       wire.Game{},
		"GamePage":   wire.Page[wire.Game]{},
		"GameCreate": wire.CreateGameRequest{},
	})
})

// GameRoutes are the endpoints of games.
func GameRoutes(app ports.Games) Routes {
	h := gameHandlers{app: app}
	return Routes{OpenAPI: gamesFragment(), Mount: func(api gin.IRoutes) {
		api.POST("/games", h.create)
		api.GET("/games", h.list)
		api.GET("/games/:game_id", h.get)
		api.PATCH("/games/:game_id", h.update)
	}}
}

// steamKeyField is write-only: no answer contains its value, 422s included.
const steamKeyField = "steam_web_api_key"

type gameHandlers struct {
	app ports.Games
}

func (h gameHandlers) create(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps, steamKeyField)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateGameRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateGame{
		AccountID:      bodyID[id.Account](in, &req.AccountID),
		Name:           deref(bodyString(in, &req.Name)),
		Slug:           bodyString(in, &req.Slug),
		SteamAppID:     bodyString(in, &req.SteamAppID),
		SteamWebAPIKey: bodyString(in, &req.SteamWebAPIKey),
		DeviceSignIn:   bodyBool(in, &req.DeviceSignIn),
	}
	if !parsed(c, &ps) {
		return
	}
	g, err := h.app.Create(c.Request.Context(), principal(c), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/games/"+g.ID().String())
	c.JSON(http.StatusCreated, toGame(g))
}

func (h gameHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListGames{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		Page:      pageParams(c, &ps),
	}
	if s, ok := query(c, "slug"); ok {
		q.Slug = &s
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.List(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toGame)
}

func (h gameHandlers) get(c *gin.Context) {
	var ps problems
	q := ports.GetGame{
		ID:        pathID[id.Game](c, &ps, "game_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	if !parsed(c, &ps) {
		return
	}
	g, err := h.app.Get(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, g, err, toGame)
}

func (h gameHandlers) update(c *gin.Context) {
	var ps problems
	cmd := ports.UpdateGame{
		ID:        pathID[id.Game](c, &ps, "game_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	b, err := readBody(c, &ps, steamKeyField)
	if err != nil {
		fail(c, err)
		return
	}
	cmd.Name = b.str("name", false)
	cmd.SteamAppID = b.setting("steam_app_id")
	cmd.SteamWebAPIKey = b.setting(steamKeyField)
	cmd.DeviceSignIn = b.boolean("device_sign_in")
	cmd.Delete = deref(b.boolean("deleted"))
	if !parsed(c, &ps) {
		return
	}
	g, err := h.app.Update(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, g, err, toGame)
}

// A game's events hold it as its answers do.
var _ = eventResource(toGame)

// toGame never gives the Steam Web API key: it is write-only.
func toGame(g *game.Game) wire.Game {
	w := wire.Game{
		ID: g.ID().String(), AccountID: g.AccountID().String(), Name: g.Name().String(), Slug: g.Slug().String(),
		SteamConfigured: g.SteamConfigured(), DeviceSignIn: g.DeviceSignIn(), CreatedAt: wireTime(g.CreatedAt()), UpdatedAt: wireTime(g.UpdatedAt()),
	}
	if app := g.SteamAppID(); !app.IsZero() {
		s := app.String()
		w.SteamAppID = &s
	}
	return w
}
