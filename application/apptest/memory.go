// Package apptest holds in-memory fakes of the driven ports, for application
// and HTTP adapter tests. They pass the same repository contract suite as
// the real stores (ports/portstest), so tests built on them can be trusted.
// Each aggregate's fake lives in a file of its own, with its table.
package apptest

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Memory is one in-memory database behind every fake repository. One mutex
// serialises everything, which makes each call a transaction.
type Memory struct {
	mu      sync.Mutex
	tables  map[string]any
	secrets map[string][]byte
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
	repos := []any{m.Secrets()}
	for _, f := range fakes {
		repos = append(repos, f(m))
	}
	return repos
}

func (m *Memory) Secrets() ports.SecretStore { return (*memSecrets)(m) }

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

func (s *memSecrets) Secret(_ context.Context, name string, generate func() []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.secrets[name]; ok {
		return bytes.Clone(v), nil
	}
	v := generate()
	s.secrets[name] = bytes.Clone(v)
	return v, nil
}
