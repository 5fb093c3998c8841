package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/wire"
)

// ClientPrefix is where the client endpoints are: the only ones a browser
// may call from another origin.
const ClientPrefix = "/v1/client"

// CORS answers: what a browser game may send and read.
const (
	corsAllowHeaders  = "authorization, content-type, if-match, if-none-match, leadr-client-nonce, x-request-id"
	corsExposeHeaders = "WWW-Authenticate, X-Request-ID, Location, ETag, Retry-After, RateLimit, RateLimit-Policy"
	// corsMaxAge is short, so that an origin removed from the configuration
	// stops working within minutes in browsers that cached its preflight.
	corsMaxAge = 600
)

// errOriginNotAllowed answers a preflight from an origin that is not
// configured: 403, so that its developer sees why in the network tab
// rather than a 405 that suggests a wrong method.
const errOriginNotAllowed = "Origin not allowed"

// parseOrigins normalises the configured origins as browsers write the
// Origin header (lower-case scheme and host, no default port) and refuses
// anything that is not one: a wildcard would let every site's scripts use
// a player's tokens.
func parseOrigins(origins []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, o := range origins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(u.Host, "*") ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("CORS: %q is not an origin (scheme://host[:port])", o)
		}
		host := strings.ToLower(u.Host)
		if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
			host = strings.ToLower(u.Hostname())
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		}
		out[strings.ToLower(u.Scheme)+"://"+host] = true
	}
	return out, nil
}

// clientRoute is one client endpoint's path, split, and its methods.
type clientRoute struct {
	segments []string
	methods  []string
}

// corsPolicy lets the configured origins call the client endpoints from
// browsers, and no other endpoint from anywhere. Its handler runs on every
// request (gin runs no group middleware on the 404 and 405 it answers, and
// a preflight is an OPTIONS that no route has) and acts only under
// ClientPrefix.
//
// An allowed origin gets Access-Control-Allow-Origin naming it, never "*",
// and no Access-Control-Allow-Credentials: the access token is a header the
// game sends, not a cookie the browser adds, so no other site can make a
// request carrying it. Its preflights of client endpoints are answered 204
// with the methods of that path. A preflight from any other origin is 403,
// without CORS headers; its other requests are served without them, so the
// browser withholds the answer from the page.
type corsPolicy struct {
	origins map[string]bool
	// routes are the client endpoints, set once they are all mounted and
	// before the first request.
	routes []clientRoute
}

func (p *corsPolicy) handle(c *gin.Context) {
	path := c.Request.URL.Path
	if path != ClientPrefix && !strings.HasPrefix(path, ClientPrefix+"/") {
		c.Next()
		return
	}
	h := c.Writer.Header()
	// The answer depends on Origin: a cache must not give one origin's
	// answer to another.
	h.Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	preflight := c.Request.Method == http.MethodOptions && origin != "" && c.GetHeader("Access-Control-Request-Method") != ""
	if !p.origins[origin] {
		if preflight {
			c.AbortWithStatusJSON(http.StatusForbidden, wire.Error{Detail: errOriginNotAllowed})
			return
		}
		c.Next()
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if !preflight {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		c.Next()
		return
	}
	methods := methodsOf(p.routes, path)
	if methods == nil {
		// No such endpoint: the 404 that follows keeps its CORS headers,
		// so the page can read it.
		c.Next()
		return
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
	c.AbortWithStatus(http.StatusNoContent)
}

// clientRoutes lists the client endpoints of a built engine.
func clientRoutes(r *gin.Engine) []clientRoute {
	index := map[string]int{}
	var out []clientRoute
	for _, ri := range r.Routes() {
		if !strings.HasPrefix(ri.Path, ClientPrefix+"/") {
			continue
		}
		i, ok := index[ri.Path]
		if !ok {
			i = len(out)
			index[ri.Path] = i
			out = append(out, clientRoute{segments: strings.Split(ri.Path, "/")})
		}
		out[i].methods = append(out[i].methods, ri.Method)
	}
	return out
}

// methodsOf returns the methods of the client endpoints whose template
// matches path, or nil.
func methodsOf(table []clientRoute, path string) []string {
	segs := strings.Split(path, "/")
	var methods []string
	for _, r := range table {
		if matchSegments(r.segments, segs) {
			methods = append(methods, r.methods...)
		}
	}
	slices.Sort(methods)
	return slices.Compact(methods)
}

func matchSegments(template, path []string) bool {
	for i, t := range template {
		if strings.HasPrefix(t, "*") {
			return true
		}
		if i >= len(path) || (!strings.HasPrefix(t, ":") && t != path[i]) || (strings.HasPrefix(t, ":") && path[i] == "") {
			return false
		}
	}
	return len(template) == len(path)
}
