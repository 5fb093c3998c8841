package httpapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
)

// pageParams reads cursor, limit and sort. limit is an integer from 1 to
// 100.
func pageParams(c *gin.Context, ps *problems) paging.Params {
	p := paging.Params{Limit: limitParam(c, ps, paging.MaxLimit)}
	p.Cursor, _ = query(c, "cursor")
	if s, ok := query(c, "sort"); ok {
		p.Sort = &s
	}
	return p
}

// limitParam reads limit, an integer from 1 to most; 0 when it is not
// given or not valid. Its problems are reported in pydantic's words.
func limitParam(c *gin.Context, ps *problems, most int) int {
	s, ok := query(c, "limit")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) { // an integer all the same, just far out of bounds
		n, err = 1<<31, nil
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			n = -1
		}
	}
	switch {
	case err != nil:
		ps.add("query", "limit", "int_parsing", "Input should be a valid integer, unable to parse string as an integer", s, nil)
	case n < 1:
		ps.add("query", "limit", "greater_than_equal", "Input should be greater than or equal to 1", s, map[string]any{"ge": 1})
	case n > most:
		ps.add("query", "limit", "less_than_equal", "Input should be less than or equal to "+strconv.Itoa(most), s, map[string]any{"le": most})
	default:
		return n
	}
	return 0
}

// queryID reads an optional prefixed ID from the query string.
func queryID[E id.Entity](c *gin.Context, ps *problems, name string) id.ID[E] {
	s, ok := query(c, name)
	if !ok {
		return id.ID[E]{}
	}
	v, err := id.Parse[E](s)
	if err != nil {
		ps.addDomain("query", name, err)
	}
	return v
}

// pathID reads a prefixed ID from the path.
func pathID[E id.Entity](c *gin.Context, ps *problems, name string) id.ID[E] {
	v, err := id.Parse[E](c.Param(name))
	if err != nil {
		ps.addDomain("path", name, err)
	}
	return v
}

// query returns the last value of a query parameter, as FastAPI does.
func query(c *gin.Context, name string) (string, bool) {
	vs, ok := c.GetQueryArray(name)
	if !ok {
		return "", false
	}
	return vs[len(vs)-1], true
}
