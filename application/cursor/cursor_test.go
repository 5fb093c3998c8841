package cursor_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/paging/pagingtest"
)

type widget = pagingtest.Widget

var (
	widgets    = pagingtest.Widgets
	newSchema  = pagingtest.NewSchema
	badRequest = pagingtest.BadRequest
)

func positionOf(w widget, sort paging.Sort) paging.Position { return widgets.Position(w, sort) }

func str(s string) *string { return &s }

// table is an in-memory list of widgets behind cursor.List.
type table struct {
	rows []widget
}

func (tb *table) list(req paging.Request) (paging.Result[widget], error) {
	return apptest.Page(slices.Clone(tb.rows), req, widgets), nil
}

func (tb *table) delete(keep func(widget) bool) {
	tb.rows = slices.DeleteFunc(tb.rows, func(w widget) bool { return !keep(w) })
}

// fixture returns n widgets with clashing names (and NULLs), labels and
// creation times, so that every sort needs its tie-breakers.
func fixture(n int) []widget {
	names := []*string{str("Zoë"), nil, str("alice"), str("Alice"), str("é"), nil, str("bob"), str("alice")}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]widget, n)
	for i := range rows {
		rows[i] = widget{
			ID:      id.New[id.Game](),
			Name:    names[i%len(names)],
			Label:   []string{"x", "y", "z"}[i%3],
			Created: base.Add(time.Duration(i%5)*time.Second + time.Duration(i)*time.Nanosecond),
		}
	}
	return rows
}

func page(t *testing.T, c *cursor.Codec, tb *table, p paging.Params, filter string) paging.Page[widget] {
	t.Helper()
	pg, err := cursor.List(c, widgets, p, filter, tb.list)
	if err != nil {
		t.Fatalf("List(%+v): %v", p, err)
	}
	checkCursorsMatchFlags(t, pg)
	return pg
}

func checkCursorsMatchFlags(t *testing.T, pg paging.Page[widget]) {
	t.Helper()
	if (pg.Next != "") != pg.HasNext {
		t.Errorf("HasNext = %v but Next = %q", pg.HasNext, pg.Next)
	}
	if (pg.Prev != "") != pg.HasPrev {
		t.Errorf("HasPrev = %v but Prev = %q", pg.HasPrev, pg.Prev)
	}
}

func TestWalkForwardAndBack(t *testing.T) {
	t.Parallel()
	rows := fixture(23)
	sorts := []*string{nil, str("name:asc"), str("name:desc"), str("label:asc,created_at:desc"), str("id:desc"), str("created_at:asc,name:desc")}
	for _, sortSpec := range sorts {
		for _, limit := range []int{1, 4, 7, 23, 100} {
			label := "default"
			if sortSpec != nil {
				label = *sortSpec
			}
			t.Run(fmt.Sprintf("%s/limit=%d", label, limit), func(t *testing.T) {
				t.Parallel()
				c := cursor.NewCodec([]byte("secret"))
				tb := &table{rows: rows}
				sort := widgets.DefaultSort()
				if sortSpec != nil {
					var err error
					if sort, err = widgets.ParseSort(*sortSpec); err != nil {
						t.Fatal(err)
					}
				}
				want := slices.Clone(rows)
				slices.SortFunc(want, func(a, b widget) int { return sort.Compare(positionOf(a, sort), positionOf(b, sort)) })

				// Forward from the first page to the end.
				var pages [][]widget
				var got []widget
				pg := page(t, c, tb, paging.Params{Limit: limit, Sort: sortSpec}, "f")
				if pg.HasPrev {
					t.Error("first page has HasPrev")
				}
				for {
					if len(pg.Items) == 0 || len(pg.Items) > limit {
						t.Fatalf("page of %d items with limit %d", len(pg.Items), limit)
					}
					pages = append(pages, pg.Items)
					got = append(got, pg.Items...)
					if len(pages) > 1 && !pg.HasPrev {
						t.Errorf("page %d has no HasPrev", len(pages))
					}
					if !pg.HasNext {
						break
					}
					if len(pages) > len(rows) {
						t.Fatalf("more than %d pages: the walk does not end", len(rows))
					}
					if len(pg.Items) != limit {
						t.Errorf("page %d has %d items but HasNext", len(pages), len(pg.Items))
					}
					pg = page(t, c, tb, paging.Params{Cursor: pg.Next, Limit: limit, Sort: sortSpec}, "f")
				}
				if !slices.EqualFunc(got, want, func(a, b widget) bool { return a.ID == b.ID }) {
					t.Fatalf("forward walk visited\n%v\nwant\n%v", got, want)
				}

				// Back from the last page to the first, each page in sort order.
				for i := len(pages) - 2; i >= 0; i-- {
					pg = page(t, c, tb, paging.Params{Cursor: pg.Prev, Limit: limit, Sort: sortSpec}, "f")
					if !slices.EqualFunc(pg.Items, pages[i], func(a, b widget) bool { return a.ID == b.ID }) {
						t.Fatalf("backward page %d = %v, want %v", i, pg.Items, pages[i])
					}
					if pg.HasPrev != (i > 0) {
						t.Errorf("backward page %d: HasPrev = %v", i, pg.HasPrev)
					}
					if !pg.HasNext {
						t.Errorf("backward page %d: HasNext = false", i)
					}
				}
			})
		}
	}
}

