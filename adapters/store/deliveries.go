package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Deliveries implements ports.DeliveryQueue. The queue is the table of
// attempts: a pending row is an attempt due at due_at; making it turns it
// into the log's record of what happened, and a failure schedules the
// next attempt as a new row. Replicas share it through leases: a replica
// that claims a row owns it until leased_until, long enough for one
// attempt, so that a replica that dies mid-attempt leaves it to another
// once the lease runs out.
type Deliveries struct {
	db *DB
}

var _ ports.DeliveryQueue = (*Deliveries)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewDeliveries(s) })
}

func NewDeliveries(s *Store) (*Deliveries, error) {
	if err := checkRowModel[deliveryRow](s.db.read, deliveryColumns, ports.DeliverySchema.Spec); err != nil {
		return nil, err
	}
	return &Deliveries{db: s.db}, nil
}

// skipLocked makes replicas that pick rows at once take different ones
// instead of waiting; SQLite has one writer and no row locks.
func (q *Deliveries) skipLocked() string {
	if q.db.sqlite {
		return ""
	}
	return " FOR UPDATE SKIP LOCKED"
}

// feedRow is an event's place in the feed and what the fan-out matches.
type feedRow struct {
	ID         uuid.UUID `bun:"id,type:uuid"`
	Type       string    `bun:"type"`
	AccountID  uuid.UUID `bun:"account_id,type:uuid"`
	OccurredAt time.Time `bun:"occurred_at"`
	XID        string    `bun:"xid"`
	Position   int64     `bun:"position"`
}

// FanOut reads the feed as GET /v1/events/feed does (events.go: only what
// can no longer be overtaken, in commit order), so that no event is missed
// however transactions interleave, and each is fanned out once: the place
// it reads from moves in the transaction that schedules the attempts.
func (q *Deliveries) FanOut(ctx context.Context, limit int, now time.Time) (int, error) {
	now = domain.Timestamp(now)
	// Most steps find nothing new: a read says so without a write
	// transaction (and its commit) on every replica four times a second.
	beyond := `SELECT count(*) FROM (SELECT 1 FROM events AS e, webhook_fanout AS f
		WHERE (e.xid, e.position) > (f.xid, f.position) AND e.xid < pg_snapshot_xmin(pg_current_snapshot()) LIMIT 1) AS n`
	if q.db.sqlite {
		beyond = "SELECT count(*) FROM (SELECT 1 FROM events AS e, webhook_fanout AS f WHERE e.position > f.position LIMIT 1) AS n"
	}
	var any int
	if err := q.db.read.NewRaw(beyond).Scan(ctx, &any); err != nil || any == 0 {
		return 0, err
	}
	var read int
	err := q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var page []feedRow
		if q.db.sqlite {
			var position int64
			if err := tx.NewRaw("SELECT position FROM webhook_fanout WHERE id = 1").Scan(ctx, &position); err != nil {
				return fmt.Errorf("read the fan-out's place: %w", err)
			}
			err := tx.NewRaw("SELECT id, type, account_id, occurred_at, '' AS xid, position FROM events WHERE position > ? ORDER BY position LIMIT ?",
				position, limit).Scan(ctx, &page)
			if err != nil {
				return fmt.Errorf("read the feed: %w", err)
			}
		} else {
			var place []struct {
				XID      string `bun:"xid"`
				Position int64  `bun:"position"`
			}
			if err := tx.NewRaw("SELECT xid::text AS xid, position FROM webhook_fanout WHERE id = 1 FOR UPDATE SKIP LOCKED").Scan(ctx, &place); err != nil {
				return fmt.Errorf("read the fan-out's place: %w", err)
			}
			if len(place) == 0 {
				return nil // another replica is fanning out
			}
			err := tx.NewRaw(`SELECT id, type, account_id, occurred_at, xid::text AS xid, position FROM events
				WHERE (xid, position) > (?::text::xid8, ?) AND xid < pg_snapshot_xmin(pg_current_snapshot())
				ORDER BY events.xid, events.position LIMIT ?`, place[0].XID, place[0].Position, limit).Scan(ctx, &page)
			if err != nil {
				return fmt.Errorf("read the feed: %w", err)
			}
		}
		if read = len(page); read == 0 {
			return nil
		}
		if err := q.schedule(ctx, tx, page, now); err != nil {
			return err
		}
		last := page[len(page)-1]
		if q.db.sqlite {
			_, err := tx.NewRaw("UPDATE webhook_fanout SET position = ? WHERE id = 1", last.Position).Exec(ctx)
			return err
		}
		_, err := tx.NewRaw("UPDATE webhook_fanout SET xid = ?::text::xid8, position = ? WHERE id = 1", last.XID, last.Position).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fan out events: %w", err)
	}
	return read, nil
}

