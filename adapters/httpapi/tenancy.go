package httpapi

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed tenancy.openapi.json
var tenancyOpenAPI []byte

// tenancyFragment is the part of the document of accounts, users and API
// keys, its schemas generated from the wire types but for APIKeyUpdate.
var tenancyFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(tenancyOpenAPI, map[string]any{
		"Account":       wire.Account{},
		"AccountPage":   wire.Page[wire.Account]{},
		"AccountCreate": wire.CreateAccountRequest{},
		"User":          wire.User{},
		"UserPage":      wire.Page[wire.User]{},
		"UserCreate":    wire.CreateUserRequest{},
		"APIKey":        wire.APIKey{},
		"CreatedAPIKey": wire.CreatedAPIKey{},
		"APIKeyPage":    wire.Page[wire.APIKey]{},
		"APIKeyCreate":  wire.CreateAPIKeyRequest{},
	})
})

// TenancyRoutes are the endpoints of accounts, users and API keys.
func TenancyRoutes(app ports.Tenancy) Routes {
	h := tenancyHandlers{app: app}
	return Routes{OpenAPI: tenancyFragment(), Mount: func(api gin.IRoutes) {
		api.POST("/accounts", h.createAccount)
		api.GET("/accounts", h.listAccounts)
		api.GET("/accounts/:account_id", h.getAccount)
		api.POST("/users", h.createUser)
		api.GET("/users", h.listUsers)
		api.GET("/users/:user_id", h.getUser)
		api.POST("/api-keys", h.createAPIKey)
		api.GET("/api-keys", h.listAPIKeys)
		api.GET("/api-keys/:key_id", h.getAPIKey)
		api.PATCH("/api-keys/:key_id", h.updateAPIKey)
	}}
}

type tenancyHandlers struct {
	app ports.Tenancy
}

func (h tenancyHandlers) createAccount(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateAccountRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateAccount{Name: deref(bodyString(in, &req.Name)), Slug: deref(bodyString(in, &req.Slug))}
	if !parsed(c, &ps) {
		return
	}
	a, err := h.app.CreateAccount(c.Request.Context(), principal(c), cmd)
	if err == nil {
		c.Header("Location", "/v1/accounts/"+a.ID().String())
	}
	writeOne(c, http.StatusCreated, a, err, toAccount)
}

func (h tenancyHandlers) listAccounts(c *gin.Context) {
	var ps problems
	q := ports.ListAccounts{AccountID: queryID[id.Account](c, &ps, "account_id"), Page: pageParams(c, &ps)}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.ListAccounts(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toAccount)
}

func (h tenancyHandlers) getAccount(c *gin.Context) {
	var ps problems
	accountID := pathID[id.Account](c, &ps, "account_id")
	if !parsed(c, &ps) {
		return
	}
	a, err := h.app.GetAccount(c.Request.Context(), principal(c), accountID)
	writeOne(c, http.StatusOK, a, err, toAccount)
}

func (h tenancyHandlers) createUser(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateUserRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateUser{
		AccountID:   bodyID[id.Account](in, &req.AccountID),
		Email:       deref(bodyString(in, &req.Email)),
		DisplayName: deref(bodyString(in, &req.DisplayName)),
		SuperAdmin:  deref(bodyBool(in, &req.SuperAdmin)),
	}
	if !parsed(c, &ps) {
		return
	}
	u, err := h.app.CreateUser(c.Request.Context(), principal(c), cmd)
	if err == nil {
		c.Header("Location", "/v1/users/"+u.ID().String())
	}
	writeOne(c, http.StatusCreated, u, err, toUser)
}

func (h tenancyHandlers) listUsers(c *gin.Context) {
	var ps problems
	q := ports.ListUsers{AccountID: queryID[id.Account](c, &ps, "account_id"), Page: pageParams(c, &ps)}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.ListUsers(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toUser)
}

func (h tenancyHandlers) getUser(c *gin.Context) {
	var ps problems
	userID := pathID[id.User](c, &ps, "user_id")
	if !parsed(c, &ps) {
		return
	}
	u, err := h.app.GetUser(c.Request.Context(), principal(c), userID)
	writeOne(c, http.StatusOK, u, err, toUser)
}

func (h tenancyHandlers) createAPIKey(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateAPIKeyRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateAPIKey{
		AccountID: bodyID[id.Account](in, &req.AccountID),
		UserID:    bodyID[id.User](in, &req.UserID),
		Name:      deref(bodyString(in, &req.Name)),
		ExpiresAt: bodyTime(in, &req.ExpiresAt),
		RateLimit: bodySetting(in, &req.RateLimit),
	}
	if !parsed(c, &ps) {
		return
	}
	k, plaintext, err := h.app.CreateAPIKey(c.Request.Context(), principal(c), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/api-keys/"+k.ID().String())
	// The plaintext leaves the service here, once; it must not be cached.
	c.Header("Cache-Control", "no-store")
	// The only body that ever holds a key's plaintext.
	c.JSON(http.StatusCreated, wire.CreatedAPIKey{APIKey: toAPIKey(k), Key: plaintext})
}

func (h tenancyHandlers) listAPIKeys(c *gin.Context) {
	var ps problems
	q := ports.ListAPIKeys{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		UserID:    queryID[id.User](c, &ps, "user_id"),
		Page:      pageParams(c, &ps),
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.ListAPIKeys(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toAPIKey)
}

func (h tenancyHandlers) getAPIKey(c *gin.Context) {
	var ps problems
	keyID := pathID[id.APIKey](c, &ps, "key_id")
	if !parsed(c, &ps) {
		return
	}
	k, err := h.app.GetAPIKey(c.Request.Context(), principal(c), keyID)
	writeOne(c, http.StatusOK, k, err, toAPIKey)
}

func (h tenancyHandlers) updateAPIKey(c *gin.Context) {
	var ps problems
	cmd := ports.UpdateAPIKey{ID: pathID[id.APIKey](c, &ps, "key_id")}
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	cmd.Status = b.str("status", false)
	cmd.RateLimit = b.setting("rate_limit")
	if !parsed(c, &ps) {
		return
	}
	k, err := h.app.UpdateAPIKey(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, k, err, toAPIKey)
}

// Events hold accounts, users and keys as their answers do: never a key's
// plaintext or hash.
var (
	_ = eventResource(toAccount)
	_ = eventResource(toUser)
	_ = eventResource(toAPIKey)
)

func toAccount(a *tenancy.Account) wire.Account {
	return wire.Account{ID: a.ID().String(), Name: a.Name(), Slug: a.Slug(),
		CreatedAt: wireTime(a.CreatedAt()), UpdatedAt: wireTime(a.UpdatedAt())}
}

func toUser(u *tenancy.User) wire.User {
	return wire.User{ID: u.ID().String(), AccountID: u.AccountID().String(), Email: u.Email(),
		DisplayName: u.DisplayName(), SuperAdmin: u.SuperAdmin(),
		CreatedAt: wireTime(u.CreatedAt()), UpdatedAt: wireTime(u.UpdatedAt())}
}

func toAPIKey(k *tenancy.APIKey) wire.APIKey {
	a := wire.APIKey{ID: k.ID().String(), AccountID: k.AccountID().String(), UserID: k.UserID().String(),
		Name: k.Name(), KeyPrefix: k.Prefix(), Status: k.Status().String(), ExpiresAt: optionalWireTime(k.ExpiresAt()),
		CreatedAt: wireTime(k.CreatedAt()), UpdatedAt: wireTime(k.UpdatedAt())}
	if l := k.RateLimit(); !l.IsDefault() {
		a.RateLimit = ptr(l.String())
	}
	return a
}
