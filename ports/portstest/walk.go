package portstest

import (
	"slices"
	"testing"

	"github.com/leadr-oss/identity/ports/paging"
)

// Walk pages through a list forward from the start and then backward from
// the end, and checks that each direction visits want exactly, in order,
// with "more" reported exactly when rows remain.
func Walk[T any](t *testing.T, list func(paging.Request) (paging.Result[T], error), sort paging.Sort, limit int,
	want []T, schema *paging.Schema[T], key func(T) string,
) {
	t.Helper()
	positionOf := schema.Position
	keys := func(items []T) []string {
		out := make([]string, len(items))
		for i, x := range items {
			out[i] = key(x)
		}
		return out
	}
	wantKeys := keys(want)

	var got []T
	req := paging.Request{Sort: sort, Limit: limit}
	var pages [][]T
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("forward walk does not end")
		}
		res, err := list(req)
		must(t, err)
		got = append(got, res.Items...)
		pages = append(pages, res.Items)
		if wantMore := len(got) < len(want); res.More != wantMore {
			t.Fatalf("forward page %d: more=%v, want %v", step, res.More, wantMore)
		}
		if !res.More {
			break
		}
		if len(res.Items) != limit {
			t.Fatalf("forward page %d has %d items, want %d", step, len(res.Items), limit)
		}
		req = paging.Request{Sort: sort, Limit: limit, After: positionOf(res.Items[len(res.Items)-1], sort)}
	}
	if !slices.Equal(keys(got), wantKeys) {
		t.Fatalf("forward walk:\n got  %v\n want %v", keys(got), wantKeys)
	}

	// Backward from the first item of the last page: every page before it,
	// each in sort order, ending where nothing precedes.
	last := pages[len(pages)-1]
	if len(last) == 0 {
		return
	}
	var back []T
	req = paging.Request{Sort: sort, Limit: limit, After: positionOf(last[0], sort), Backward: true}
	for step := 0; ; step++ {
		if step > len(want)+1 {
			t.Fatal("backward walk does not end")
		}
		res, err := list(req)
		must(t, err)
		back = append(slices.Clone(res.Items), back...)
		before := len(want) - len(last) - len(back)
		if wantMore := before > 0; res.More != wantMore {
			t.Fatalf("backward page %d: more=%v, want %v", step, res.More, wantMore)
		}
		if !res.More {
			break
		}
		req = paging.Request{Sort: sort, Limit: limit, After: positionOf(res.Items[0], sort), Backward: true}
	}
	if wantBack := wantKeys[:len(want)-len(last)]; !slices.Equal(keys(back), wantBack) {
		t.Fatalf("backward walk:\n got  %v\n want %v", keys(back), wantBack)
	}

	// Inclusive positions take the row at the position too.
	mid := want[len(want)/2]
	res, err := list(paging.Request{Sort: sort, Limit: 1, After: positionOf(mid, sort), Inclusive: true})
	must(t, err)
	if len(res.Items) != 1 || key(res.Items[0]) != key(mid) {
		t.Fatalf("inclusive forward page does not start at its position")
	}
	res, err = list(paging.Request{Sort: sort, Limit: 1, After: positionOf(mid, sort), Inclusive: true, Backward: true})
	must(t, err)
	if len(res.Items) != 1 || key(res.Items[0]) != key(mid) {
		t.Fatalf("inclusive backward page does not end at its position")
	}
}