func TestFetchFlags(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	for _, tt := range []struct {
		rows, limit int
		hasNext     bool
	}{
		{0, 5, false},
		{4, 5, false},
		{5, 5, false},
		{6, 5, true},
	} {
		t.Run(fmt.Sprintf("%d rows, limit %d", tt.rows, tt.limit), func(t *testing.T) {
			t.Parallel()
			pg := page(t, c, &table{rows: fixture(tt.rows)}, paging.Params{Limit: tt.limit}, "")
			if pg.HasPrev || pg.Prev != "" {
				t.Errorf("first page: HasPrev = %v, Prev = %q", pg.HasPrev, pg.Prev)
			}
			if pg.HasNext != tt.hasNext {
				t.Errorf("HasNext = %v, want %v", pg.HasNext, tt.hasNext)
			}
			if want := min(tt.rows, tt.limit); len(pg.Items) != want {
				t.Errorf("%d items, want %d", len(pg.Items), want)
			}
		})
	}
}

func TestDefaultLimit(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	req, err := c.Plan(widgets.Spec, paging.Params{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if req.Limit != 20 {
		t.Errorf("limit = %d, want 20", req.Limit)
	}
	if req.Sort.String() != "created_at:desc,id:asc" || req.After != nil || req.Backward {
		t.Errorf("first request = %+v", req)
	}
	for _, bad := range []int{-1, 101} {
		if _, err := c.Plan(widgets.Spec, paging.Params{Limit: bad}, ""); domain.CategoryOf(err) != domain.CategoryBadRequest {
			t.Errorf("limit %d: err = %v, want a bad request", bad, err)
		}
	}
	if req, err := c.Plan(widgets.Spec, paging.Params{Limit: 100}, ""); err != nil || req.Limit != 100 {
		t.Errorf("limit 100: %+v, %v", req, err)
	}
}

func TestBackwardPageThatFindsNothingFallsBackToFirstPage(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	sort := str("label:asc,created_at:asc")
	tb := &table{rows: fixture(10)}
	first := page(t, c, tb, paging.Params{Limit: 3, Sort: sort}, "")
	second := page(t, c, tb, paging.Params{Cursor: first.Next, Limit: 3, Sort: sort}, "")
	if !second.HasPrev {
		t.Fatal("second page has no way back")
	}
	// Everything before the second page goes away.
	gone := map[id.GameID]bool{}
	for _, w := range first.Items {
		gone[w.ID] = true
	}
	tb.delete(func(w widget) bool { return !gone[w.ID] })

	back := page(t, c, tb, paging.Params{Cursor: second.Prev, Limit: 3, Sort: sort}, "")
	fresh := page(t, c, tb, paging.Params{Limit: 3, Sort: sort}, "")
	if !slices.EqualFunc(back.Items, fresh.Items, func(a, b widget) bool { return a.ID == b.ID }) || len(back.Items) != 3 {
		t.Fatalf("going back gave %v, want the first page %v", back.Items, fresh.Items)
	}
	if back.HasPrev || back.Prev != "" {
		t.Errorf("fallback page: HasPrev = %v, Prev = %q; want the first page's false", back.HasPrev, back.Prev)
	}
	if !back.HasNext || back.Next != fresh.Next {
		t.Errorf("fallback page: HasNext = %v, Next = %q; want %q", back.HasNext, back.Next, fresh.Next)
	}
}

func TestForwardPagePastTheEndLeadsBack(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	sort := str("created_at:asc")
	tb := &table{rows: fixture(8)}
	first := page(t, c, tb, paging.Params{Limit: 3, Sort: sort}, "")
	kept := map[id.GameID]bool{}
	for _, w := range first.Items {
		kept[w.ID] = true
	}
	tb.delete(func(w widget) bool { return kept[w.ID] })

	empty := page(t, c, tb, paging.Params{Cursor: first.Next, Limit: 3, Sort: sort}, "")
	if len(empty.Items) != 0 || empty.HasNext {
		t.Fatalf("page past the end: %d items, HasNext = %v", len(empty.Items), empty.HasNext)
	}
	if !empty.HasPrev {
		t.Fatal("empty page past the end has no way back")
	}
	back := page(t, c, tb, paging.Params{Cursor: empty.Prev, Limit: 3, Sort: sort}, "")
	if !slices.EqualFunc(back.Items, first.Items, func(a, b widget) bool { return a.ID == b.ID }) {
		t.Errorf("way back gave %v, want %v", back.Items, first.Items)
	}
	if back.HasPrev {
		t.Error("way back reached the first rows but HasPrev = true")
	}
}

// nextCursor is a cursor in the middle of a "widgets" sequence with the
// given sort and filter.
func nextCursor(t *testing.T, c *cursor.Codec, schema *paging.Schema[widget], sort *string, filter string) string {
	t.Helper()
	tb := &table{rows: fixture(6)}
	pg, err := cursor.List(c, schema, paging.Params{Limit: 2, Sort: sort}, filter, tb.list)
	if err != nil || pg.Next == "" {
		t.Fatalf("no next cursor: %v", err)
	}
	return pg.Next
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	tb := &table{rows: fixture(6)}
	sort := str("name:desc,created_at:asc")
	first := page(t, c, tb, paging.Params{Limit: 2, Sort: sort}, "game=1")
	for _, ch := range first.Next {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", ch) {
			t.Fatalf("cursor %q is not url-safe (%q)", first.Next, ch)
		}
	}
	req, err := c.Plan(widgets.Spec, paging.Params{Cursor: first.Next, Limit: 2, Sort: sort}, "game=1")
	if err != nil {
		t.Fatal(err)
	}
	last := first.Items[len(first.Items)-1]
	wantSort, _ := widgets.ParseSort(*sort)
	if req.Backward || req.Inclusive || req.Sort.String() != wantSort.String() || req.Limit != 2 {
		t.Errorf("request = %+v", req)
	}
	if wantSort.Compare(req.After, positionOf(last, wantSort)) != 0 {
		t.Errorf("cursor position %v, want the last row's %v", req.After, positionOf(last, wantSort))
	}

	// A second codec with the same secret (another replica) reads it too.
	if _, err := cursor.NewCodec([]byte("secret")).Plan(widgets.Spec, paging.Params{Cursor: first.Next, Limit: 2, Sort: sort}, "game=1"); err != nil {
		t.Errorf("another replica refused the cursor: %v", err)
	}
}

func TestCursorLimitMayChange(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	cur := nextCursor(t, c, widgets, nil, "f")
	for _, limit := range []int{0, 1, 50, 100} {
		req, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur, Limit: limit}, "f")
		if err != nil {
			t.Errorf("limit %d: %v", limit, err)
			continue
		}
		if req.After == nil {
			t.Errorf("limit %d: cursor position lost", limit)
		}
	}
}

