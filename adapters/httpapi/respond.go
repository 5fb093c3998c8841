package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/ports/paging"
)

// writeOne answers one resource, or the error.
func writeOne[T, D any](c *gin.Context, status int, v T, err error, toWire func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, toWire(v))
}

// writePage answers a page of resources, or the error.
func writePage[T, D any](c *gin.Context, p paging.Page[T], err error, toWire func(T) D) {
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toPage(p, toWire))
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
