package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/ports"
)

// Secrets implements ports.SecretStore.
type Secrets struct {
	db *DB
}

var _ ports.SecretStore = (*Secrets)(nil)

func NewSecrets(s *Store) *Secrets { return &Secrets{db: s.db} }

// Secret inserts a generated value unless one is stored, then reads the
// stored one: replicas that race all read the winner's value.
func (s *Secrets) Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error) {
	row := &secretRow{Name: name, Value: generate(), CreatedAt: time.Now().UTC()}
	if _, err := s.db.write.NewInsert().Model(row).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	stored := new(secretRow)
	if err := s.db.write.NewSelect().Model(stored).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return stored.Value, nil
}

type secretRow struct {
	bun.BaseModel `bun:"table:service_secrets"`

	Name      string    `bun:"name,pk"`
	Value     []byte    `bun:"value"`
	CreatedAt time.Time `bun:"created_at"`
}