func TestCursorWithSameSortSpelledOtherwise(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	cur := nextCursor(t, c, widgets, nil, "f")
	for _, spelled := range []string{"created_at:desc", "created_at:DESC,id:asc", " created_at:desc , id:ASC"} {
		if _, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur, Sort: str(spelled)}, "f"); err != nil {
			t.Errorf("sort %q (the default) refused the cursor: %v", spelled, err)
		}
	}
}

func TestCursorStateMismatch(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	cur := nextCursor(t, c, widgets, str("name:asc"), "account=a;kind=")
	tests := []struct {
		name   string
		sort   *string
		filter string
	}{
		{"default sort", nil, "account=a;kind="},
		{"other direction", str("name:desc"), "account=a;kind="},
		{"other field", str("label:asc"), "account=a;kind="},
		{"tie-breaker reversed", str("name:asc,id:desc"), "account=a;kind="},
		{"other filter", str("name:asc"), "account=b;kind="},
		{"filter added", str("name:asc"), "account=a;kind=STEAM"},
		{"no filter", str("name:asc"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur, Sort: tt.sort}, tt.filter)
			if !errors.Is(err, cursor.ErrCursorState) {
				t.Fatalf("err = %v, want ErrCursorState", err)
			}
			if msg := badRequest(t, err); msg != "Query parameters don't match cursor state. Start a new pagination sequence." {
				t.Errorf("message = %q", msg)
			}
		})
	}
	// The matching request is accepted.
	if _, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur, Sort: str("name:asc")}, "account=a;kind="); err != nil {
		t.Errorf("matching request: %v", err)
	}
}