// schedule makes a first attempt, due now, of each event of page for each
// live endpoint of its account that wants it.
func (q *Deliveries) schedule(ctx context.Context, tx bun.Tx, page []feedRow, now time.Time) error {
	accounts := map[uuid.UUID]bool{}
	for _, e := range page {
		accounts[e.AccountID] = true
	}
	ids := make([]uuid.UUID, 0, len(accounts))
	for a := range accounts {
		ids = append(ids, a)
	}
	var rows []webhookRow
	err := tx.NewRaw("SELECT "+webhookColumns+" FROM webhooks WHERE account_id IN (?) AND deleted_at IS NULL AND status = 'enabled'",
		bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("read the endpoints: %w", err)
	}
	byAccount := map[uuid.UUID][]*webhook.Webhook{}
	for i := range rows {
		w, _ := webhookFromRow(&rows[i])
		byAccount[rows[i].AccountID] = append(byAccount[rows[i].AccountID], w)
	}
	var due []deliveryRow
	for _, e := range page {
		for _, w := range byAccount[e.AccountID] {
			if w.Wants(event.Type(e.Type), e.OccurredAt) {
				due = append(due, firstAttempt(w.ID(), e.ID, e.Type, now))
			}
		}
	}
	return insertDeliveries(ctx, tx, due)
}

func firstAttempt(w id.WebhookID, eventID uuid.UUID, eventType string, now time.Time) deliveryRow {
	return deliveryRow{
		ID: toUUID(id.New[id.Delivery]()), WebhookID: toUUID(w), EventID: eventID, EventType: eventType,
		Attempt: 1, Status: string(webhook.Pending), DueAt: now, CreatedAt: now,
	}
}

func insertDeliveries(ctx context.Context, tx bun.Tx, rows []deliveryRow) error {
	for len(rows) > 0 {
		batch := rows[:min(len(rows), eventBatch)]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("schedule deliveries: %w", err)
		}
		rows = rows[len(batch):]
	}
	return nil
}

func (q *Deliveries) Replay(ctx context.Context, w *webhook.Webhook, r ports.Replay, now time.Time) error {
	now = domain.Timestamp(now)
	err := q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if r.EventID.IsZero() {
			_, err := tx.NewRaw("INSERT INTO webhook_replays (id, webhook_id, account_id, after_at, after_id, until_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				uuid.Must(uuid.NewV7()), toUUID(w.ID()), toUUID(w.AccountID()), domain.Timestamp(r.Since), uuid.UUID{}, domain.Timestamp(r.Until), now).Exec(ctx)
			return err
		}
		var found []feedRow
		err := tx.NewRaw("SELECT id, type, account_id, occurred_at, '' AS xid, 0 AS position FROM events WHERE id = ? AND account_id = ?",
			toUUID(r.EventID), toUUID(w.AccountID())).Scan(ctx, &found)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return event.ErrUnknownPosition
		}
		return insertDeliveries(ctx, tx, []deliveryRow{firstAttempt(w.ID(), found[0].ID, found[0].Type, now)})
	})
	if err != nil && !errors.Is(err, event.ErrUnknownPosition) {
		return fmt.Errorf("replay: %w", err)
	}
	return err
}

type replayRow struct {
	ID        uuid.UUID `bun:"id,type:uuid"`
	WebhookID uuid.UUID `bun:"webhook_id,type:uuid"`
	AccountID uuid.UUID `bun:"account_id,type:uuid"`
	AfterAt   time.Time `bun:"after_at"`
	AfterID   uuid.UUID `bun:"after_id,type:uuid"`
	UntilAt   time.Time `bun:"until_at"`
}

// replaysAtOnce bounds the replays one step moves on.
const replaysAtOnce = 10

