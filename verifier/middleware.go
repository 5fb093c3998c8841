package verifier

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// Middleware lets through to next only the requests that carry a valid
// access token (Authorization: Bearer …), whose claims ClaimsFrom then
// reads from the request's context. It answers the others as the identity
// service answers its own client endpoints: 401 {"detail":"Access token
// required"} without a bearer token, 401 {"detail":"Invalid or expired
// access token"} for a refused one (both with WWW-Authenticate: Bearer),
// and 503 when the signing keys cannot be fetched.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme's name is case-insensitive (RFC 9110, section 11.1).
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeDetail(w, http.StatusUnauthorized, "Access token required")
			return
		}
		claims, err := v.Verify(r.Context(), token)
		switch {
		case errors.Is(err, ErrUnavailable):
			w.Header().Set("Retry-After", "10")
			writeDetail(w, http.StatusServiceUnavailable, "Service temporarily unavailable")
		case err != nil:
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeDetail(w, http.StatusUnauthorized, "Invalid or expired access token")
		default:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		}
	})
}

// ClaimsFrom is the claims Middleware verified for the request of ctx.
func ClaimsFrom(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// The details are constants that need no escaping.
	_, _ = w.Write([]byte(`{"detail":"` + detail + `"}`))
}
