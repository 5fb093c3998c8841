package paging

import "github.com/leadr-oss/identity/domain"

// Limits of a page's size.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Request is what a repository is asked for: up to Limit rows in Sort order,
// from the start or, when After is set, after (or, Backward, before) that
// position; Inclusive includes the row at the position itself.
type Request struct {
	Sort      Sort
	After     Position
	Backward  bool
	Inclusive bool
	Limit     int
}

// Result is a repository's answer: the rows in sort order, and whether more
// rows lie beyond them in the direction of travel.
type Result[T any] struct {
	Items []T
	More  bool
}

// Page is what a list endpoint returns. Next and Prev are cursors, set
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

// Plan turns params into a repository request for the given schema. filter
// is the canonical form of the request's filters; a cursor only continues a
// sequence with the same sort and filter.
func (c *Codec) Plan(schema *Schema, p Params, filter string) (Request, error) {
	sort := schema.defaultSort
	if p.Sort != nil {
		var err error
		if sort, err = schema.ParseSort(*p.Sort); err != nil {
			return Request{}, err
		}
	}
	limit := p.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Request{}, domain.BadRequest("limit must be between 1 and 100")
	}
	req := Request{Sort: sort, Limit: limit}
	if p.Cursor == "" {
		return req, nil
	}
	st, pos, err := c.decode(schema, p.Cursor)
	if err != nil {
		return Request{}, err
	}
	if st.Sort != sort.String() || st.Filter != filter {
		return Request{}, ErrCursorState
	}
	req.After, req.Backward, req.Inclusive = pos, st.Backward, st.Inclusive
	return req, nil
}

// Fetch reads one page with the repository function list. positionOf gives
// the sort-key values of an item for the request's sort.
func Fetch[T any](c *Codec, schema *Schema, req Request, filter string,
	list func(Request) (Result[T], error), positionOf func(T, Sort) Position,
) (Page[T], error) {
	res, err := list(req)
	if err != nil {
		return Page[T]{}, err
	}
	if req.Backward && len(res.Items) == 0 {
		// Nothing lies before the position any more (rows were deleted):
		// the previous page is the first page.
		first := Request{Sort: req.Sort, Limit: req.Limit}
		if res, err = list(first); err != nil {
			return Page[T]{}, err
		}
		req = first
	}
	page := Page[T]{Items: res.Items}
	switch {
	case req.After == nil:
		page.HasNext = res.More
	case req.Backward:
		page.HasPrev, page.HasNext = res.More, true
	default:
		page.HasNext, page.HasPrev = res.More, true
	}
	cursor := func(pos Position, backward, inclusive bool) string {
		return c.encode(schema, Request{Sort: req.Sort, After: pos, Backward: backward, Inclusive: inclusive}, filter)
	}
	n := len(res.Items)
	// A page with more rows ahead always has items: only a forward page past
	// the last row can be empty, and its way back starts at its own position.
	if page.HasNext {
		page.Next = cursor(positionOf(res.Items[n-1], req.Sort), false, false)
	}
	if page.HasPrev {
		if n > 0 {
			page.Prev = cursor(positionOf(res.Items[0], req.Sort), true, false)
		} else {
			page.Prev = cursor(req.After, true, true)
		}
	}
	return page, nil
}

// PositionOf builds the position of a row from a function that gives the
// row's value of each sort field.
func PositionOf(sort Sort, value func(field string) any) Position {
	pos := make(Position, len(sort))
	for i, k := range sort {
		pos[i] = value(k.Field)
	}
	return pos
}
