package httpapi

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/wire"
)

// writeOne answers one resource, or the error.
func writeOne[T, D any](c *gin.Context, status int, v T, err error, toWire func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	enc, ok := encoderOf[D]()
	writeJSON(c, status, toWire(v), enc, ok)
}

// writePage answers a page of resources, or the error.
func writePage[T, D any](c *gin.Context, p paging.Page[T], err error, toWire func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	page := toPage(p, toWire)
	if enc, ok := encoderOf[D](); ok {
		writeJSON(c, http.StatusOK, page, func(b []byte, p wire.Page[D]) []byte { return appendPage(b, p, enc) }, true)
		return
	}
	c.JSON(http.StatusOK, page)
}

// jsonBuffers hold answers while they are written; most fit in 16 KiB.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// writeJSON answers v, with enc when there is one.
func writeJSON[W any](c *gin.Context, status int, v W, enc func([]byte, W) []byte, ok bool) {
	if !ok {
		c.JSON(status, v)
		return
	}
	buf := jsonBuffers.Get().(*[]byte)
	*buf = enc((*buf)[:0], v)
	c.Data(status, "application/json; charset=utf-8", *buf)
	jsonBuffers.Put(buf)
}

// parsed reports whether the request's input had no problems, and answers
// 422 with all of them otherwise.
func parsed(c *gin.Context, ps *problems) bool {
	if err := ps.err(); err != nil {
		fail(c, err)
		return false
	}
	return true
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
