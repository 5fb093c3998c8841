package httpapi

import (
	"time"

	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/wire"
)

// Bodies are the wire types (package wire): one definition for what the
// server reads and writes, what the client sends and reads, and what the
// OpenAPI document describes (its schemas are generated from them). Domain
// types are never serialised directly; each aggregate's file maps them.

// wireTime is a timestamp as the API writes it: UTC, to the microsecond
// (encoding/json then trims trailing zeros, as the contract allows).
func wireTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func optionalWireTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	w := wireTime(t)
	return &w
}

func toPage[T, W any](p paging.Page[T], toWire func(T) W) wire.Page[W] {
	data := make([]W, len(p.Items))
	for i, item := range p.Items {
		data[i] = toWire(item)
	}
	page := wire.Page[W]{Data: data, Pagination: wire.Pagination{HasNext: p.HasNext, HasPrev: p.HasPrev, Count: len(data)}}
	if p.Next != "" {
		page.Pagination.NextCursor = &p.Next
	}
	if p.Prev != "" {
		page.Pagination.PrevCursor = &p.Prev
	}
	return page
}
