// Package pagingtest is a stand-in resource for tests of paging and
// cursors, which need rows to sort but no real aggregate.
package pagingtest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
)

// Widget is a row with a UUID, a nullable name, a label and a time.
type Widget struct {
	ID      id.GameID
	Name    *string // nil is NULL
	Label   string
	Created time.Time
}

func (w Widget) String() string {
	n := "NULL"
	if w.Name != nil {
		n = *w.Name
	}
	return fmt.Sprintf("%s(%s)", n, w.ID)
}

// ValidFields is how sort errors list the fields of NewSchema.
const ValidFields = "created_at, id, label, name"

// NewSchema declares a resource of widgets under a name of its own.
func NewSchema(resource string) *paging.Schema[Widget] {
	return paging.NewSchema(resource, "created_at:desc,id:asc",
		paging.Field[Widget]{Name: "id", Type: paging.UUID, Value: func(w Widget) any { return w.ID.UUID() }},
		paging.Field[Widget]{Name: "name", Type: paging.NullableString, Value: func(w Widget) any {
			if w.Name == nil {
				return nil
			}
			return *w.Name
		}},
		paging.Field[Widget]{Name: "label", Type: paging.String, Value: func(w Widget) any { return w.Label }},
		paging.Field[Widget]{Name: "created_at", Type: paging.Time, Value: func(w Widget) any { return w.Created }},
	)
}

// Widgets is the usual resource.
var Widgets = NewSchema("widgets")

// BadRequest returns the message of a BadRequest error and fails t on any
// other error.
func BadRequest(t *testing.T, err error) string {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *domain.Error", err)
	}
	if de.Category != domain.CategoryBadRequest {
		t.Fatalf("category = %v, want CategoryBadRequest (%v)", de.Category, err)
	}
	return de.Message
}
