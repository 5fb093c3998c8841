package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// The transactional outbox: every write runs in a transaction (inTx) and
// records its events in the events table within it (record), so that a
// change commits with its events or neither commits. The subscribers of an
// event run right there, in the same transaction; their writes join it.

// Outbox is how the events are written, and who hears of them.
type Outbox struct {
	encode      ports.EventEncoder
	mu          sync.Mutex
	subscribers atomic.Pointer[[]*ports.Subscriber]
}

var _ ports.Outbox = (*Outbox)(nil)

// Outbox is where the slices subscribe to the events of every write.
func (s *Store) Outbox() *Outbox { return &s.db.outbox }

// EncodeWith sets how events are written; it is called once, before the
// first write.
func (o *Outbox) EncodeWith(encode ports.EventEncoder) { o.encode = encode }

// encoder is the one set, or else one that writes the subject alone (the
// service always sets the API's; the store's own tests need none).
func (o *Outbox) encoder() ports.EventEncoder {
	if o.encode != nil {
		return o.encode
	}
	return func(e event.Event) ([]byte, error) { return json.Marshal(map[string]string{"id": e.Subject.ID}) }
}

func (o *Outbox) Subscribe(s ports.Subscriber) (unsubscribe func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sub := &s
	added := append(slices.Clone(o.current()), sub)
	o.subscribers.Store(&added)
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		left := slices.DeleteFunc(slices.Clone(o.current()), func(x *ports.Subscriber) bool { return x == sub })
		o.subscribers.Store(&left)
	}
}

func (o *Outbox) current() []*ports.Subscriber {
	if p := o.subscribers.Load(); p != nil {
		return *p
	}
	return nil
}

type txKey struct{}

// txState is a write transaction in progress, carried in its context.
type txState struct {
	tx       bun.Tx
	recorded []event.Event
}

// inTx runs fn in the write transaction ctx carries, or else in a new one
// whose events this replica's caches hear of as soon as it commits (other
// replicas hear through PostgreSQL, see Listen). A subscriber's writes so
// join the transaction of the change it reacts to; on SQLite, whose writes
// share one connection, a second transaction would wait for ever.
func (d *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx, st.tx)
	}
	st := new(txState)
	err := d.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st.tx = tx
		return fn(context.WithValue(ctx, txKey{}, st), tx)
	})
	if err == nil {
		d.changes.committed(st.recorded)
	}
	return err
}

// eventBatch bounds the rows of one insert: PostgreSQL takes at most 65,535
// parameters a statement, and a bulk revocation records an event a session.
const eventBatch = 500

// record writes events in the transaction of ctx (see inTx), each with a
// new ID and the actor of ctx, then lets the subscribers react to each.
func (d *DB) record(ctx context.Context, events ...event.Event) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return fmt.Errorf("record %d events outside a transaction", len(events))
	}
	actor := event.ActorOf(ctx)
	rows := make([]eventRow, 0, min(len(events), eventBatch))
	for i := range events {
		e := &events[i]
		e.ID, e.Actor = id.New[id.Event](), actor
		data, err := d.outbox.encoder()(*e)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", e.Type, err)
		}
		rows = append(rows, eventToRow(e, data))
		if len(rows) == eventBatch || i == len(events)-1 {
			if _, err := st.tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return fmt.Errorf("record events: %w", err)
			}
			rows = rows[:0]
		}
	}
	st.recorded = append(st.recorded, events...)
	for _, e := range events {
		for _, s := range d.outbox.current() {
			if !s.Wants(e.Type) {
				continue
			}
			if err := s.Handle(ctx, e); err != nil {
				return fmt.Errorf("%s, on %s: %w", s.Name, e.Type, err)
			}
		}
	}
	return nil
}

type eventRow struct {
	bun.BaseModel `bun:"table:events"`

	ID          uuid.UUID      `bun:"id,pk,type:uuid"`
	Type        string         `bun:"type"`
	AccountID   uuid.UUID      `bun:"account_id,type:uuid"`
	OccurredAt  time.Time      `bun:"occurred_at"`
	ActorType   string         `bun:"actor_type"`
	ActorID     sql.NullString `bun:"actor_id"`
	SubjectType string         `bun:"subject_type"`
	SubjectID   string         `bun:"subject_id"`
	Data        string         `bun:"data"`
	// ChangesAccess is what the events' trigger notifies replicas of.
	ChangesAccess bool `bun:"changes_access"`
}

func eventToRow(e *event.Event, data []byte) eventRow {
	return eventRow{
		ID:            toUUID(e.ID),
		Type:          string(e.Type),
		AccountID:     toUUID(e.AccountID),
		OccurredAt:    e.OccurredAt,
		ActorType:     string(e.Actor.Kind),
		ActorID:       sql.NullString{String: e.Actor.ID, Valid: e.Actor.ID != ""},
		SubjectType:   e.Subject.Resource,
		SubjectID:     e.Subject.ID,
		Data:          string(data),
		ChangesAccess: e.ChangesAccess,
	}
}

func eventFromRow(r *eventRow) (*ports.Recorded, error) {
	return &ports.Recorded{
		ID:         fromUUID[id.Event](r.ID),
		Type:       event.Type(r.Type),
		AccountID:  fromUUID[id.Account](r.AccountID),
		OccurredAt: r.OccurredAt,
		Actor:      event.Actor{Kind: event.ActorKind(r.ActorType), ID: r.ActorID.String},
		Subject:    event.Subject{Resource: r.SubjectType, ID: r.SubjectID},
		Data:       []byte(r.Data),
	}, nil
}

const eventColumns = "id, type, account_id, occurred_at, actor_type, actor_id, subject_type, subject_id, data, changes_access"

func (r *eventRow) fields() []any {
	return []any{uuidField(&r.ID), &r.Type, uuidField(&r.AccountID), &r.OccurredAt, &r.ActorType, &r.ActorID, &r.SubjectType, &r.SubjectID, &r.Data, &r.ChangesAccess}
}
