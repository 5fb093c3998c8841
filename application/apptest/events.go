package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// The fakes' outbox, as the store's (adapters/store/outbox.go): every write
// records its events in its transaction, and the subscribers run there.

func init() { fakes = append(fakes, func(m *Memory) any { return m.Events() }) }

// EncodeEventsWith sets how events' data is written; until it is called,
// the data is only the subject's ID, which is all the fakes' own tests need.
func (m *Memory) EncodeEventsWith(encode ports.EventEncoder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.encode = encode
}

func encodeSubject(e event.Event) ([]byte, error) {
	return json.Marshal(map[string]string{"subject": e.Subject.ID})
}

// subscribers is copied on write, so that a subscriber may unsubscribe,
// or subscribe another, while the events it hears are handled.
type subscribers struct {
	mu   sync.Mutex
	list []*ports.Subscriber
}

func (m *Memory) Outbox() ports.Outbox { return (*memOutbox)(m) }

type memOutbox Memory

func (o *memOutbox) Subscribe(s ports.Subscriber) (unsubscribe func()) {
	subs := &o.outbox
	subs.mu.Lock()
	defer subs.mu.Unlock()
	sub := &s
	subs.list = append(slices.Clone(subs.list), sub)
	return func() {
		subs.mu.Lock()
		defer subs.mu.Unlock()
		subs.list = slices.DeleteFunc(slices.Clone(subs.list), func(x *ports.Subscriber) bool { return x == sub })
	}
}

func (s *subscribers) current() []*ports.Subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list
}

type eventTable struct{ rows []ports.Recorded }

// events is the outbox's table; the caller holds the lock.
func (m *Memory) events() *eventTable { return table[eventTable](m, "events") }

// record writes events in tx, each with a new ID and the actor of ctx,
// then lets the subscribers react to each, in tx too.
func (tx *memTx) record(ctx context.Context, events ...event.Event) error {
	m := tx.m
	encode := m.encode
	if encode == nil {
		encode = encodeSubject
	}
	actor := event.ActorOf(ctx)
	for i := range events {
		e := &events[i]
		e.ID, e.Actor = id.New[id.Event](), actor
		data, err := encode(*e)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", e.Type, err)
		}
		add(tx, &m.events().rows, ports.Recorded{
			ID: e.ID, Type: e.Type, AccountID: e.AccountID, OccurredAt: e.OccurredAt,
			Actor: e.Actor, Subject: e.Subject, Data: data,
		})
	}
	for _, e := range events {
		for _, s := range m.outbox.current() {
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

func (m *Memory) Events() ports.EventRepository { return (*memEvents)(m) }

type memEvents Memory

// matching is the events of rows that f keeps, in their order, as copies
// that the caller may keep.
func matching(rows []ports.Recorded, f ports.EventFilter) []*ports.Recorded {
	var out []*ports.Recorded
	for _, e := range rows {
		if (f.AccountID.IsZero() || e.AccountID == f.AccountID) &&
			(f.Type == "" || e.Type.Matches(f.Type)) &&
			(f.SubjectID == "" || e.Subject.ID == f.SubjectID) &&
			(f.ActorID == "" || e.Actor.ID == f.ActorID) {
			e.Data = bytes.Clone(e.Data)
			out = append(out, &e)
		}
	}
	return out
}

func (r *memEvents) List(ctx context.Context, f ports.EventFilter, req paging.Request) (paging.Result[*ports.Recorded], error) {
	defer (*Memory)(r).lock(ctx)()
	return Page(matching((*Memory)(r).events().rows, f), req, ports.EventSchema), nil
}

// Feed serves the events in the order they were recorded: the lock makes
// that the order of commits, so every place in it is final.
func (r *memEvents) Feed(ctx context.Context, f ports.EventFilter, after id.EventID, limit int) ([]*ports.Recorded, error) {
	defer (*Memory)(r).lock(ctx)()
	rows := (*Memory)(r).events().rows
	start := 0
	if !after.IsZero() {
		i := slices.IndexFunc(rows, func(e ports.Recorded) bool {
			return e.ID == after && (f.AccountID.IsZero() || e.AccountID == f.AccountID)
		})
		if i < 0 {
			return nil, event.ErrUnknownPosition
		}
		start = i + 1
	}
	events := matching(rows[start:], f)
	return events[:min(limit, len(events))], nil
}

// Purge goes by the IDs' millisecond, as the store's, which compares IDs.
func (r *memEvents) Purge(ctx context.Context, before time.Time) (int, error) {
	cutoff := id.FirstAt[id.Event](before).Time()
	n := 0
	err := (*Memory)(r).write(ctx, func(ctx context.Context, tx *memTx) error {
		deleteWhere(tx, &(*Memory)(r).events().rows, func(e ports.Recorded) bool {
			gone := e.ID.Time().Before(cutoff)
			if gone {
				n++
			}
			return gone
		})
		return nil
	})
	return n, err
}
