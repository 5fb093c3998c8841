package cursor_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
)

// fuzzSecret signs every cursor of the fuzz targets, seeds included, so
// that the committed corpus stays valid.
var fuzzSecret = []byte("fuzz secret")

// fuzzRows are widgets with fixed IDs and times, so that the cursors made
// from them are the same on every run: names with NULLs, ties, characters
// that JSON escapes, and times that tie to the second.
func fuzzRows() []widget {
	names := []*string{str("Zoë"), nil, str("alice"), str("<b>&amp;</b>"), str("é"), nil, str("\u2028\"\\"), str("")}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]widget, 12)
	for i := range rows {
		var u id.UUID
		u[0], u[6], u[8], u[15] = 0x01, 0x70, 0x80, byte(i+1)
		rows[i] = widget{
			ID:      id.FromUUID[id.Game](u),
			Name:    names[i%len(names)],
			Label:   []string{"x", "y", "z"}[i%3],
			Created: base.Add(time.Duration(i%4)*time.Second + time.Duration(i)*time.Microsecond),
		}
	}
	return rows
}

// fuzzSeed is one Plan call: a cursor and the sort and filter it is
// presented with.
type fuzzSeed struct{ token, sort, filter string }

// realCursors walks the fixture forward and back with several sorts and
// page sizes and returns every cursor it was handed, with the sort and
// filter that continue it: next and prev cursors, cursors with a Within
// hint, the inclusive way back from a page past the end.
func realCursors(tb testing.TB, c *cursor.Codec) []fuzzSeed {
	tb.Helper()
	rows := &table{rows: fuzzRows()}
	var out []fuzzSeed
	for _, sort := range []string{"", "name:asc", "label:asc,created_at:desc", "created_at:asc", "id:desc"} {
		var sp *string
		if sort != "" {
			sp = &sort
		}
		filter := "account=acc_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21;kind=DEVICE"
		p := paging.Params{Limit: 5, Sort: sp}
		for range 4 {
			pg, err := cursor.List(c, widgets, p, filter, rows.list)
			if err != nil {
				tb.Fatal(err)
			}
			if pg.Prev != "" {
				out = append(out, fuzzSeed{pg.Prev, sort, filter})
			}
			if pg.Next == "" {
				break
			}
			out = append(out, fuzzSeed{pg.Next, sort, filter})
			p.Cursor = pg.Next
		}
	}
	// The way back from past the end: an inclusive backward cursor.
	sort := "created_at:asc"
	spec, _ := widgets.ParseSort(sort)
	last := fuzzRows()[11]
	past := c.Cursor(widgets.Spec, paging.Request{Sort: spec, After: positionOf(last, spec)}, "")
	pg, err := cursor.List(c, widgets, paging.Params{Cursor: past, Sort: &sort}, "", (&table{}).list)
	if err != nil || pg.Prev == "" {
		tb.Fatalf("no way back from past the end: %v", err)
	}
	return append(out, fuzzSeed{past, sort, ""}, fuzzSeed{pg.Prev, sort, ""})
}

// tampered are changes to a real cursor that Plan must refuse.
func tampered(s fuzzSeed) []fuzzSeed {
	tok := s.token
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	payload := raw[:len(raw)-16]
	flip := func(i int) string {
		b := []byte(tok)
		b[i] ^= 0x01
		return string(b)
	}
	var noneSig []byte
	noneSig = append(noneSig, payload...)
	noneSig = append(noneSig, make([]byte, 16)...)
	out := []string{
		tok[:len(tok)-1], tok[:len(tok)-4], tok[:12], tok + "A", tok + "==", tok + "\n",
		tok[:10] + "\n" + tok[10:], tok[:10] + "\r\n" + tok[10:], " " + tok, flip(0), flip(len(tok) / 2), flip(len(tok) - 1),
		strings.ReplaceAll(strings.ReplaceAll(tok, "-", "+"), "_", "/"),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(payload),
		base64.RawURLEncoding.EncodeToString(noneSig),
		base64.RawURLEncoding.EncodeToString(append(payload, raw[len(raw)-16:len(raw)-8]...)),
		string(payload), tok + tok, strings.Repeat(tok, 50),
	}
	seeds := make([]fuzzSeed, 0, len(out)+3)
	for _, t := range out {
		seeds = append(seeds, fuzzSeed{t, s.sort, s.filter})
	}
	// The cursor itself, presented with another sort or filter.
	return append(seeds, fuzzSeed{tok, "label:desc", s.filter}, fuzzSeed{tok, s.sort, s.filter + "x"},
		fuzzSeed{tok, "bogus:asc", s.filter})
}

