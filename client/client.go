// Package client is a typed Go client for the LEADR identity service's HTTP
// API. Errors are *Error values carrying the status and FastAPI's detail;
// lists come as pages, or as iterators that follow the cursors.
//
//	c := client.New("http://localhost:8080", client.WithAPIKey(key))
//	for id, err := range c.Identities(ctx, client.ListIdentitiesParams{Kind: "STEAM"}) {
//		…
//	}
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/leadr-oss/identity/wire"
)

// Client calls one service with one API key. It is safe for concurrent use.
type Client struct {
	base   string
	key    string
	http   *http.Client
	header http.Header
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key in the leadr-api-key header.
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithHeader adds a header to every request (X-Request-ID, for one).
func WithHeader(name, value string) Option {
	return func(c *Client) { c.header.Add(name, value) }
}

// New returns a client of the service at baseURL (scheme, host and port;
// "/v1" is added).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: http.DefaultClient, header: http.Header{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithAPIKey returns a copy of c that sends another key.
func (c *Client) WithAPIKey(key string) *Client {
	cp := *c
	cp.key = key
	cp.header = c.header.Clone()
	return &cp
}

// Error is an answer of the service other than 2xx.
type Error struct {
	Status int
	// Detail is the message of a non-422 error.
	Detail string
	// Problems are the entries of a 422 error.
	Problems []Problem
	// Body is the answer as received.
	Body []byte
}

// Problem is one entry of a validation error, in FastAPI's shape.
type Problem = wire.Problem

func (e *Error) Error() string {
	if len(e.Problems) > 0 {
		msgs := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			msgs[i] = fmt.Sprintf("%v: %s", p.Loc, p.Msg)
		}
		return fmt.Sprintf("leadr: %d: %s", e.Status, strings.Join(msgs, "; "))
	}
	return fmt.Sprintf("leadr: %d: %s", e.Status, e.Detail)
}

// StatusOf returns the status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Response is an answer as received, for callers that check the wire.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request with the client's key and headers and returns the
// answer whatever its status. body, when not nil, is sent as JSON (a string
// or []byte is sent as is). path starts with "/v1/".
func (c *Client) Do(ctx context.Context, method, path string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range c.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("leadr-api-key", c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: out}, nil
}

// call sends a request and decodes a 2xx answer into out, or returns the
// answer as an *Error.
func (c *Client) call(ctx context.Context, method, path string, body, out any) (int, error) {
	resp, err := c.Do(ctx, method, path, body)
	if err != nil {
		return 0, err
	}
	return resp.Status, decode(resp, method, path, out)
}

// decode decodes a 2xx answer into out (unless nil), or returns the answer
// as an *Error.
func decode(resp *Response, method, path string, out any) error {
	if resp.Status < 200 || resp.Status > 299 {
		return asError(resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("leadr: decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

func asError(resp *Response) error {
	e := &Error{Status: resp.Status, Body: resp.Body}
	var msg wire.Error
	if json.Unmarshal(resp.Body, &msg) == nil {
		e.Detail = msg.Detail
		return e
	}
	var invalid wire.Problems
	if json.Unmarshal(resp.Body, &invalid) == nil {
		e.Problems = invalid.Detail
	}
	return e
}

// query builds a query string from the non-empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
