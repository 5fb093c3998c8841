package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/wire"
)

// identityColumns are what the service selects.
const identityColumns = "id, account_id, game_id, player_id, kind, external_key, display_name, created_at, updated_at, deleted_at"

type identityRow struct {
	id, account, game, player id.UUID
	kind, key                 string
	name                      *string
	created, updated          time.Time
	deleted                   *time.Time
}

func (r *identityRow) dest() []any {
	return []any{&r.id, &r.account, &r.game, &r.player, &r.kind, &r.key, &r.name, &r.created, &r.updated, &r.deleted}
}

// named reports whether the row needs no rename to name; a zero name asks
// for none.
func (r *identityRow) named(name identity.DisplayName) bool {
	return name.IsZero() || r.name != nil && *r.name == name.String()
}

func (r *identityRow) wire() wire.Identity {
	return wire.Identity{
		ID:          id.FromUUID[id.Identity](r.id).String(),
		AccountID:   id.FromUUID[id.Account](r.account).String(),
		GameID:      id.FromUUID[id.Game](r.game).String(),
		PlayerID:    id.FromUUID[id.Player](r.player).String(),
		Kind:        r.kind,
		ExternalKey: r.key,
		DisplayName: r.name,
		CreatedAt:   r.created.UTC(),
		UpdatedAt:   r.updated.UTC(),
	}
}

// params numbers a statement's parameters as they are bound.
type params struct {
	args []any
}

func (p *params) bind(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// keyset is one order of the list and the SQL of its pages, in the shape of
// the service's keyset queries (adapters/store/keyset.go): the rows after a
// position are a union of disjoint ranges, each one seek into the index of
// the order, so that a page costs the same at any depth.
type keyset struct {
	name    string // its sort parameter, and its cursors'
	orderBy string
	// ranges gives the ranges of rows after c, each as its conditions.
	ranges func(c cursor, p *params) [][]string
	// key is a row's position in the order.
	key func(r *identityRow) cursor
}

// next is the cursor of the page after r.
func (k *keyset) next(r *identityRow) string {
	c := k.key(r)
	c.Sort = k.name
	return c.encode()
}

// cursor is the position of a page's last row in its order, in base64 of
// JSON: the row's sort key.
type cursor struct {
	Sort string    `json:"s"`
	At   time.Time `json:"t,omitzero"`
	Name *string   `json:"n,omitempty"` // nil: NULL, which sorts last
	ID   string    `json:"i"`
	row  id.UUID   // ID, parsed
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	var ok bool
	if c.row, ok = id.ParseUUID(c.ID); !ok {
		return c, errors.New("cursor: no row ID")
	}
	return c, nil
}

// byCreated is the service's default order, created_at:desc,id:asc.
var byCreated = keyset{
	name:    "created_at:desc,id:asc",
	orderBy: "created_at DESC, id ASC",
	ranges: func(c cursor, p *params) [][]string {
		at, after := p.bind(c.At), p.bind(c.row)
		return [][]string{{"created_at < " + at}, {"created_at = " + at, "id > " + after}}
	},
	key: func(r *identityRow) cursor { return cursor{At: r.created, ID: r.id.String()} },
}

// byName is sort=display_name:asc, which the service completes with id:asc.
var byName = keyset{
	name:    "display_name:asc,id:asc",
	orderBy: "display_name ASC NULLS LAST, id ASC",
	ranges: func(c cursor, p *params) [][]string {
		after := p.bind(c.row)
		if c.Name == nil {
			return [][]string{{"display_name IS NULL", "id > " + after}}
		}
		name := p.bind(*c.Name)
		return [][]string{{"display_name > " + name}, {"display_name IS NULL"}, {"display_name = " + name, "id > " + after}}
	},
	key: func(r *identityRow) cursor { return cursor{Name: r.name, ID: r.id.String()} },
}

// keysets are the orders the baseline lists in, by their sort parameter.
var keysets = map[string]*keyset{"": &byCreated, byCreated.name: &byCreated, "display_name:asc": &byName, byName.name: &byName}

// query is the SQL of a page of limit rows after after (nil: the first
// page), within where, whose values p holds already.
func (k *keyset) query(p *params, where []string, after *cursor, limit int) string {
	page := func(extra []string) string {
		return fmt.Sprintf("SELECT %s FROM identities WHERE %s ORDER BY %s LIMIT %d",
			identityColumns, strings.Join(slices.Concat(where, extra), " AND "), k.orderBy, limit)
	}
	if after == nil {
		return page(nil)
	}
	ranges := k.ranges(*after, p)
	if len(ranges) == 1 {
		return page(ranges[0])
	}
	branches := make([]string, len(ranges))
	for i, r := range ranges {
		branches[i] = fmt.Sprintf("SELECT * FROM (%s) AS b%d", page(r), i)
	}
	return fmt.Sprintf("SELECT %s FROM (%s) AS page ORDER BY %s LIMIT %d",
		identityColumns, strings.Join(branches, " UNION ALL "), k.orderBy, limit)
}