func TestInvalidCursors(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	cur := nextCursor(t, c, widgets, nil, "")
	random := make([]byte, 96)
	_, _ = rand.Read(random)
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	if err != nil {
		t.Fatal(err)
	}
	payloadOnly := base64.RawURLEncoding.EncodeToString(raw[:len(raw)-16])

	tests := []struct {
		name   string
		cursor string
	}{
		{"truncated by one", cur[:len(cur)-1]},
		{"truncated by four", cur[:len(cur)-4]},
		{"truncated to a prefix", cur[:12]},
		{"one character", "A"},
		{"random base64", base64.RawURLEncoding.EncodeToString(random)},
		{"short random base64", base64.RawURLEncoding.EncodeToString(random[:16])},
		{"not base64", "!!!not-a-cursor!!!"},
		{"std base64 padding", cur + "=="},
		{"payload without signature", payloadOnly},
		{"json", `{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[]}`},
		{"another secret", nextCursor(t, cursor.NewCodec([]byte("other secret")), widgets, nil, "")},
		{"another resource", nextCursor(t, c, newSchema("gadgets"), nil, "")},
	}
	// Every single-character change: the character's six bits are changed
	// in the high bit, which always carries data.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range cur {
		v := strings.IndexByte(alphabet, cur[i])
		flipped := cur[:i] + string(alphabet[v^32]) + cur[i+1:]
		tests = append(tests, struct{ name, cursor string }{fmt.Sprintf("flipped at %d", i), flipped})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Plan(widgets.Spec, paging.Params{Cursor: tt.cursor}, "")
			if !errors.Is(err, cursor.ErrInvalidCursor) {
				t.Fatalf("Plan with cursor %q: err = %v, want ErrInvalidCursor", tt.cursor, err)
			}
			if msg := badRequest(t, err); msg != "Invalid pagination cursor" {
				t.Errorf("message = %q", msg)
			}
		})
	}
	// The untouched cursor is fine: the failures above are the changes'.
	if _, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur}, ""); err != nil {
		t.Fatalf("untouched cursor: %v", err)
	}
}

