package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strconv"
)

// Page is one page of a list.
type Page[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

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
