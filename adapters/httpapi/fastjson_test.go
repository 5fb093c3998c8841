package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadr-oss/identity/wire"
)

// strange are strings encoding/json escapes, each in its own way.
var strange = []string{
	"", "Ada", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rreturn",
	"\x00\x01\x1f control", "é ü 日本 🎮", "\u2028 and \u2029", "invalid \xff\xfe utf-8", "\x7f",
}

func identityWith(s string, name *string, at time.Time) wire.Identity {
	return wire.Identity{
		ID: "ide_" + s, AccountID: "acc_01934b1c-7c6d-7d3a-9f4e-2b8c1d0e5f6a", GameID: s, PlayerID: "ply_" + s, Kind: "DEVICE",
		ExternalKey: s, DisplayName: name, CreatedAt: at, UpdatedAt: wireTime(at.Add(time.Hour)),
	}
}

func wantSame(t *testing.T, what string, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestEncodersWriteWhatEncodingJSONWrites(t *testing.T) {
	times := []time.Time{
		wireTime(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)),
		wireTime(time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)),
		wireTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)),
		wireTime(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("far", 3600))),
	}
	var page wire.Page[wire.Identity]
	for i, s := range strange {
		name := s
		for _, n := range []*string{nil, &name} {
			w := identityWith(s, n, times[i%len(times)])
			wantSame(t, "identity", appendIdentity(nil, w), w)
			page.Data = append(page.Data, w)
		}
	}
	next, prev := "eyJzIjoiY3JlYXRlZF9hdDpkZXNjIn0.c2ln", "a<b>&c"
	for _, p := range []wire.Pagination{
		{},
		{NextCursor: &next, HasNext: true, Count: 20},
		{NextCursor: &next, PrevCursor: &prev, HasNext: true, HasPrev: true, Count: 3},
	} {
		for _, data := range [][]wire.Identity{{}, page.Data[:1], page.Data} {
			pg := wire.Page[wire.Identity]{Data: data, Pagination: p}
			wantSame(t, "page", appendPage(nil, pg, appendIdentity), pg)
		}
	}
}

func FuzzIdentityEncoder(f *testing.F) {
	for _, s := range strange {
		f.Add(s, s, int64(0))
	}
	f.Fuzz(func(t *testing.T, key, name string, nanos int64) {
		// Any int64 of nanoseconds is a time between 1677 and 2262: within
		// the years encoding/json writes.
		w := identityWith(key, &name, wireTime(time.Unix(0, nanos)))
		wantSame(t, "identity", appendIdentity(nil, w), w)
	})
}
