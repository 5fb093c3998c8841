package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

type adminHandlers struct {
	app ports.Tenancy
}

// writeOne answers one resource, or the error.
func writeOne[T, D any](c *gin.Context, status int, v T, err error, toDTO func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, toDTO(v))
}

// writePage answers a page of resources, or the error.
func writePage[T, D any](c *gin.Context, p paging.Page[T], err error, toDTO func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toPageDTO(p, toDTO))
}

// parsed reports whether the request's input had no problems, and answers
// 422 with all of them otherwise.
func parsed(c *gin.Context, ps *problems) bool {
	if err := ps.err(); err != nil {
		fail(c, err)
		return false
	}
	return true
}

func (h adminHandlers) createAccount(c *gin.Context) {
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
	writeOne(c, http.StatusCreated, a, err, toAccountDTO)
}

func (h adminHandlers) listAccounts(c *gin.Context) {
	var ps problems
	q := ports.ListAccounts{AccountID: queryID[id.Account](c, &ps, "account_id"), Page: pageParams(c, &ps)}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.ListAccounts(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toAccountDTO)
}

func (h adminHandlers) getAccount(c *gin.Context) {
	var ps problems
	accountID := pathID[id.Account](c, &ps, "account_id")
	if !parsed(c, &ps) {
		return
	}
	a, err := h.app.GetAccount(c.Request.Context(), principal(c), accountID)
	writeOne(c, http.StatusOK, a, err, toAccountDTO)
}

func (h adminHandlers) createUser(c *gin.Context) {
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
	writeOne(c, http.StatusCreated, u, err, toUserDTO)
}

func (h adminHandlers) listUsers(c *gin.Context) {
	var ps problems
	q := ports.ListUsers{AccountID: queryID[id.Account](c, &ps, "account_id"), Page: pageParams(c, &ps)}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.ListUsers(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toUserDTO)
}

func (h adminHandlers) getUser(c *gin.Context) {
	var ps problems
	userID := pathID[id.User](c, &ps, "user_id")
	if !parsed(c, &ps) {
		return
	}
	u, err := h.app.GetUser(c.Request.Context(), principal(c), userID)
	writeOne(c, http.StatusOK, u, err, toUserDTO)
}

func (h adminHandlers) createAPIKey(c *gin.Context) {
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
	c.JSON(http.StatusCreated, createdAPIKeyDTO{apiKeyDTO: toAPIKeyDTO(k), Key: plaintext})
}

func (h adminHandlers) listAPIKeys(c *gin.Context) {
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
	writePage(c, page, err, toAPIKeyDTO)
}

func (h adminHandlers) getAPIKey(c *gin.Context) {
	var ps problems
	keyID := pathID[id.APIKey](c, &ps, "key_id")
	if !parsed(c, &ps) {
		return
	}
	k, err := h.app.GetAPIKey(c.Request.Context(), principal(c), keyID)
	writeOne(c, http.StatusOK, k, err, toAPIKeyDTO)
}

func (h adminHandlers) updateAPIKey(c *gin.Context) {
	var ps problems
	cmd := ports.UpdateAPIKey{ID: pathID[id.APIKey](c, &ps, "key_id")}
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	cmd.Status = b.str("status", false)
	if !parsed(c, &ps) {
		return
	}
	k, err := h.app.UpdateAPIKey(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, k, err, toAPIKeyDTO)
}
