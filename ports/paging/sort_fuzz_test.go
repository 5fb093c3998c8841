package paging_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// fuzzSpecs are the specs a sort is parsed against: the stand-in and every
// resource the service lists.
var fuzzSpecs = []*paging.Spec{
	widgets.Spec, ports.IdentitySchema.Spec, ports.GameSchema.Spec, ports.SessionSchema.Spec,
	ports.AccountSchema.Spec, ports.UserSchema.Spec, ports.APIKeySchema.Spec,
}

// FuzzParseSort parses arbitrary text as the sort of every resource.
// ParseSort never panics; a refusal is a BadRequest *domain.Error (never an
// internal error, never Invalid's 422) that names the valid fields; an
// accepted sort names only known fields, each once, ends its decisive part
// with id, and its String parses back to the very same sort.
func FuzzParseSort(f *testing.F) {
	for _, s := range []string{
		"created_at:desc,id:asc", "created_at:desc", "name:asc", "name:DESC", "name:Asc",
		" name : desc , label:asc ", "id:desc", "id:desc,name:asc", "label:asc,created_at:desc",
		"display_name:asc", "kind:ASC,display_name:Desc,updated_at:asc,created_at:desc,id:desc",
		"slug:asc,name:desc", "email:asc", "key_prefix:desc",
		"", ",", ":", "::", "name", "name:", "name:up", "name:ascending", "name:asc:desc", ":asc",
		"name:asc,", ",name:asc", "name:asc,,id:asc", "name:asc, ", "name:asc,name:desc", "id:asc,id:asc",
		"Name:asc", "bogus:asc", "name\t:\tasc", "name\u00a0:asc", "name:asc\u3000", "name:\u0130sc",
		"name:ＡＳＣ", "name:aſc", "name\x00:asc", "name:asc\xff", "\xffname:asc", "name:desc;id:asc",
		"created_at:desc,id:asc,name:asc", strings.Repeat("name:asc,", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, spec := range fuzzSpecs {
			checkSort(t, spec, raw)
		}
	})
}

func checkSort(t *testing.T, spec *paging.Spec, raw string) {
	t.Helper()
	fields := spec.Fields()
	sort, err := spec.ParseSort(raw)
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) {
			t.Fatalf("%s: ParseSort(%q): error %T %v is not a *domain.Error", spec.Resource(), raw, err, err)
		}
		if de.Category != domain.CategoryBadRequest {
			t.Fatalf("%s: ParseSort(%q): category %v (%v), want BadRequest", spec.Resource(), raw, de.Category, err)
		}
		if want := ". Valid fields: " + strings.Join(fields, ", "); !strings.HasSuffix(de.Message, want) {
			t.Fatalf("%s: ParseSort(%q): message %q does not end with %q", spec.Resource(), raw, de.Message, want)
		}
		if sort != nil {
			t.Fatalf("%s: ParseSort(%q) = %v with its error", spec.Resource(), raw, sort)
		}
		return
	}

	elems := strings.Split(raw, ",")
	seen := map[string]bool{}
	for i, k := range sort {
		if !slices.Contains(fields, k.Field) {
			t.Fatalf("%s: ParseSort(%q) = %v: unknown field %q", spec.Resource(), raw, sort, k.Field)
		}
		if seen[k.Field] {
			t.Fatalf("%s: ParseSort(%q) = %v: %q twice", spec.Resource(), raw, sort, k.Field)
		}
		seen[k.Field] = true
		// Each key is its element of raw, in order: the field spelled
		// exactly (only white space around it), a direction in either case.
		if i < len(elems) {
			field, dir, ok := strings.Cut(elems[i], ":")
			if !ok || strings.TrimSpace(field) != k.Field ||
				!strings.EqualFold(strings.TrimSpace(dir), map[bool]string{false: "asc", true: "desc"}[k.Desc]) {
				t.Fatalf("%s: ParseSort(%q): key %d = %+v does not spell element %q", spec.Resource(), raw, i, k, elems[i])
			}
		}
	}
	switch {
	case !seen[paging.IDField]:
		t.Fatalf("%s: ParseSort(%q) = %v: no id, the order is not total", spec.Resource(), raw, sort)
	case len(sort) == len(elems):
	case len(sort) == len(elems)+1 && sort[len(sort)-1] == paging.Key{Field: paging.IDField}:
		// id:asc appended, as the contract says, when raw names no id.
	default:
		t.Fatalf("%s: ParseSort(%q) = %v: %d keys from %d elements", spec.Resource(), raw, sort, len(sort), len(elems))
	}

	canonical := sort.String()
	again, err := spec.ParseSort(canonical)
	if err != nil || !slices.Equal(again, sort) {
		t.Fatalf("%s: ParseSort(%q) = %v, %v; want %v, which ParseSort(%q) gave", spec.Resource(), canonical, again, err, sort, raw)
	}
	if again.String() != canonical {
		t.Fatalf("%s: %q re-renders as %q", spec.Resource(), canonical, again.String())
	}
	if !slices.Equal(sort.Reverse().Reverse(), sort) {
		t.Fatalf("%s: %v reversed twice is %v", spec.Resource(), sort, sort.Reverse().Reverse())
	}
}
