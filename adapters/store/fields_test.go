package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TestRowFieldsFollowTheirColumns: a read selects a table's columns
// constant and scans into the row's fields(); each must name, in order,
// the fields bun maps those columns to.
func TestRowFieldsFollowTheirColumns(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://localhost/never")
	if err != nil {
		t.Fatal(err)
	}
	db := bun.NewDB(stdlib.OpenDB(*cfg), pgdialect.New()) // never connects
	t.Cleanup(func() { db.Close() })
	for _, c := range []struct {
		row     row
		columns string
	}{
		{new(identityRow), identityColumns},
		{new(gameRow), gameColumns},
		{new(sessionRow), sessionColumns},
		{new(accountRow), accountColumns},
		{new(userRow), userColumns},
		{new(apiKeyRow), apiKeyColumns},
	} {
		v := reflect.ValueOf(c.row).Elem()
		table := db.Table(v.Type())
		columns, fields := strings.Split(c.columns, ", "), c.row.fields()
		if len(columns) != len(fields) || len(columns) != len(table.Fields) {
			t.Errorf("%s: %d columns, %d fields, %d in the model", v.Type(), len(columns), len(fields), len(table.Fields))
			continue
		}
		for i, name := range columns {
			f, ok := table.FieldMap[name]
			if !ok {
				t.Errorf("%s: no field for column %s", v.Type(), name)
				continue
			}
			if want := v.FieldByIndex(f.Index).Addr().Interface(); fields[i] != want {
				t.Errorf("%s: field %d is not column %s's", v.Type(), i, name)
			}
		}
	}
}
