package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
)

// emailsVersion makes e-mails unique per account and gives API keys a rate
// limit of their own.
const emailsVersion = "20261207000004"

// TestUpgradeMakesEmailsPerAccount upgrades a database that holds users and
// their keys: nothing is lost or changed, every key keeps the default
// limit, and an e-mail is then free in another account and still taken in
// its own. SQLite rebuilds the users table for this, under the keys that
// reference it. Rolling back is refused while two accounts share an
// e-mail, and restores the old rule once they no longer do.
func TestUpgradeMakesEmailsPerAccount(t *testing.T) {
	const (
		accA = "0195f000-0000-7000-8000-00000000000a"
		accB = "0195f000-0000-7000-8000-00000000000b"
	)
	at := upgradeT0
	const (
		usersQuery = `SELECT CAST(id AS TEXT), CAST(account_id AS TEXT), email, display_name, CAST(super_admin AS TEXT),
			CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM users ORDER BY id`
		keysQuery = `SELECT CAST(id AS TEXT), CAST(user_id AS TEXT), name, key_prefix, status FROM api_keys ORDER BY id`
	)
	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, exec, must := upgradeFrom(t, b.sqlite, b.open, emailsVersion)
			hashes := map[string][]byte{}
			for n, a := range []string{accA, accB} {
				must(exec("INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					a, "Account "+a, "acc-"+a[len(a)-12:], at, at))
				userID, keyID := id.New[id.User]().UUID().String(), id.New[id.APIKey]().UUID().String()
				email := []string{"ops@studio.example", "dev@studio.example"}[n]
				must(exec(`INSERT INTO users (id, account_id, email, display_name, super_admin, created_at, updated_at)
					VALUES (?, ?, ?, 'User', ?, ?, ?)`, userID, a, email, n == 0, at, at))
				hashes[a] = []byte("hash of the key of " + a)
				must(exec(`INSERT INTO api_keys (id, account_id, user_id, name, key_prefix, key_hash, status, created_at, updated_at)
					VALUES (?, ?, ?, 'key', 'ldr_abcdefghij', ?, 'active', ?, ?)`, keyID, a, userID, hashes[a], at, at))
			}
			unchanged := snapshotRows(t, db, b.sqlite, map[string]string{"users": usersQuery, "API keys": keysQuery})

			applied, err := upgrade(t, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || !strings.HasPrefix(applied[0], emailsVersion+"_") {
				t.Fatalf("applied %v, want %s first", applied, emailsVersion)
			}
			unchanged("after the upgrade")

			repo, err := store.NewTenancy(store.New(db))
			if err != nil {
				t.Fatal(err)
			}
			for a, hash := range hashes {
				k, u, err := repo.Authenticate(t.Context(), hash)
				if err != nil || !k.RateLimit().IsDefault() || u.AccountID().UUID().String() != a {
					t.Fatalf("the key of account %s after the upgrade: %v, %v", a, k, err)
				}
			}
			newUser := func(account, email string) error {
				t.Helper()
				u, err := tenancy.NewUser(mustParse[id.Account](t, account), email, "New user", false, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return repo.CreateUser(t.Context(), u)
			}
			if err := newUser(accB, "ops@studio.example"); err != nil {
				t.Errorf("account B taking account A's e-mail: %v, want it created", err)
			}
			if err := newUser(accA, "ops@studio.example"); !errors.Is(err, tenancy.ErrEmailTaken) {
				t.Errorf("account A taking its own e-mail again: %v, want ErrEmailTaken", err)
			}

			m, err := store.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Down(t.Context()); err == nil || !strings.Contains(err.Error(), "the e-mail ops@studio.example is used in more than one account") {
				t.Fatalf("rolling back while two accounts share an e-mail: %v, want it refused naming the e-mail", err)
			}
			must(exec("DELETE FROM users WHERE account_id = ? AND email = 'ops@studio.example'", accB))
			unchanged("after a refused rollback")
			if _, err := m.Down(t.Context()); err != nil {
				t.Fatalf("rolling back: %v", err)
			}
			unchanged("after the rollback")
			if err := exec(`INSERT INTO users (id, account_id, email, display_name, super_admin, created_at, updated_at)
				VALUES (?, ?, 'ops@studio.example', 'Twin', false, ?, ?)`, id.New[id.User]().UUID().String(), accB, at, at); err == nil {
				t.Error("after the rollback, account B took account A's e-mail")
			}
		})
	}
}

// snapshotRows dumps what queries (by name) give, and returns a check that
// they still give it and, on SQLite, that every foreign key still holds:
// what an upgrade that rebuilds a table must leave alone.
func snapshotRows(t *testing.T, db *store.DB, sqlite bool, queries map[string]string) func(when string) {
	t.Helper()
	before := map[string][]string{}
	for what, q := range queries {
		before[what] = dumpRows(t, db, q)
	}
	return func(when string) {
		t.Helper()
		for what, q := range queries {
			if after := dumpRows(t, db, q); !slices.Equal(after, before[what]) {
				t.Errorf("%s: %s changed:\n before %q\n after  %q", when, what, before[what], after)
			}
		}
		if sqlite {
			var broken []string
			if err := db.Bun().NewRaw(`SELECT "table" FROM pragma_foreign_key_check`).Scan(t.Context(), &broken); err != nil || len(broken) > 0 {
				t.Errorf("%s: rows break foreign keys in %v (%v)", when, broken, err)
			}
		}
	}
}
