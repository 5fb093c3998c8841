package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strconv"

	"github.com/leadr-oss/identity/wire"
)

// The bodies every list and the health check share (see package wire).
type (
	Page[T any] = wire.Page[T]
	Pagination  = wire.Pagination
	Health      = wire.Health
)

// walk yields every item of the pages from the one at cursor onwards.
func walk[T any](list func(cursor string) (Page[T], error), cursor string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			page, err := list(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !page.Pagination.HasNext || page.Pagination.NextCursor == nil {
				return
			}
			cursor = *page.Pagination.NextCursor
		}
	}
}

func limit(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Health asks whether the service and its database answer. A 503 is an
// *Error; the body is still decoded into Health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	resp, err := c.Do(ctx, http.MethodGet, "/v1/health", nil)
	if err != nil {
		return h, err
	}
	_ = json.Unmarshal(resp.Body, &h)
	if resp.Status != http.StatusOK {
		return h, asError(resp)
	}
	return h, nil
}
