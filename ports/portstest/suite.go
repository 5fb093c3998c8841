// Package portstest is the contract suite of the driven ports. Every
// implementation (the bun store, the in-memory fakes) runs it, so they all
// behave alike: the order of lists, the visibility of soft-deleted rows, and
// the safety of concurrent writes. Each aggregate's cases live in a file of
// their own and register themselves.
package portstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// Env is one store's repositories. Each aggregate's file gives Env an
// accessor for its repository, so that Env needs no list of them.
type Env struct {
	repos []any
}

// NewEnv gathers a store's repositories.
func NewEnv(repos ...any) Env { return Env{repos: repos} }

// repository finds the repository of type R; a store that lacks one is a
// broken test setup.
func repository[R any](e Env) R {
	for _, r := range e.repos {
		if r, ok := r.(R); ok {
			return r
		}
	}
	var zero R
	panic(fmt.Sprintf("portstest: the store gives no %T", &zero))
}

func (e Env) Secrets() ports.SecretStore { return repository[ports.SecretStore](e) }

// Stores give a case repositories: Shared on a store other tests use too
// (tests isolate themselves by creating their own accounts), Fresh on an
// empty store, for what is global (bootstrap).
type Stores struct {
	Shared, Fresh func(t *testing.T) Env
}

type suiteCase struct {
	name string
	run  func(t *testing.T, s Stores)
}

var cases []suiteCase

// register adds the cases of one aggregate to the suite.
func register(name string, run func(t *testing.T, s Stores)) {
	cases = append(cases, suiteCase{name: name, run: run})
}

// Run runs the whole suite.
func Run(t *testing.T, shared, fresh func(t *testing.T) Env) {
	s := Stores{Shared: shared, Fresh: fresh}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
}

func init() {
	register("Secrets", func(t *testing.T, s Stores) { runSecrets(t, s.Shared(t)) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("got error %v, want %v", got, want)
	}
}

func runSecrets(t *testing.T, env Env) {
	name := "test-" + id.New[id.Account]().UUID().String()
	const n = 8
	var wg sync.WaitGroup
	got := make([][]byte, n)
	errs := make([]error, n)
	for g := range n {
		wg.Go(func() {
			got[g], errs[g] = env.Secrets().Secret(context.Background(), name, func() []byte { return []byte{byte(g), 1, 2, 3} })
		})
	}
	wg.Wait()
	for g := range n {
		must(t, errs[g])
		if string(got[g]) != string(got[0]) {
			t.Fatalf("replicas got different secrets: %x and %x", got[g], got[0])
		}
	}
	again, err := env.Secrets().Secret(ctx(t), name, func() []byte { return []byte("new") })
	must(t, err)
	if string(again) != string(got[0]) {
		t.Fatal("a stored secret was replaced")
	}
}
