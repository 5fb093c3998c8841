package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
)

// column is where a sort field lives in a table.
type column struct {
	name     string
	nullable bool
}

// listing describes one table's lists: the columns to select, the sort
// fields (whose columns the port's schema names), and the filters of one
// request as SQL conditions.
type listing struct {
	table   string
	columns string
	sortBy  *paging.Spec
	where   []condition
}

type condition struct {
	sql  string
	args []any
}

func cond(sql string, args ...any) condition { return condition{sql: sql, args: args} }

// where writes conds to sql as a WHERE clause, and appends their
// arguments to args.
func where(sql *strings.Builder, args []any, conds []condition) []any {
	for i, c := range conds {
		if i == 0 {
			sql.WriteString(" WHERE ")
		} else {
			sql.WriteString(" AND ")
		}
		sql.WriteString(c.sql)
		args = append(args, c.args...)
	}
	return args
}

// keysetQuery renders one page of a keyset walk. Rows after a position are a
// union of disjoint ranges, one per sort key: equal on the keys before it,
// strictly beyond on it. Each range is a contiguous stretch of an index on
// the sort keys, so each is one index seek whatever the depth of the page;
// the union is ordered and cut to size. A nullable key adds a range for its
// NULLs, which sort after every value ascending and before every value
// descending.
func keysetQuery(l listing, req paging.Request) (string, []any) {
	sort := req.Sort
	if req.Backward {
		sort = sort.Reverse() // walk away from the position, flip back later
	}
	limit := req.Limit + 1 // one more tells whether there are more
	order := l.orderBy(sort)

	var branches [][]condition
	if req.After == nil {
		branches = [][]condition{nil}
	} else {
		branches = l.after(sort, req.After, req.Inclusive, req.Within)
		if len(branches) == 0 { // nothing lies beyond the position
			branches = [][]condition{{cond("false")}}
		}
	}

	var sql strings.Builder
	var args []any
	branch := func(extra []condition) {
		sql.WriteString("SELECT ")
		sql.WriteString(l.columns)
		sql.WriteString(" FROM ")
		sql.WriteString(l.table)
		args = where(&sql, args, slices.Concat(l.where, extra))
		fmt.Fprintf(&sql, " ORDER BY %s LIMIT %d", order, limit)
	}
	if len(branches) == 1 {
		branch(branches[0])
		return sql.String(), args
	}
	fmt.Fprintf(&sql, "SELECT %s FROM (", l.columns)
	for i, b := range branches {
		if i > 0 {
			sql.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&sql, "SELECT * FROM (")
		branch(b)
		fmt.Fprintf(&sql, ") AS b%d", i)
	}
	fmt.Fprintf(&sql, ") AS page ORDER BY %s LIMIT %d", order, limit)
	return sql.String(), args
}

func (l listing) column(field string) column {
	return column{name: l.sortBy.Column(field), nullable: l.sortBy.Type(field) == paging.NullableString}
}

// checkRowModel fails unless the row model R maps the columns a table's
// reads select in the order of R's fields() (reads scan into those), and
// every sort field of spec names one of its columns: a model, a schema and
// a table that disagree stop the service at start rather than a request.
func checkRowModel[R any, P interface {
	*R
	row
}](db *bun.DB, columns string, spec *paging.Spec) error {
	r := new(R)
	v := reflect.ValueOf(r).Elem()
	table := db.Table(v.Type())
	names, fields := strings.Split(columns, ", "), P(r).fields()
	if len(names) != len(fields) || len(names) != len(table.Fields) {
		return fmt.Errorf("store: %s selects %d columns into %d fields of a model of %d", table.Name, len(names), len(fields), len(table.Fields))
	}
	for i, name := range names {
		f, ok := table.FieldMap[name]
		if !ok || reflect.ValueOf(fields[i]).Pointer() != v.FieldByIndex(f.Index).Addr().Pointer() {
			return fmt.Errorf("store: %s's field %d is not column %s's", table.Name, i, name)
		}
	}
	for _, f := range spec.Fields() {
		if _, ok := table.FieldMap[spec.Column(f)]; !ok {
			return fmt.Errorf("store: %s sorts by %s, but table %s has no column %q", spec.Resource(), f, table.Name, spec.Column(f))
		}
	}
	return nil
}

func (l listing) orderBy(sort paging.Sort) string {
	parts := make([]string, len(sort))
	for i, k := range sort {
		c := l.column(k.Field)
		switch {
		case k.Desc && c.nullable:
			parts[i] = c.name + " DESC NULLS FIRST"
		case k.Desc:
			parts[i] = c.name + " DESC"
		case c.nullable:
			parts[i] = c.name + " ASC NULLS LAST"
		default:
			parts[i] = c.name + " ASC"
		}
	}
	return strings.Join(parts, ", ")
}

// after returns the disjoint ranges of rows beyond pos in sort order, each as
// the conditions that select it. With within, only the ranges of rows that
// differ from pos within their first within keys: the others are known to
// be empty (paging.Request). Each range costs the query's planning as much as
// a page of its own; a deep page without ties plans like a first page.
func (l listing) after(sort paging.Sort, pos paging.Position, inclusive bool, within int) [][]condition {
	if within == 0 || inclusive {
		within = len(sort)
	}
	var branches [][]condition
	var equal []condition
	for i, k := range sort[:within] {
		c := l.column(k.Field)
		for _, beyond := range beyond(c, k.Desc, pos[i]) {
			branches = append(branches, append(slices.Clone(equal), beyond))
		}
		equal = append(equal, equalTo(c, pos[i]))
	}
	if inclusive {
		branches = append(branches, equal)
	}
	return branches
}

func equalTo(c column, v any) condition {
	if v == nil {
		return cond(c.name + " IS NULL")
	}
	return cond(c.name+" = ?", sqlValue(v))
}

// sqlValue gives a position value the type the driver binds.
func sqlValue(v any) any {
	if u, ok := v.(id.UUID); ok {
		return uuid.UUID(u)
	}
	return v
}

// beyond gives the ranges strictly after v in the key's direction, NULL
// being greater than every value.
func beyond(c column, desc bool, v any) []condition {
	switch {
	case !desc && v == nil:
		return nil // nothing is greater than NULL
	case !desc && c.nullable:
		return []condition{cond(c.name+" > ?", sqlValue(v)), cond(c.name + " IS NULL")}
	case !desc:
		return []condition{cond(c.name+" > ?", sqlValue(v))}
	case v == nil:
		return []condition{cond(c.name + " IS NOT NULL")}
	default:
		return []condition{cond(c.name+" < ?", sqlValue(v))}
	}
}

// list runs one page of a keyset walk and maps the rows.
func list[R any, P interface {
	*R
	row
}, T any](ctx context.Context, db *DB, l listing, req paging.Request, toDomain func(*R) (T, error)) (paging.Result[T], error) {
	query, args := keysetQuery(l, req)
	rows, err := selectRows[R, P](ctx, db, pageRead, query, args)
	if err != nil {
		return paging.Result[T]{}, fmt.Errorf("list %s: %w", l.table, err)
	}
	res := paging.Result[T]{More: len(rows) > req.Limit}
	if res.More {
		if !req.Backward {
			if res.Peek, err = toDomain(&rows[req.Limit]); err != nil {
				return paging.Result[T]{}, err
			}
		}
		rows = rows[:req.Limit]
	}
	if req.Backward {
		slices.Reverse(rows)
	}
	res.Items = make([]T, len(rows))
	for i := range rows {
		if res.Items[i], err = toDomain(&rows[i]); err != nil {
			return paging.Result[T]{}, err
		}
	}
	return res, nil
}