func TestInvalidCursorBeatsStateMismatch(t *testing.T) {
	t.Parallel()
	// A cursor of another resource is foreign even when sort and filter
	// happen to agree.
	c := cursor.NewCodec([]byte("secret"))
	cur := nextCursor(t, c, newSchema("gadgets"), str("name:asc"), "x")
	if _, err := c.Plan(widgets.Spec, paging.Params{Cursor: cur, Sort: str("label:asc")}, "y"); !errors.Is(err, cursor.ErrInvalidCursor) {
		t.Errorf("err = %v, want ErrInvalidCursor", err)
	}
}

func TestListPassesFetchErrors(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	boom := errors.New("boom")
	_, err := cursor.List(c, widgets, paging.Params{}, "", func(paging.Request) (paging.Result[widget], error) {
		return paging.Result[widget]{}, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the list function's error", err)
	}
}

// A cursor has exactly one spelling: line breaks or a changed padding bit
// make it invalid even though they decode to the same signed bytes.
func TestCursorsDecodeStrictly(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	next := nextCursor(t, c, widgets, nil, "f")
	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatal(err)
	}
	respelled := base64.RawURLEncoding.EncodeToString(raw)
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", respelled[len(respelled)-1])
	variants := []string{next[:10] + "\n" + next[10:], next[:10] + "\r\n" + next[10:]}
	if len(raw)%3 != 0 { // the last character carries unused bits
		variants = append(variants, respelled[:len(respelled)-1]+string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]))
	}
	for _, v := range variants {
		if v == next {
			continue
		}
		if _, err := c.Plan(widgets.Spec, paging.Params{Cursor: v}, "f"); !errors.Is(err, cursor.ErrInvalidCursor) {
			t.Errorf("cursor %q accepted: %v", v, err)
		}
	}
}

// TestNextCursorsSayHowFarTheNextPageCanTie: a next cursor carries how many
// sort keys it takes to tell the row after the page from its last row
// (paging.Request.Within), which lets the store skip the ranges of ties;
// only when that key is a time, which no row written later can share.
func TestNextCursorsSayHowFarTheNextPageCanTie(t *testing.T) {
	t.Parallel()
	c := cursor.NewCodec([]byte("secret"))
	tb := &table{rows: fixture(40)}
	for _, sort := range []string{"created_at:asc", "name:asc", "label:desc,created_at:desc"} {
		spec, err := widgets.ParseSort(sort)
		if err != nil {
			t.Fatal(err)
		}
		all := page(t, c, tb, paging.Params{Limit: 100, Sort: &sort}, "").Items
		hinted := 0
		for limit := 1; limit < len(all); limit++ {
			pg := page(t, c, tb, paging.Params{Limit: limit, Sort: &sort}, "")
			req, err := c.Plan(widgets.Spec, paging.Params{Limit: limit, Sort: &sort, Cursor: pg.Next}, "")
			if err != nil {
				t.Fatal(err)
			}
			want := paging.Within(positionOf(all[limit-1], spec), positionOf(all[limit], spec))
			if want > 0 && widgets.Type(spec[want-1].Field) != paging.Time {
				want = 0
			}
			if req.Within != want {
				t.Fatalf("%s, a first page of %d: next cursor within %d, want %d", sort, limit, req.Within, want)
			}
			if want > 0 {
				hinted++
			}
		}
		if hinted == 0 && sort != "name:asc" {
			t.Errorf("%s: no page's next cursor had a hint", sort)
		}
	}

	spec, _ := widgets.ParseSort("created_at:asc")
	forged := c.Cursor(widgets.Spec, paging.Request{Sort: spec, After: paging.Position{time.Now(), id.New[id.Game]().UUID()}, Within: len(spec) + 1}, "")
	sort := "created_at:asc"
	if _, err := c.Plan(widgets.Spec, paging.Params{Sort: &sort, Cursor: forged}, ""); !errors.Is(err, cursor.ErrInvalidCursor) {
		t.Errorf("a cursor within more keys than its sort has: %v", err)
	}
}
