package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// MaxClientBodyBytes is the largest body a client endpoint accepts; larger
// ones get 413. The largest a game client has reason to send, a sign-in
// with a Steam ticket of 4,096 characters, takes under 5 KiB; and sign-in
// and refresh read their bodies before anything tells who sent them.
const MaxClientBodyBytes = 16 << 10

// BodyBudgetBytes is how many bytes of request bodies the whole process
// holds at once, read or about to be; a request whose body would take more
// gets 503 before any of it is read. A body costs under twice its size
// until its request is answered (its bytes, where each member starts, and
// the fields a handler decodes; a 422 decodes only what it echoes), so the
// budget bounds the memory that bodies take, whoever sends them.
// Legitimate traffic stays far below it: the service's bodies take a few
// hundred bytes, so it is some 50,000 of them in flight at once, more than
// any database pool answers in a request's deadline; only bodies near the
// caps add up to it, 16 at MaxBodyBytes or 1,024 at MaxClientBodyBytes.
const BodyBudgetBytes = 16 << 20

// errBodyBudget answers 503, as a fault of the database does: it passes as
// soon as the requests in flight are answered.
var errBodyBudget = fmt.Errorf("the request bodies in flight are over their budget of %d bytes: %w", BodyBudgetBytes, errUnavailable)

// bodyCap is the largest body the request's route accepts.
func bodyCap(c *gin.Context) int64 {
	if strings.HasPrefix(c.FullPath(), ClientPrefix+"/") {
		return MaxClientBodyBytes
	}
	return MaxBodyBytes
}

// bodyBudget counts the bytes of the bodies in flight against a limit.
type bodyBudget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or nothing and reports false if they would pass
// the limit: a request over budget is answered at once rather than queued
// behind the bodies that fill it.
func (b *bodyBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// meteredBody takes from the budget the bytes read of a body beyond those
// taken for it already (its declared length).
type meteredBody struct {
	io.ReadCloser
	budget     *bodyBudget
	held, read int64
}

func (m *meteredBody) Read(p []byte) (int, error) {
	n, err := m.ReadCloser.Read(p)
	m.read += int64(n)
	if more := m.read - m.held; more > 0 {
		if !m.budget.take(more) {
			return 0, errBodyBudget
		}
		m.held += more
	}
	return n, err
}

// limitBody answers 413 to a body declared larger than its route's cap,
// and 503 to one that would take the bodies in flight past the budget,
// before any of it is read; a body of undeclared length takes the budget
// as it is read (readBody stops it at the cap). Whatever happens to the
// request (an answer, a panic, a client gone), what it took is given back
// when it is over.
func limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodGet {
			c.Next()
			return
		}
		if c.Request.ContentLength > bodyCap(c) {
			fail(c, errTooLarge)
			c.Abort()
			return
		}
		budget := requestRuntime(c).bodies
		declared := max(c.Request.ContentLength, 0)
		if !budget.take(declared) {
			fail(c, errBodyBudget)
			c.Abort()
			return
		}
		body := &meteredBody{ReadCloser: c.Request.Body, budget: budget, held: declared}
		defer func() { budget.give(body.held) }()
		c.Request.Body = body
		c.Next()
	}
}
