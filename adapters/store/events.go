package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Events implements ports.EventRepository: the audit log and the change
// feed, read from the outbox that every write fills (outbox.go).
type Events struct {
	db *DB
}

var _ ports.EventRepository = (*Events)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewEvents(s) })
}

func NewEvents(s *Store) (*Events, error) {
	if err := checkRowModel[eventRow](s.db.read, eventColumns, ports.EventSchema.Spec); err != nil {
		return nil, err
	}
	return &Events{db: s.db}, nil
}

func (r *Events) List(ctx context.Context, f ports.EventFilter, req paging.Request) (paging.Result[*ports.Recorded], error) {
	l := listing{table: "events", columns: eventColumns, sortBy: ports.EventSchema.Spec, where: eventFilter(f)}
	if f.SubjectID != "" {
		l.where = append(l.where, cond("subject_id = ?", f.SubjectID))
	}
	if f.ActorID != "" {
		l.where = append(l.where, cond("actor_id = ?", f.ActorID))
	}
	return list(ctx, r.db, l, req, eventFromRow)
}

// eventFilter is the account and the type of f, the filters that the feed
// shares with the audit log.
func eventFilter(f ports.EventFilter) []condition {
	var where []condition
	if !f.AccountID.IsZero() {
		where = append(where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if prefix, ok := strings.CutSuffix(f.Type, "*"); ok {
		where = append(where, cond("substr(type, 1, ?) = ?", len(prefix), prefix))
	} else if f.Type != "" {
		where = append(where, cond("type = ?", f.Type))
	}
	return where
}

// Feed orders events so that a reader that has passed a position never
// sees an event appear behind it, although transactions commit in another
// order than they insert. On SQLite, whose writes are serial, the order of
// insertion is the order of commits. On PostgreSQL it is not: an event
// inserted first may commit last. There the order is (transaction ID,
// position within it), and the feed serves only the events of transactions
// below the oldest one still running (pg_snapshot_xmin): every transaction
// that could still commit an event lies above them all, so no event can
// appear below one served. Its cost is that a transaction left open holds
// the feed back until it ends (the serving pool's statement timeout bounds
// the service's own).
func (r *Events) Feed(ctx context.Context, f ports.EventFilter, after id.EventID, limit int) ([]*ports.Recorded, error) {
	conds := eventFilter(f)
	if !after.IsZero() {
		pos, err := r.position(ctx, f.AccountID, after)
		if err != nil {
			return nil, err
		}
		conds = append(conds, pos)
	}
	order := "position"
	if !r.db.sqlite {
		conds = append(conds, cond("xid < pg_snapshot_xmin(pg_current_snapshot())"))
		order = "xid, position"
	}
	var q strings.Builder
	q.WriteString("SELECT " + eventColumns + " FROM events")
	args := where(&q, make([]any, 0, 6), conds)
	q.WriteString(" ORDER BY " + order + " LIMIT ?")
	rows, err := selectRows[eventRow](ctx, r.db, pageRead, q.String(), append(args, limit))
	if err != nil {
		return nil, fmt.Errorf("read the event feed: %w", err)
	}
	out := make([]*ports.Recorded, len(rows))
	for i := range rows {
		out[i], _ = eventFromRow(&rows[i])
	}
	return out, nil
}

// position is the condition "after the event after" in the feed's order.
func (r *Events) position(ctx context.Context, account id.AccountID, after id.EventID) (condition, error) {
	q := "SELECT position FROM events WHERE id = ?"
	if !r.db.sqlite {
		q = "SELECT xid::text, position FROM events WHERE id = ?"
	}
	args := []any{toUUID(after)}
	if !account.IsZero() {
		q += " AND account_id = ?"
		args = append(args, toUUID(account))
	}
	var xid string
	var position int64
	dest := []any{&position}
	if !r.db.sqlite {
		dest = []any{&xid, &position}
	}
	err := r.db.read.NewRaw(q, args...).Scan(ctx, dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return condition{}, event.ErrUnknownPosition
	}
	if err != nil {
		return condition{}, fmt.Errorf("find the feed position: %w", err)
	}
	if r.db.sqlite {
		return cond("position > ?", position), nil
	}
	return cond("(xid, position) > (?::text::xid8, ?)", xid, position), nil
}

// Purge deletes by ID, which is time-ordered (UUIDv7), so that it walks
// the primary key in batches.
func (r *Events) Purge(ctx context.Context, before time.Time) (int, error) {
	skipLocked := " FOR UPDATE SKIP LOCKED" // replicas purging at once never wait on each other
	if r.db.sqlite {
		skipLocked = ""
	}
	cutoff := toUUID(id.FirstAt[id.Event](before))
	n, err := r.db.deleteInBatches(ctx, "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < ? LIMIT ?"+skipLocked+")", cutoff)
	if err != nil {
		return n, fmt.Errorf("purge events: %w", err)
	}
	return n, nil
}