// ReplayStep walks each replay through its account's events by
// (occurred_at, id), which events_account_occurred_idx serves, a batch at a
// time, and only while its endpoint's backlog is short: a replay of months
// never puts months of attempts in the queue at once.
func (q *Deliveries) ReplayStep(ctx context.Context, limit, backlog int, now time.Time) (int, error) {
	now = domain.Timestamp(now)
	var replays int
	if err := q.db.read.NewRaw("SELECT count(*) FROM (SELECT 1 FROM webhook_replays LIMIT 1) AS r").Scan(ctx, &replays); err != nil || replays == 0 {
		return 0, err
	}
	var scheduled int
	err := q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var replays []replayRow
		err := tx.NewRaw("SELECT id, webhook_id, account_id, after_at, after_id, until_at FROM webhook_replays ORDER BY created_at LIMIT ?"+q.skipLocked(),
			replaysAtOnce).Scan(ctx, &replays)
		if err != nil {
			return err
		}
		for _, rp := range replays {
			n, err := q.replayBatch(ctx, tx, rp, limit, backlog, now)
			if err != nil {
				return err
			}
			scheduled += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay events: %w", err)
	}
	return scheduled, nil
}

func (q *Deliveries) replayBatch(ctx context.Context, tx bun.Tx, rp replayRow, limit, backlog int, now time.Time) (int, error) {
	var hooks []webhookRow
	if err := tx.NewRaw("SELECT "+webhookColumns+" FROM webhooks WHERE id = ? AND deleted_at IS NULL", rp.WebhookID).Scan(ctx, &hooks); err != nil {
		return 0, err
	}
	if len(hooks) == 0 {
		_, err := tx.NewRaw("DELETE FROM webhook_replays WHERE id = ?", rp.ID).Exec(ctx)
		return 0, err
	}
	var pending int
	err := tx.NewRaw("SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' LIMIT ?) AS p",
		rp.WebhookID, backlog).Scan(ctx, &pending)
	if err != nil || pending >= backlog {
		return 0, err
	}
	var page []feedRow
	err = tx.NewRaw(`SELECT id, type, account_id, occurred_at, '' AS xid, 0 AS position FROM events
		WHERE account_id = ? AND (occurred_at, id) > (?, ?) AND occurred_at <= ? ORDER BY occurred_at, id LIMIT ?`,
		rp.AccountID, rp.AfterAt, rp.AfterID, rp.UntilAt, limit).Scan(ctx, &page)
	if err != nil {
		return 0, err
	}
	w, _ := webhookFromRow(&hooks[0])
	var due []deliveryRow
	for _, e := range page {
		if w.EventTypes().Match(event.Type(e.Type)) {
			due = append(due, firstAttempt(w.ID(), e.ID, e.Type, now))
		}
	}
	if err := insertDeliveries(ctx, tx, due); err != nil {
		return 0, err
	}
	if len(page) < limit {
		_, err = tx.NewRaw("DELETE FROM webhook_replays WHERE id = ?", rp.ID).Exec(ctx)
	} else {
		last := page[len(page)-1]
		_, err = tx.NewRaw("UPDATE webhook_replays SET after_at = ?, after_id = ? WHERE id = ?", last.OccurredAt, last.ID, rp.ID).Exec(ctx)
	}
	return len(due), err
}

// dueWhere is an attempt that is due at now and that no replica holds,
// of an endpoint that is live and enabled.
const dueWhere = `d.status = 'pending' AND d.due_at <= ? AND (d.leased_until IS NULL OR d.leased_until < ?)
	AND EXISTS (SELECT 1 FROM webhooks AS w WHERE w.id = d.webhook_id AND w.status = 'enabled' AND w.deleted_at IS NULL)`

// Due starts from the endpoints, not the attempts: for each live endpoint,
// its most overdue attempt, the first of webhook_deliveries_due_idx that no
// replica holds, where grouping the attempts due would read every one of
// them, and a backlog of thousands would be read again for each attempt
// made. The most overdue endpoints come first, so that none waits for ever
// behind the limit.
func (q *Deliveries) Due(ctx context.Context, now time.Time, limit int) ([]id.WebhookID, error) {
	now = domain.Timestamp(now)
	var ids []uuid.UUID
	err := q.db.read.NewRaw(`SELECT id FROM (
			SELECT w.id, (SELECT min(d.due_at) FROM webhook_deliveries AS d WHERE d.webhook_id = w.id AND d.status = 'pending'
				AND d.due_at <= ? AND (d.leased_until IS NULL OR d.leased_until < ?)) AS first_due
			FROM webhooks AS w WHERE w.status = 'enabled' AND w.deleted_at IS NULL) AS e
		WHERE first_due IS NOT NULL ORDER BY first_due LIMIT ?`, now, now, limit).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", err)
	}
	out := make([]id.WebhookID, len(ids))
	for i, u := range ids {
		out[i] = fromUUID[id.Webhook](u)
	}
	return out, nil
}

