package httpapi

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed identities.openapi.json
var identitiesOpenAPI []byte

// identitiesFragment is the identities' part of the document, its schemas
// generated from the wire types.
var identitiesFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(identitiesOpenAPI, map[string]any{
		"Identity":       wire.Identity{},
		"IdentityPage":   wire.Page[wire.Identity]{},
		"IdentityCreate": wire.CreateIdentityRequest{},
		"IdentityUpdate": wire.UpdateIdentityRequest{},
	})
})

// IdentityRoutes are the endpoints of identities.
func IdentityRoutes(app ports.Identities) Routes {
	h := identityHandlers{app: app}
	return Routes{OpenAPI: identitiesFragment(), Mount: func(api gin.IRoutes) {
		api.POST("/identities", h.create)
		api.GET("/identities", h.list)
		api.GET("/identities/:identity_id", h.get)
		api.PATCH("/identities/:identity_id", h.update)
		api.POST("/identities/:identity_id/restore", h.restore)
	}}
}

type identityHandlers struct {
	app ports.Identities
}

func (h identityHandlers) create(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateIdentityRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateIdentity{
		AccountID:   bodyID[id.Account](in, &req.AccountID),
		GameID:      bodyID[id.Game](in, &req.GameID),
		Kind:        deref(bodyString(in, &req.Kind)),
		ExternalKey: deref(bodyString(in, &req.ExternalKey)),
		DisplayName: bodyString(in, &req.DisplayName),
	}
	if !parsed(c, &ps) {
		return
	}
	i, created, err := h.app.GetOrCreate(c.Request.Context(), principal(c), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/identities/"+i.ID().String())
	}
	writeIdentity(c, status, i, nil)
}

func (h identityHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListIdentities{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		GameID:    queryID[id.Game](c, &ps, "game_id"),
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
	writePage(c, page, err, toIdentity)
}

func (h identityHandlers) get(c *gin.Context) {
	var ps problems
	q := ports.GetIdentity{
		ID:        pathID[id.Identity](c, &ps, "identity_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	if !parsed(c, &ps) {
		return
	}
	i, err := h.app.Get(c.Request.Context(), principal(c), q)
	writeIdentity(c, http.StatusOK, i, err)
}

func (h identityHandlers) update(c *gin.Context) {
	var ps problems
	cmd := ports.UpdateIdentity{
		ID:        pathID[id.Identity](c, &ps, "identity_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.UpdateIdentityRequest
	in := fieldsOf(b, &req)
	cmd.DisplayName = bodyString(in, &req.DisplayName)
	cmd.Delete = deref(bodyBool(in, &req.Deleted))
	cmd.Precondition = ifMatch(c)
	if !parsed(c, &ps) {
		return
	}
	i, err := h.app.Update(c.Request.Context(), principal(c), cmd)
	writeIdentity(c, http.StatusOK, i, err)
}

// restore undoes a soft delete within the grace period (section 11).
func (h identityHandlers) restore(c *gin.Context) {
	var ps problems
	q := ports.GetIdentity{
		ID:        pathID[id.Identity](c, &ps, "identity_id"),
		AccountID: queryID[id.Account](c, &ps, "account_id"),
	}
	if !parsed(c, &ps) {
		return
	}
	i, err := h.app.Restore(c.Request.Context(), principal(c), q)
	writeIdentity(c, http.StatusOK, i, err)
}

// An identity's events hold it as its answers do.
var _ = eventResource(toIdentity)

func toIdentity(i *identity.Identity) wire.Identity {
	w := wire.Identity{
		ID:          i.ID().String(),
		AccountID:   i.AccountID().String(),
		GameID:      i.GameID().String(),
		PlayerID:    i.PlayerID().String(),
		Kind:        i.Kind().String(),
		ExternalKey: i.ExternalKey().String(),
		CreatedAt:   wireTime(i.CreatedAt()),
		UpdatedAt:   wireTime(i.UpdatedAt()),
	}
	if dn := i.DisplayName(); !dn.IsZero() {
		s := dn.String()
		w.DisplayName = &s
	}
	return w
}
