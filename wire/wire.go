// Package wire holds the JSON bodies of the identity service's HTTP API:
// what the server reads and writes (adapters/httpapi), what the Go client
// sends and receives (package client), and what the OpenAPI document
// describes, its schemas being generated from these types.
//
// It is data only, so that both sides can import it without taking the
// other's code: no HTTP, no validation, no client logic. A field without
// omitempty is required (see adapters/httpapi/openapi); struct tags other
// than json (description, pattern, enum, minLength, …) say in the document
// what Go types cannot. What only the client needs, such as the ETag it
// keeps beside an identity, stays in package client.
package wire

// Page is one page of a list.
type Page[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// Pagination says where a page stands in its list: the cursors of the
// pages around it, null at either end.
type Pagination struct {
	NextCursor *string `json:"next_cursor"`
	PrevCursor *string `json:"prev_cursor"`
	HasNext    bool    `json:"has_next"`
	HasPrev    bool    `json:"has_prev"`
	Count      int     `json:"count" minimum:"0" maximum:"100" description:"The number of items in this page."`
}

// Health is the answer of GET /v1/health.
type Health struct {
	Service  string `json:"service"`
	Status   string `json:"status"`
	Database string `json:"database"`
}

// Error is the body of every error answer but 422, as FastAPI writes it:
// {"detail": "…"}. A 500 adds the request ID that finds it in the logs.
type Error struct {
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// Problems is the body of a 422: every problem of the request at once.
type Problems struct {
	Detail []Problem `json:"detail"`
}

// Problem is one entry of a 422, in FastAPI's (pydantic's) shape: where
// the input was (loc: "body", "query" or "path", then the field), what is
// wrong with it, and the input itself.
type Problem struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}