func (q *Deliveries) Claim(ctx context.Context, w id.WebhookID, now, leaseUntil time.Time, n int) ([]*ports.Claimed, error) {
	token := uuid.New()
	now, leaseUntil = domain.Timestamp(now), domain.Timestamp(leaseUntil)
	pick := "SELECT d.id FROM webhook_deliveries AS d WHERE d.webhook_id = ? AND " + dueWhere + " ORDER BY d.due_at LIMIT ?" + q.skipLocked()
	picked := "id = ANY(ARRAY(" + pick + "))"
	if q.db.sqlite {
		picked = "id IN (" + pick + ")"
	}
	var rows []deliveryRow
	var hook *webhook.Webhook
	var events map[uuid.UUID]*ports.Recorded
	err := q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw("UPDATE webhook_deliveries SET lease_token = ?, leased_until = ? WHERE "+picked+" RETURNING "+deliveryColumns,
			token, leaseUntil, toUUID(w), now, now, n).Scan(ctx, &rows)
		if err != nil || len(rows) == 0 {
			return err
		}
		var hooks []webhookRow
		if err := tx.NewRaw("SELECT "+webhookColumns+" FROM webhooks WHERE id = ?", toUUID(w)).Scan(ctx, &hooks); err != nil || len(hooks) == 0 {
			return errors.Join(err, webhook.ErrNotFound)
		}
		hook, _ = webhookFromRow(&hooks[0])
		ids := make([]uuid.UUID, len(rows))
		for i := range rows {
			ids[i] = rows[i].EventID
		}
		var found []eventRow
		if err := tx.NewRaw("SELECT "+eventColumns+" FROM events WHERE id IN (?)", bun.List(ids)).Scan(ctx, &found); err != nil {
			return err
		}
		events = make(map[uuid.UUID]*ports.Recorded, len(found))
		for i := range found {
			events[found[i].ID], _ = eventFromRow(&found[i])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out := make([]*ports.Claimed, len(rows))
	for i := range rows {
		out[i] = &ports.Claimed{Delivery: deliveryFromRow(&rows[i]), LeaseToken: token.String(), Webhook: hook, Event: events[rows[i].EventID]}
	}
	return out, nil
}

// Complete writes the outcome only while the lease is still this
// replica's, and in the same transaction lets the endpoint note it
// (webhook.RecordAttempt), which may disable it. A success of an endpoint
// that was not failing changes nothing of it, so it does not lock it.
func (q *Deliveries) Complete(ctx context.Context, a ports.Attempted) (bool, error) {
	c, o := a.Claimed, a.Outcome
	status := webhook.Failed
	if o.Succeeded() {
		status = webhook.Succeeded
	}
	token, err := uuid.Parse(c.LeaseToken)
	if err != nil {
		return false, fmt.Errorf("complete a delivery: lease token: %w", err)
	}
	var kept bool
	err = q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE webhook_deliveries SET status = ?, response_status = ?, error = ?, duration_ms = ?, lease_token = NULL, leased_until = NULL
			WHERE id = ? AND lease_token = ? AND status = 'pending'`,
			string(status), sql.NullInt64{Int64: int64(o.ResponseStatus), Valid: o.ResponseStatus != 0},
			sql.NullString{String: o.Error, Valid: o.Error != ""}, o.Duration.Milliseconds(), toUUID(c.Delivery.ID), token).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		kept = true
		if a.NotSent {
			return nil
		}
		if o.Succeeded() {
			// A success forgets the failures (webhook.RecordAttempt), which
			// another attempt may have noted since this one was claimed: the
			// row decides, and is locked only when there is something to
			// forget. Bookkeeping: no event.
			_, err := tx.NewRaw("UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
				toUUID(c.Delivery.WebhookID)).Exec(ctx)
			return err
		}
		// The endpoint first: inserting the next attempt takes a key-share
		// lock of its row (the foreign key), and two completions that each
		// held one while waiting to lock the row for update would deadlock.
		_, err = updateLocked(ctx, q.db, "webhook", liveWebhook(c.Delivery.WebhookID), webhook.ErrNotFound, webhookFromRow, webhookToRow, webhook.Changed,
			func(w *webhook.Webhook) error { w.RecordAttempt(o, a.At); return nil },
			"status", "disabled_reason", "failing_since", "updated_at")
		if errors.Is(err, webhook.ErrNotFound) {
			return nil // deleted meanwhile: nothing more to schedule
		}
		if err != nil {
			return err
		}
		if a.Next.IsZero() {
			return nil
		}
		d := c.Delivery
		next := deliveryRow{
			ID: toUUID(id.New[id.Delivery]()), WebhookID: toUUID(d.WebhookID), EventID: toUUID(d.EventID), EventType: string(d.EventType),
			Attempt: d.Attempt + 1, Status: string(webhook.Pending), DueAt: domain.Timestamp(a.Next), CreatedAt: domain.Timestamp(a.At),
		}
		return insertDeliveries(ctx, tx, []deliveryRow{next})
	})
	if err != nil {
		return false, fmt.Errorf("complete a delivery: %w", err)
	}
	return kept, nil
}

func (q *Deliveries) List(ctx context.Context, w id.WebhookID, req paging.Request) (paging.Result[*webhook.Delivery], error) {
	l := listing{table: "webhook_deliveries", columns: deliveryColumns, sortBy: ports.DeliverySchema.Spec,
		where: []condition{cond("webhook_id = ?", toUUID(w))}}
	return list(ctx, q.db, l, req, func(r *deliveryRow) (*webhook.Delivery, error) {
		d := deliveryFromRow(r)
		return &d, nil
	})
}

func (q *Deliveries) Pending(ctx context.Context) (map[id.WebhookID]time.Time, error) {
	oldest := "min(event_id::text)"
	if q.db.sqlite {
		oldest = "min(event_id)"
	}
	var rows []struct {
		WebhookID uuid.UUID `bun:"webhook_id,type:uuid"`
		EventID   string    `bun:"event_id"`
	}
	err := q.db.read.NewRaw("SELECT webhook_id, "+oldest+` AS event_id FROM webhook_deliveries
		WHERE status = 'pending' AND webhook_id IN (SELECT id FROM webhooks WHERE deleted_at IS NULL) GROUP BY webhook_id`).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read pending deliveries: %w", err)
	}
	out := make(map[id.WebhookID]time.Time, len(rows))
	for _, r := range rows {
		if u, err := uuid.Parse(r.EventID); err == nil {
			out[fromUUID[id.Webhook](r.WebhookID)] = fromUUID[id.Event](u).Time()
		}
	}
	return out, nil
}

func (q *Deliveries) Purge(ctx context.Context, before time.Time) (int, error) {
	cutoff := toUUID(id.FirstAt[id.Delivery](before))
	n, err := q.db.deleteInBatches(ctx, "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE id < ? LIMIT ?"+q.skipLocked()+")", cutoff)
	if err != nil {
		return n, fmt.Errorf("purge deliveries: %w", err)
	}
	return n, nil
}

type deliveryRow struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID             uuid.UUID      `bun:"id,pk,type:uuid"`
	WebhookID      uuid.UUID      `bun:"webhook_id,type:uuid"`
	EventID        uuid.UUID      `bun:"event_id,type:uuid"`
	EventType      string         `bun:"event_type"`
	Attempt        int            `bun:"attempt"`
	Status         string         `bun:"status"`
	DueAt          time.Time      `bun:"due_at"`
	ResponseStatus sql.NullInt64  `bun:"response_status"`
	Error          sql.NullString `bun:"error"`
	DurationMS     sql.NullInt64  `bun:"duration_ms"`
	CreatedAt      time.Time      `bun:"created_at"`
}

// deliveryColumns leave out the lease, which only the queue's own
// statements read and write.
const deliveryColumns = "id, webhook_id, event_id, event_type, attempt, status, due_at, response_status, error, duration_ms, created_at"

func (r *deliveryRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.WebhookID), uuidField(&r.EventID), &r.EventType, &r.Attempt, &r.Status, &r.DueAt,
		&r.ResponseStatus, &r.Error, &r.DurationMS, &r.CreatedAt}
}

func deliveryFromRow(r *deliveryRow) webhook.Delivery {
	return webhook.Delivery{
		ID: fromUUID[id.Delivery](r.ID), WebhookID: fromUUID[id.Webhook](r.WebhookID), EventID: fromUUID[id.Event](r.EventID),
		EventType: event.Type(r.EventType), Attempt: r.Attempt, Status: webhook.DeliveryStatus(r.Status),
		Outcome: webhook.Outcome{
			ResponseStatus: int(r.ResponseStatus.Int64), Error: r.Error.String, Duration: time.Duration(r.DurationMS.Int64) * time.Millisecond,
		},
		DueAt: r.DueAt.UTC(), CreatedAt: r.CreatedAt.UTC(),
	}
}
