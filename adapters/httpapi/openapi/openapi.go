// Package openapi holds the OpenAPI 3.1 document of the HTTP API. It is
// written by hand next to the handlers; tests keep the two in step: every
// route is documented and every documented route exists, and every answer
// the acceptance suite receives validates against it.
package openapi

import _ "embed"

// Document is the OpenAPI document, as JSON.
//
//go:embed openapi.json
var Document []byte
