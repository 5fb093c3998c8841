package httpapi

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

//go:embed tenancy.openapi.json
var tenancyOpenAPI []byte

// tenancyFragment is the part of the document of accounts, users and API
// keys, its schemas generated from the wire types but for APIKeyUpdate.
var tenancyFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(tenancyOpenAPI, map[string]any{
		"Account":       client.Account{},
		"AccountPage":   client.Page[client.Account]{},
		"AccountCreate": client.CreateAccountRequest{},
		"User":          client.User{},
		"UserPage":      client.Page[client.User]{},
		"UserCreate":    client.CreateUserRequest{},
		"APIKey":        client.APIKey{},
		"CreatedAPIKey": client.CreatedAPIKey{},
		"APIKeyPage":    client.Page[client.APIKey]{},
		"APIKeyCreate":  client.CreateAPIKeyRequest{},
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
	cmd := ports.CreateAccount{Name: deref(b.str("name", true)), Slug: deref(b.str("slug", true))}
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
	cmd := ports.CreateUser{
		AccountID:   bodyID[id.Account](b, "account_id", false),
		Email:       deref(b.str("email", true)),
		DisplayName: deref(b.str("display_name", true)),
		SuperAdmin:  deref(b.boolean("super_admin")),
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
	cmd := ports.CreateAPIKey{
		AccountID: bodyID[id.Account](b, "account_id", false),
		UserID:    bodyID[id.User](b, "user_id", true),
		Name:      deref(b.str("name", true)),
		ExpiresAt: b.timestamp("expires_at"),
		RateLimit: b.setting("rate_limit"),
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
	c.JSON(http.StatusCreated, client.CreatedAPIKey{APIKey: toAPIKey(k), Key: plaintext})
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

func toAccount(a *tenancy.Account) client.Account {
	return client.Account{ID: a.ID().String(), Name: a.Name(), Slug: a.Slug(),
		CreatedAt: wireTime(a.CreatedAt()), UpdatedAt: wireTime(a.UpdatedAt())}
}

func toUser(u *tenancy.User) client.User {
	return client.User{ID: u.ID().String(), AccountID: u.AccountID().String(), Email: u.Email(),
		DisplayName: u.DisplayName(), SuperAdmin: u.SuperAdmin(),
		CreatedAt: wireTime(u.CreatedAt()), UpdatedAt: wireTime(u.UpdatedAt())}
}

func toAPIKey(k *tenancy.APIKey) client.APIKey {
	a := client.APIKey{ID: k.ID().String(), AccountID: k.AccountID().String(), UserID: k.UserID().String(),
		Name: k.Name(), KeyPrefix: k.Prefix(), Status: k.Status().String(), ExpiresAt: optionalWireTime(k.ExpiresAt()),
		CreatedAt: wireTime(k.CreatedAt()), UpdatedAt: wireTime(k.UpdatedAt())}
	if l := k.RateLimit(); !l.IsDefault() {
		a.RateLimit = ptr(l.String())
	}
	return a
}
