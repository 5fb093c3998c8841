package cursor

import (
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/ports/paging"
)

// Plan turns params into a repository request for spec. A cursor only
// continues a sequence with the same sort and filter.
func (c *Codec) Plan(spec *paging.Spec, p paging.Params, filter string) (paging.Request, error) {
	sort := spec.DefaultSort()
	if p.Sort != nil {
		var err error
		if sort, err = spec.ParseSort(*p.Sort); err != nil {
			return paging.Request{}, err
		}
	}
	limit := p.Limit
	if limit == 0 {
		limit = paging.DefaultLimit
	}
	if limit < 1 || limit > paging.MaxLimit {
		return paging.Request{}, domain.BadRequest("limit must be between 1 and 100")
	}
	req := paging.Request{Sort: sort, Limit: limit}
	if p.Cursor == "" {
		return req, nil
	}
	st, pos, err := c.decode(spec, p.Cursor)
	if err != nil {
		return paging.Request{}, err
	}
	if st.Sort != sort.String() || st.Filter != filter {
		return paging.Request{}, ErrCursorState
	}
	req.After, req.Backward, req.Inclusive, req.Within = pos, st.Backward, st.Inclusive, st.Within
	return req, nil
}

// List reads the page that params ask for with the repository function
// fetch: it plans the request, fetches, and sets the cursors of the page.
// filter is the canonical form of the request's filters.
func List[T any](c paging.Cursors, schema *paging.Schema[T], params paging.Params, filter string,
	fetch func(paging.Request) (paging.Result[T], error),
) (paging.Page[T], error) {
	req, err := c.Plan(schema.Spec, params, filter)
	if err != nil {
		return paging.Page[T]{}, err
	}
	res, err := fetch(req)
	if err != nil {
		return paging.Page[T]{}, err
	}
	if req.Backward && len(res.Items) == 0 {
		// Nothing lies before the position any more (rows were deleted):
		// the previous page is the first page.
		first := paging.Request{Sort: req.Sort, Limit: req.Limit}
		if res, err = fetch(first); err != nil {
			return paging.Page[T]{}, err
		}
		req = first
	}
	page := paging.Page[T]{Items: res.Items}
	switch {
	case req.After == nil:
		page.HasNext = res.More
	case req.Backward:
		page.HasPrev, page.HasNext = res.More, true
	default:
		page.HasNext, page.HasPrev = res.More, true
	}
	cursor := func(r paging.Request) string {
		r.Sort = req.Sort
		return c.Cursor(schema.Spec, r, filter)
	}
	n := len(res.Items)
	// A page with more rows ahead always has items: only a forward page past
	// the last row can be empty, and its way back starts at its own position.
	if page.HasNext {
		last := schema.Position(res.Items[n-1], req.Sort)
		next := paging.Request{After: last}
		if res.More && !req.Backward {
			next.Within = within(schema.Spec, req.Sort, last, schema.Position(res.Peek, req.Sort))
		}
		page.Next = cursor(next)
	}
	if page.HasPrev {
		if n > 0 {
			page.Prev = cursor(paging.Request{After: schema.Position(res.Items[0], req.Sort), Backward: true})
		} else {
			page.Prev = cursor(paging.Request{After: req.After, Backward: true, Inclusive: true})
		}
	}
	return page, nil
}

// within is the hint a next cursor carries (paging.Request.Within): the row
// after the page tells how far the next page's rows can tie its last one,
// usually not at all, which spares the next page's query its ranges of ties.
// The hint holds for the rows as they were read, so it is only given when
// the key the two rows differ on is a time, which the service sets to the
// present and no row takes again: an identity renamed to the last row's
// name after the page was read must still be found.
func within(spec *paging.Spec, sort paging.Sort, last, peek paging.Position) int {
	w := paging.Within(last, peek)
	if w == 0 || spec.Type(sort[w-1].Field) != paging.Time {
		return 0
	}
	return w
}
