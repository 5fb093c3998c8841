package bootstrap

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
)

// Migrate runs "up", "down" (the last group) or "status" against the
// configured database and reports to out.
func Migrate(ctx context.Context, cfg Config, action string, out io.Writer) error {
	db, err := store.Open(cfg.DatabaseURL.Reveal(), store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		applied, err := m.Up(ctx)
		report(out, "applied", applied)
		return err
	case "down":
		rolledBack, err := m.Down(ctx)
		report(out, "rolled back", rolledBack)
		return err
	case "status":
		ms, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range ms {
			state := "pending"
			if !s.AppliedAt.IsZero() {
				state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(out, "%-40s %s\n", s.Name, state)
		}
		return nil
	}
	return fmt.Errorf("unknown migrate action %q (want up, down or status)", action)
}

func report(out io.Writer, verb string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(out, "nothing %s\n", verb)
		return
	}
	for _, n := range names {
		fmt.Fprintf(out, "%s %s\n", verb, n)
	}
}
