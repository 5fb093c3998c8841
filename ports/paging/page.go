package paging

// Limits of a page's size.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Position is where a page starts or ends: the value of each sort key of one
// row, in sort order. Values are string, nil (a NULL), time.Time or id.UUID.
type Position []any

// Request is what a repository is asked for: up to Limit rows in Sort order,
// from the start or, when After is set, after (or, Backward, before) that
// position; Inclusive includes the row at the position itself.
type Request struct {
	Sort      Sort
	After     Position
	Backward  bool
	Inclusive bool
	Limit     int
	// Within, when positive, says that the rows after the position differ
	// from it within their first Within sort keys: the page that ended
	// there saw the next row do so. The rows that would share more keys with
	// it (ties of its leading keys) need no look then. Zero: nothing known.
	Within int
}

// Result is a repository's answer: the rows in sort order, and whether more
// rows lie beyond them in the direction of travel. A forward page with more
// has Peek, the first row beyond its items.
type Result[T any] struct {
	Items []T
	More  bool
	Peek  T
}

// Page is what a list use case returns. Next and Prev are cursors, set
// exactly when HasNext and HasPrev are.
type Page[T any] struct {
	Items   []T
	Next    string
	Prev    string
	HasNext bool
	HasPrev bool
}

// Params are a list request's raw paging inputs.
type Params struct {
	Cursor string
	Limit  int
	// Sort is the raw sort spec; nil means none was given.
	Sort *string
}

// Cursors turns the opaque cursors of list requests into repository
// requests and back. A cursor continues only the sequence it came from:
// the same resource, sort and filter (filter is the canonical form of a
// request's filters).
type Cursors interface {
	Plan(spec *Spec, p Params, filter string) (Request, error)
	// Cursor is the token of a request that resumes at req's position.
	Cursor(spec *Spec, req Request, filter string) string
}