// FuzzCursor presents arbitrary text as a cursor. Plan never panics; a
// refusal is ErrInvalidCursor or ErrCursorState (a BadRequest, never
// anything else) or, when the sort itself is bad, the sort's BadRequest;
// a cursor it accepts is one the codec issued: encoding the request it
// decodes to gives that very token back.
func FuzzCursor(f *testing.F) {
	c := cursor.NewCodec(fuzzSecret)
	real := realCursors(f, c)
	other := realCursors(f, cursor.NewCodec([]byte("another secret")))
	foreign := realCursors(f, c)[0]
	foreign.token = c.Cursor(newSchema("gadgets").Spec, paging.Request{Sort: widgets.DefaultSort(),
		After: positionOf(fuzzRows()[0], widgets.DefaultSort())}, foreign.filter)
	seeds := append(slices.Clone(real), other[0], other[len(other)-1], foreign)
	for _, s := range []fuzzSeed{real[0], real[len(real)/2], real[len(real)-1]} {
		seeds = append(seeds, tampered(s)...)
	}
	seeds = append(seeds,
		fuzzSeed{"", "", ""}, fuzzSeed{"A", "", ""}, fuzzSeed{"!!!not-a-cursor!!!", "", ""},
		fuzzSeed{`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[]}`, "", ""},
		fuzzSeed{"eyJyIjoid2lkZ2V0cyJ9AAAAAAAAAAAAAAAAAAAAAA", "", ""},
		fuzzSeed{"\xff\xfe", "", ""}, fuzzSeed{strings.Repeat("A", 4096), "", ""},
	)
	for _, s := range seeds {
		f.Add(s.token, s.sort, s.filter)
	}
	f.Fuzz(func(t *testing.T, token, sort, filter string) {
		p := paging.Params{Cursor: token}
		if sort != "" {
			p.Sort = &sort
		}
		req, err := c.Plan(widgets.Spec, p, filter)
		if err != nil {
			checkRefusal(t, p, err)
			return
		}
		checkRequest(t, req)
		if token == "" {
			if req.After != nil {
				t.Fatalf("no cursor, but a position: %+v", req)
			}
			return
		}
		if again := c.Cursor(widgets.Spec, req, filter); again != token {
			t.Fatalf("Plan accepted %q (sort %q, filter %q) as %+v, which encodes as %q", token, sort, filter, req, again)
		}
	})
}

