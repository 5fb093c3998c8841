// Package apptest holds in-memory fakes of the driven ports, for application
// and HTTP adapter tests. They pass the same repository contract suite as
// the real stores (ports/portstest), so tests built on them can be trusted.
// Each aggregate's fake lives in a file of its own, with its table.
package apptest

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Memory is one in-memory database behind every fake repository. One mutex
// serialises everything, which makes each call a transaction (see write).
type Memory struct {
	mu      sync.Mutex
	tables  map[string]any
	secrets map[string][]byte
	encode  ports.EventEncoder
	outbox  subscribers
}

func NewMemory() *Memory { return &Memory{tables: map[string]any{}, secrets: map[string][]byte{}} }

// table returns the rows of one aggregate's fake, made on first use; the
// caller holds m.mu.
func table[T any](m *Memory, name string) *T {
	t, ok := m.tables[name].(*T)
	if !ok {
		t = new(T)
		m.tables[name] = t
	}
	return t
}

// fakes are the constructors of every fake repository; each aggregate's
// file adds its own, so that Repositories needs no list.
var fakes []func(*Memory) any

// Repositories returns every fake repository on m, for the contract suite.
func (m *Memory) Repositories() []any {
	repos := []any{m.Secrets(), m.Outbox()}
	for _, f := range fakes {
		repos = append(repos, f(m))
	}
	return repos
}

func (m *Memory) Secrets() ports.SecretStore { return (*memSecrets)(m) }

type txKey struct{}

// memTx is a write transaction of one Memory in progress, carried in its
// context: the calls that its subscribers make with that context join it
// rather than wait for the lock it holds.
type memTx struct {
	m *Memory
	// undo holds a closure per write that puts back what it replaced.
	undo []func()
}

func (m *Memory) txOf(ctx context.Context) *memTx {
	if tx, ok := ctx.Value(txKey{}).(*memTx); ok && tx.m == m {
		return tx
	}
	return nil
}

// write runs fn as a transaction, as the store's inTx: in the one ctx
// carries, or else under m's lock in a new one. When fn fails, its writes
// are undone, newest first; in a joined transaction only its own, as a
// savepoint would, and the caller's error decides about the rest.
func (m *Memory) write(ctx context.Context, fn func(ctx context.Context, tx *memTx) error) error {
	tx := m.txOf(ctx)
	if tx == nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		tx = &memTx{m: m}
		ctx = context.WithValue(ctx, txKey{}, tx)
	}
	mark := len(tx.undo)
	if err := fn(ctx, tx); err != nil {
		for _, undo := range slices.Backward(tx.undo[mark:]) {
			undo()
		}
		tx.undo = tx.undo[:mark]
		return err
	}
	return nil
}

// lock takes m's lock for a read, unless ctx carries a transaction of m,
// which holds it already; defer the unlock it returns.
func (m *Memory) lock(ctx context.Context) (unlock func()) {
	if m.txOf(ctx) != nil {
		return func() {}
	}
	m.mu.Lock()
	return m.mu.Unlock
}

// add appends v to *rows in tx.
func add[T any](tx *memTx, rows *[]T, v T) {
	n := len(*rows)
	*rows = append(*rows, v)
	tx.undo = append(tx.undo, func() { *rows = (*rows)[:n] })
}

// set replaces (*rows)[i] with v in tx.
func set[T any](tx *memTx, rows *[]T, i int, v T) {
	old := (*rows)[i]
	(*rows)[i] = v
	tx.undo = append(tx.undo, func() { (*rows)[i] = old })
}

// deleteWhere deletes the rows that match in tx. It deletes from a copy,
// which the undo needs intact.
func deleteWhere[T any](tx *memTx, rows *[]T, match func(T) bool) {
	old := *rows
	*rows = slices.DeleteFunc(slices.Clone(old), match)
	tx.undo = append(tx.undo, func() { *rows = old })
}

// saveIfChanged writes after over (*rows)[i], and records the event changed
// makes, unless nothing changed, as the store's saveIfChanged does; an
// event without a type is none (a change of bookkeeping only).
func saveIfChanged[T any](ctx context.Context, tx *memTx, rows *[]T, i int, after T, changed func() event.Event) error {
	if reflect.DeepEqual((*rows)[i], after) {
		return nil
	}
	set(tx, rows, i, after)
	if e := changed(); e.Type != "" {
		return tx.record(ctx, e)
	}
	return nil
}

// update is the store's updateLocked: find the row that matches (none is
// notFound), let fn change its aggregate, and save it with the event
// changed names for it. rows is called in the transaction.
func update[S any, A interface{ Snapshot() S }](ctx context.Context, m *Memory, rows func() *[]S, match func(S) bool, notFound error,
	rehydrate func(S) A, changed func(before, after A) event.Event, fn func(A) error,
) (A, error) {
	var out A
	err := m.write(ctx, func(ctx context.Context, tx *memTx) error {
		t := rows()
		i := slices.IndexFunc(*t, match)
		if i < 0 {
			return notFound
		}
		before, agg := rehydrate((*t)[i]), rehydrate((*t)[i])
		if err := fn(agg); err != nil {
			return err
		}
		out = agg
		return saveIfChanged(ctx, tx, t, i, agg.Snapshot(), func() event.Event { return changed(before, agg) })
	})
	if err != nil {
		var zero A
		return zero, err
	}
	return out, nil
}

// Ping always answers; Memory is always there.
func (m *Memory) Ping(context.Context) error { return nil }

// Page cuts one page out of items the way a keyset query does; it is the
// reference behaviour of paging.Request.
func Page[T any](items []T, req paging.Request, schema *paging.Schema[T]) paging.Result[T] {
	cmpTo := func(x T) int { return req.Sort.Compare(schema.Position(x, req.Sort), req.After) }
	slices.SortStableFunc(items, func(a, b T) int {
		return req.Sort.Compare(schema.Position(a, req.Sort), schema.Position(b, req.Sort))
	})
	if req.After != nil {
		items = slices.DeleteFunc(items, func(x T) bool {
			c := cmpTo(x)
			switch {
			case c == 0:
				return !req.Inclusive
			case req.Backward:
				return c > 0
			default:
				return c < 0
			}
		})
	}
	if req.After != nil && req.Within > 0 && !req.Backward && !req.Inclusive {
		// Rows that tie the position on more keys than Within allows are
		// not looked at: the hint said there are none.
		items = slices.DeleteFunc(items, func(x T) bool {
			return paging.Within(req.After, schema.Position(x, req.Sort)) > req.Within
		})
	}
	res := paging.Result[T]{More: len(items) > req.Limit}
	switch {
	case res.More && req.Backward:
		items = items[len(items)-req.Limit:]
	case res.More:
		res.Peek = items[req.Limit]
		items = items[:req.Limit]
	}
	res.Items = items
	return res
}

type memSecrets Memory

func (s *memSecrets) Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error) {
	defer (*Memory)(s).lock(ctx)()
	if v, ok := s.secrets[name]; ok {
		return bytes.Clone(v), nil
	}
	v := generate()
	s.secrets[name] = bytes.Clone(v)
	return v, nil
}
