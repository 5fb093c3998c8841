package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
)

func TestCursorRoundTrip(t *testing.T) {
	name := "Zoë 4821"
	row := id.New[id.Identity]().UUID()
	for _, c := range []cursor{
		{Sort: byCreated.name, At: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), ID: row.String()},
		{Sort: byName.name, Name: &name, ID: row.String()},
		{Sort: byName.name, ID: row.String()}, // a NULL display name
	} {
		got, err := decodeCursor(c.encode())
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if c.row = row; !reflect.DeepEqual(got, c) {
			t.Errorf("decode(encode(%+v)) = %+v", c, got)
		}
	}
	for _, bad := range []string{"", "not base64!", "bm90IGpzb24", cursor{Sort: byCreated.name}.encode()} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

// A deep page is the service's union of index ranges (see
// adapters/store/keyset.go), with the filters' parameters first.
func TestDeepPageQuery(t *testing.T) {
	var p params
	where := []string{"deleted_at IS NULL", "account_id = " + p.bind("account")}
	at := time.Now()
	sql := byCreated.query(&p, where, &cursor{At: at, ID: "row"}, 21)
	want := "SELECT " + identityColumns + " FROM (" +
		"SELECT * FROM (SELECT " + identityColumns + " FROM identities WHERE deleted_at IS NULL AND account_id = $1 AND created_at < $2 ORDER BY created_at DESC, id ASC LIMIT 21) AS b0" +
		" UNION ALL " +
		"SELECT * FROM (SELECT " + identityColumns + " FROM identities WHERE deleted_at IS NULL AND account_id = $1 AND created_at = $2 AND id > $3 ORDER BY created_at DESC, id ASC LIMIT 21) AS b1" +
		") AS page ORDER BY created_at DESC, id ASC LIMIT 21"
	if sql != want {
		t.Errorf("query:\n%s\nwant:\n%s", sql, want)
	}
	if len(p.args) != 3 || p.args[1] != at {
		t.Errorf("args %v", p.args)
	}
}

// After a NULL display name only NULLs remain, with greater IDs: one range,
// and no parameter for the name.
func TestPageAfterNullName(t *testing.T) {
	var p params
	sql := byName.query(&p, []string{"deleted_at IS NULL"}, &cursor{ID: "row"}, 21)
	want := "SELECT " + identityColumns + " FROM identities WHERE deleted_at IS NULL AND display_name IS NULL AND id > $1 ORDER BY display_name ASC NULLS LAST, id ASC LIMIT 21"
	if sql != want || len(p.args) != 1 {
		t.Errorf("query %s with %v, want %s", sql, p.args, want)
	}
}