// FuzzCursorPayload signs arbitrary bytes as a cursor's payload, as only
// the service (or a leaked secret) can, and presents the cursor. Plan never
// panics and refuses only with the BadRequest errors; what it accepts is a
// consistent request (a position of the sort's types, a hint within the
// sort), whose re-encoded cursor decodes to the same request and encodes
// to the same cursor again; and List serves it.
func FuzzCursorPayload(f *testing.F) {
	c := cursor.NewCodec(fuzzSecret)
	for _, s := range realCursors(f, c) {
		raw, _ := base64.RawURLEncoding.DecodeString(s.token)
		f.Add(raw[:len(raw)-16], s.sort, s.filter)
	}
	for _, p := range []string{
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":["1735689600000000","01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[1735689600000000,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[1735689600000000,"01000000-0000-7000-8000-000000000001"],"w":3}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[1735689600000000,"01000000-0000-7000-8000-000000000001"],"w":-1}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[-9223372036854775808,"01000000-0000-7000-8000-00000000000A"],"w":2,"b":true,"i":true}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[9223372036854775807,"00000000-0000-0000-0000-000000000000"]}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[1e3,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[null,null]}`,
		`{"r":"widgets","s":"name:asc,id:asc","f":"","p":[null,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"name:asc,id:asc","f":"","p":[ null ,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"label:asc,id:asc","f":"","p":[null,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"label:asc,id:asc","f":"","p":["\ud800\u0000<>&",{"x":1}]}`,
		`{"r":"widgets","s":"label:asc","f":"","p":["x","01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"LABEL:asc,id:asc","f":"","p":["x","01000000-0000-7000-8000-000000000001"]}`,
		`{"R":"widgets","S":"label:ASC,id:asc","F":"","P":["x","01000000-0000-7000-8000-000000000001"],"r":"widgets"}`,
		`{"r":"widgets","s":"label:asc,id:asc","f":"","p":["x","01000000-0000-7000-8000-000000000001","extra"]}`,
		`{"r":"widgets","s":"label:asc,id:asc","f":"","p":["x"]}`,
		`{"r":"widgets","s":"","f":"","p":[]}`,
		`{"r":"gadgets","s":"created_at:desc,id:asc","f":"","p":[0,"01000000-0000-7000-8000-000000000001"]}`,
		`{"r":"widgets","s":"created_at:desc,id:asc","f":"","p":[0,"01000000-0000-7000-8000-000000000001"]} trailing`,
		`[]`, `null`, `{}`, `{"p":null}`, ``, `{"r":"widgets","s":"created_at:desc,id:asc","p":[[[[[[[[[[]]]]]]]]]]}`,
		`{"r":"widgets","s":"id:asc","f":"","p":["01000000-0000-7000-8000-000000000001"],"w":1e400}`,
	} {
		f.Add([]byte(p), "", "")
	}
	rows := &table{rows: fuzzRows()}
	f.Fuzz(func(t *testing.T, payload []byte, sort, filter string) {
		token := sign(payload)
		p := paging.Params{Cursor: token, Limit: 3}
		if sort != "" {
			p.Sort = &sort
		}
		req, err := c.Plan(widgets.Spec, p, filter)
		if err != nil {
			checkRefusal(t, p, err)
			return
		}
		checkRequest(t, req)

		again := c.Cursor(widgets.Spec, req, filter)
		p.Cursor = again
		req2, err := c.Plan(widgets.Spec, p, filter)
		if err != nil {
			t.Fatalf("payload %q was accepted as %+v, but its re-encoded cursor is refused: %v", payload, req, err)
		}
		if !sameRequest(req, req2) {
			t.Fatalf("payload %q decodes to %+v, its re-encoded cursor to %+v", payload, req, req2)
		}
		if third := c.Cursor(widgets.Spec, req2, filter); third != again {
			t.Fatalf("cursor %q re-encodes as %q", again, third)
		}

		p.Cursor = token
		pg, err := cursor.List(c, widgets, p, filter, rows.list)
		if err != nil {
			t.Fatalf("List with an accepted cursor: %v", err)
		}
		if (pg.Next != "") != pg.HasNext || (pg.Prev != "") != pg.HasPrev || len(pg.Items) > 3 {
			t.Fatalf("page of %d items: HasNext %v, Next %q, HasPrev %v, Prev %q", len(pg.Items), pg.HasNext, pg.Next, pg.HasPrev, pg.Prev)
		}
		for _, next := range []string{pg.Next, pg.Prev} {
			if next == "" {
				continue
			}
			p.Cursor = next
			if _, err := c.Plan(widgets.Spec, p, filter); err != nil {
				t.Fatalf("List handed out cursor %q that Plan refuses: %v", next, err)
			}
		}
	})
}

// sign makes the cursor of payload under fuzzSecret, as the codec does:
// the payload and the first 16 bytes of its HMAC-SHA256, in unpadded
// url-safe base64.
func sign(payload []byte) string {
	m := hmac.New(sha256.New, fuzzSecret)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(append(slices.Clone(payload), m.Sum(nil)[:16]...))
}

// checkRefusal fails t unless err is one of the BadRequest answers Plan may
// give to p: the sort's own error, or an invalid or mismatched cursor.
func checkRefusal(t *testing.T, p paging.Params, err error) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Category != domain.CategoryBadRequest {
		t.Fatalf("Plan(%+v): error %T %v, want a BadRequest *domain.Error", p, err, err)
	}
	if p.Sort != nil {
		if _, serr := widgets.ParseSort(*p.Sort); serr != nil {
			if err.Error() != serr.Error() {
				t.Fatalf("Plan with a bad sort %q: %v, want the sort's error %v", *p.Sort, err, serr)
			}
			return
		}
	}
	if p.Cursor == "" {
		t.Fatalf("Plan(%+v) without a cursor: %v", p, err)
	}
	if !errors.Is(err, cursor.ErrInvalidCursor) && !errors.Is(err, cursor.ErrCursorState) {
		t.Fatalf("Plan(%+v): %v, want ErrInvalidCursor or ErrCursorState", p, err)
	}
}

// checkRequest checks what every planned request must be.
func checkRequest(t *testing.T, req paging.Request) {
	t.Helper()
	if req.Limit < 1 || req.Limit > paging.MaxLimit || len(req.Sort) == 0 {
		t.Fatalf("request %+v", req)
	}
	if req.After == nil {
		if req.Backward || req.Inclusive || req.Within != 0 {
			t.Fatalf("request without a position but with a direction: %+v", req)
		}
		return
	}
	if len(req.After) != len(req.Sort) || req.Within < 0 || req.Within > len(req.Sort) {
		t.Fatalf("position %v, within %d, for sort %v", req.After, req.Within, req.Sort)
	}
	for i, k := range req.Sort {
		v := req.After[i]
		var ok bool
		switch widgets.Type(k.Field) {
		case paging.NullableString:
			_, isString := v.(string)
			ok = v == nil || isString
		case paging.String:
			_, ok = v.(string)
		case paging.Time:
			var tm time.Time
			tm, ok = v.(time.Time)
			ok = ok && tm.Location() == time.UTC && tm.Nanosecond()%1000 == 0
		case paging.UUID:
			_, ok = v.(id.UUID)
		}
		if !ok {
			t.Fatalf("position %v: %T %v is no value of %s", req.After, v, v, k.Field)
		}
	}
	// The position orders against itself, as a store will compare it.
	if req.Sort.Compare(req.After, req.After) != 0 {
		t.Fatalf("position %v is not equal to itself", req.After)
	}
}

func sameRequest(a, b paging.Request) bool {
	if !slices.Equal(a.Sort, b.Sort) || a.Backward != b.Backward || a.Inclusive != b.Inclusive ||
		a.Within != b.Within || a.Limit != b.Limit || len(a.After) != len(b.After) {
		return false
	}
	x, _ := json.Marshal(a.After)
	y, _ := json.Marshal(b.After)
	return string(x) == string(y) && (a.After == nil) == (b.After == nil)
}
