package httpapi

import (
	"strings"
	"testing"
)

// BenchmarkReadBody reads bodies as a handler does, and answers the 422 of
// a missing field, which echoes the whole body: a typical sign-in, and the
// shapes of finding 2 of issue 17, a megabyte of small values and a
// megabyte-long string, on an admin route (the 1 MiB cap).
func BenchmarkReadBody(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"sign-in", `{"game_id":"gam_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21","kind":"DEVICE","external_key":"device-3f2a9c41-6b7e","display_name":"Ada"}`},
		{"1MiB-of-zeros", `{"x":[` + strings.Repeat("0,", MaxBodyBytes/2-8) + `0]}`},
		{"1MiB-string", `{"x":"` + strings.Repeat("x", MaxBodyBytes-16) + `"}`},
		{"1MiB-of-escapes", `{"x":"` + strings.Repeat(`\n\"`, MaxBodyBytes/4-4) + `"}`},
		{"1MiB-of-members", `{` + strings.Repeat(`"a":0,`, MaxBodyBytes/6-1) + `"x":0}`},
		// Names that must be decoded to be compared, as many as a client
		// endpoint's 16 KiB hold.
		{"16KiB-of-escaped-names", `{` + strings.Repeat(`"\u006eamf":0,`, MaxClientBodyBytes/14-1) + `"x":0}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			raw := []byte(bc.body)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				c, _ := fuzzContext("application/json", raw)
				var ps problems
				body, err := readBody(c, &ps)
				if err != nil {
					b.Fatal(err)
				}
				body.str("name", true)
				fail(c, ps.err())
			}
		})
	}
}
