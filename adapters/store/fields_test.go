package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/leadr-oss/identity/ports"
)

// swappedRow lists two of its fields out of their columns' order.
type swappedRow struct {
	bun.BaseModel `bun:"table:accounts"`

	ID        uuid.UUID `bun:"id,pk,type:uuid"`
	Name      string    `bun:"name"`
	Slug      string    `bun:"slug"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func (r *swappedRow) fields() []any {
	return []any{&r.ID, &r.Slug, &r.Name, &r.CreatedAt, &r.UpdatedAt}
}

// TestRowModelsAreChecked: a row whose fields() would scan a column into
// another's field stops the store from being built, as do columns it lacks.
func TestRowModelsAreChecked(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://localhost/never")
	if err != nil {
		t.Fatal(err)
	}
	db := bun.NewDB(stdlib.OpenDB(*cfg), pgdialect.New()) // never connects
	t.Cleanup(func() { db.Close() })
	if err := checkRowModel[accountRow](db, accountColumns, ports.AccountSchema.Spec); err != nil {
		t.Fatalf("the real model: %v", err)
	}
	for name, err := range map[string]error{
		"fields out of order": checkRowModel[swappedRow](db, accountColumns, ports.AccountSchema.Spec),
		"a column too few":    checkRowModel[accountRow](db, strings.TrimSuffix(accountColumns, ", updated_at"), ports.AccountSchema.Spec),
		"another table's":     checkRowModel[accountRow](db, userColumns, ports.UserSchema.Spec),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
