package wire

// JWKS is the published signing keys, a JSON Web Key Set (RFC 7517): their
// public parts only.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one public P-256 key that verifies ES256 tokens (RFC 7518 6.2.1):
// x and y are the point's coordinates, base64url, 32 bytes each.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
}
