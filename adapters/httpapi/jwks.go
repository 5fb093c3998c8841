package httpapi

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed jwks.openapi.json
var jwksOpenAPI []byte

var jwksFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(jwksOpenAPI, map[string]any{"JWKS": wire.JWKS{}})
})

// jwksCacheControl lets verifiers and the caches on their way keep the keys
// for signingkey.JWKSMaxAge: a new key is published signingkey.Lead before
// it signs, so every copy has it by then.
var jwksCacheControl = "public, max-age=" + strconv.Itoa(int(signingkey.JWKSMaxAge.Seconds()))

// JWKSRoutes serve the published signing keys, to anyone: other services
// verify access tokens with them.
func JWKSRoutes(keys ports.SigningKeyAdmin) Routes {
	h := &jwksHandler{keys: keys}
	return Routes{OpenAPI: jwksFragment(), MountPublic: func(r gin.IRoutes) {
		r.GET("/.well-known/jwks.json", h.serve)
	}}
}

type jwksHandler struct {
	keys ports.SigningKeyAdmin
	// last is the body last encoded and the keys it holds: the keys change
	// a few times a month, the JWKS is asked for often.
	last atomic.Pointer[encodedJWKS]
}

type encodedJWKS struct {
	kids []string
	body []byte
}

func (h *jwksHandler) serve(c *gin.Context) {
	c.Header("Cache-Control", jwksCacheControl)
	// Public keys, for verifiers in browsers too.
	c.Header("Access-Control-Allow-Origin", "*")
	c.Data(http.StatusOK, "application/json; charset=utf-8", h.body())
}

func (h *jwksHandler) body() []byte {
	published := h.keys.Published()
	kids := make([]string, len(published))
	for i, k := range published {
		kids[i] = k.ID.String()
	}
	if last := h.last.Load(); last != nil && slices.Equal(last.kids, kids) {
		return last.body
	}
	set := wire.JWKS{Keys: make([]wire.JWK, 0, len(published))}
	for _, k := range published {
		point, err := k.Public.Bytes()
		if err != nil {
			continue // only P-256 keys are ever loaded
		}
		set.Keys = append(set.Keys, wire.JWK{Kty: "EC", Crv: "P-256", Kid: k.ID.String(), Use: "sig", Alg: "ES256",
			X: base64.RawURLEncoding.EncodeToString(point[1:33]), Y: base64.RawURLEncoding.EncodeToString(point[33:65])})
	}
	body, _ := json.Marshal(set)
	h.last.Store(&encodedJWKS{kids: kids, body: body})
	return body
}
