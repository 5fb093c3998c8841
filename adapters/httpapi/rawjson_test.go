package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leadr-oss/identity/wire"
)

// FuzzRawInput: a problem whose input is left as JSON answers exactly what
// it answered with the input decoded whole, whatever the JSON and however
// much of the echo's budget the problems before it took: the same members
// in the same order, cut at the same places, write-only members redacted.
// The seeds are the shapes that test the cut's edges: more elements and
// members than the budget shows, names in every order and repeated, nesting
// past the depth, strings and numbers longer than the budget, escapes.
func FuzzRawInput(f *testing.F) {
	members := func(n int, name func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("%q:%d", name(i), i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	for _, seed := range []string{
		`{"x":[` + strings.Repeat("0,", 3000) + `0]}`,
		"[" + strings.Repeat(`[0,1],`, 700) + "[]]",
		members(1500, func(i int) string { return fmt.Sprint("k", i) }),
		members(1500, func(i int) string { return fmt.Sprint("k", 99999-i) }),
		members(1500, func(i int) string { return fmt.Sprint("k", i%600) }),
		members(600, func(i int) string { return strings.Repeat("n", 3-i%3) + fmt.Sprint(i) }),
		`{"":1,"":{},"a":[],"b":{}}`,
		`{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41),
		strings.Repeat("[", 50) + strings.Repeat("]", 50),
		`{"x":"` + strings.Repeat("é", 800) + `"}`,
		`{"x":"` + strings.Repeat(`\u00e9\n\ud83d\ude00\ud800`, 300) + `"}`,
		`{"` + strings.Repeat("k", 2000) + `":1,"` + strings.Repeat("k", 1999) + `":2}`,
		`{"x":` + strings.Repeat("9", 2000) + `,"y":-1.5e300,"z":12345678901234567890123456789012345}`,
		`{"steam_web_api_key":"s","name":null,"t":true,"f":false}`,
		`{"steam_web_api_key":null}`,
		`"just a string"`, `42`, `null`, `[]`, `{}`,
		` { "a" : [ 1 , "b" , { } ] , "a" : 2 } `,
		`{"\u0061":1,"a":2,"\ud800\udc00":3,"\udc00":4,"\ud800\u0041":5,"\"\\\/\b\f\n\r\t":6}`,
	} {
		f.Add([]byte(seed), uint16(0), "")
		f.Add([]byte(seed), uint16(700), steamKeyField)
		f.Add([]byte(seed), uint16(1021), "x")
	}
	f.Fuzz(func(t *testing.T, raw []byte, spent uint16, writeOnly string) {
		if !json.Valid(raw) || !utf8.Valid(raw) {
			return
		}
		value := bytes.TrimSpace(raw)
		// A problem before it takes spent+2 of the budget, or all of it.
		before := wire.Problem{Input: strings.Repeat("s", int(spent%1100))}
		got := bounded([]wire.Problem{before, {Input: rawInput{json: value, writeOnly: []string{writeOnly}}}})
		want := bounded([]wire.Problem{before, {Input: decodeInput(rawInput{json: value, writeOnly: []string{writeOnly}})}})
		if g, w := mustJSON(got), mustJSON(want); !bytes.Equal(g, w) {
			t.Fatalf("%s after %d:\n got %s\nwant %s", raw, spent, g, w)
		}
	})
}
