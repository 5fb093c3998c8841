package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
)

// fixture is what the seed made, for the load to pick its requests from.
type fixture struct {
	accounts   []account
	identities []seeded
	devices    []int  // the indexes of the DEVICE identities, which sign in
	postgres   string // the server's version
}

type account struct {
	id    id.AccountID
	key   string // a regular API key of the account
	games []id.GameID
}

// seeded is one identity; its external key is externalKey(kind, its index).
type seeded struct {
	id      id.IdentityID
	account uint8
	game    uint8 // in its account's games
	kind    uint8 // in kinds
}

var kinds = [...]string{client.KindDevice, client.KindSteam, client.KindCustom}

func (f *fixture) games() int {
	n := 0
	for _, a := range f.accounts {
		n += len(a.games)
	}
	return n
}

func (f *fixture) externalKey(i int) string { return externalKey(f.identities[i].kind, i) }

func (f *fixture) gameOf(i int) id.GameID {
	s := f.identities[i]
	return f.accounts[s.account].games[s.game]
}

// seedAccounts studios, with 2 or 3 games each, share the identities.
const seedAccounts = 4

// seed makes the accounts, their keys and games through the service's API,
// as a studio would, then copies n identities straight into the table:
// through the API a million would take longer than the whole benchmark.
func seed(ctx context.Context, svc *serviceProcess, dbURL string, n int, logf func(string, ...any)) (*fixture, error) {
	fx := &fixture{}
	if err := createTenants(ctx, svc, fx); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&fx.postgres); err != nil {
		return nil, err
	}
	src := &identitySource{fx: fx, total: n, rnd: rand.New(rand.NewPCG(1, 2)), now: time.Now()}
	for _, a := range fx.accounts {
		src.accountGames = append(src.accountGames, len(a.games))
	}
	if err := copyIdentities(ctx, conn, src); err != nil {
		return nil, fmt.Errorf("copy identities: %w", err)
	}
	for i, s := range fx.identities {
		if kinds[s.kind] == client.KindDevice {
			fx.devices = append(fx.devices, i)
		}
	}
	// Plans as after a real load: the planner sees the table as it is.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	// Write the seed's dirty pages out now rather than in a timed run.
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		logf("seed: CHECKPOINT refused (%v); the first runs may pay for writing the seed out", err)
	}
	return fx, nil
}

func createTenants(ctx context.Context, svc *serviceProcess, fx *fixture) error {
	// Slugs and emails are unique in the database: a run of its own keeps
	// a database given with -database-url reusable.
	run := fmt.Sprintf("%08x", rand.Uint32())
	super := client.New(svc.base, client.WithAPIKey(svc.superKey))
	for a := range seedAccounts {
		acc, err := super.CreateAccount(ctx, client.CreateAccountRequest{
			Name: fmt.Sprintf("Bench studio %d", a+1), Slug: fmt.Sprintf("bench-%s-%d", run, a+1)})
		if err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		user, err := super.CreateUser(ctx, client.CreateUserRequest{
			AccountID: acc.ID, Email: fmt.Sprintf("bench-%d@%s.bench.example", a+1, run), DisplayName: "Bench"})
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		key, err := super.CreateAPIKey(ctx, client.CreateAPIKeyRequest{AccountID: acc.ID, UserID: user.ID, Name: "bench"})
		if err != nil {
			return fmt.Errorf("create API key: %w", err)
		}
		accountID, err := id.Parse[id.Account](acc.ID)
		if err != nil {
			return err
		}
		studio := account{id: accountID, key: key.Key}
		own := client.New(svc.base, client.WithAPIKey(key.Key))
		for g := range 2 + a%2 {
			game, err := own.CreateGame(ctx, client.CreateGameRequest{
				Name: fmt.Sprintf("Bench game %d", g+1), Slug: fmt.Sprintf("bench-%s-%d-%d", run, a+1, g+1)})
			if err != nil {
				return fmt.Errorf("create game: %w", err)
			}
			gameID, err := id.Parse[id.Game](game.ID)
			if err != nil {
				return err
			}
			studio.games = append(studio.games, gameID)
		}
		fx.accounts = append(fx.accounts, studio)
	}
	return nil
}

// copyIdentities copies the identities in one transaction, with a player
// each, as the service makes them: the player has the identity's UUID, its
// account and game, and was created with it (the migration that brought
// players gave every identity one so). Checking the foreign keys and
// maintaining the indexes (nine on identities) row by row would cost many
// times the copy itself, so the transaction drops them, copies, and makes
// them again from their own definitions: whatever happens, the schema stays
// as the migrations made it.
func copyIdentities(ctx context.Context, conn *pgx.Conn, src *identitySource) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var drop, create []string
		for _, table := range []string{"identities", "players"} {
			d, c, err := secondaryDDL(ctx, tx, table)
			if err != nil {
				return err
			}
			drop, create = append(drop, d...), append(create, c...)
		}
		for _, stmt := range drop {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"identities"}, identityCopyColumns, src); err != nil {
			return err
		}
		// The players of the rows just copied, from the rows themselves: no
		// second copy of a million rows through the client, and no player
		// that disagrees with its identity. A database given with
		// -database-url may hold other runs' identities: this run's
		// accounts are its own.
		accounts := make([]id.UUID, len(src.fx.accounts))
		for i, a := range src.fx.accounts {
			accounts[i] = a.id.UUID()
		}
		if _, err := tx.Exec(ctx, "INSERT INTO players (id, account_id, game_id, created_at, updated_at)"+
			" SELECT player_id, account_id, game_id, created_at, created_at FROM identities WHERE account_id = ANY($1)", accounts); err != nil {
			return fmt.Errorf("players: %w", err)
		}
		// Enough to sort the largest index in memory.
		if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
			return err
		}
		for _, stmt := range create {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

// secondaryDDL gives the statements that drop a table's foreign keys and
// its indexes but those of its constraints (the primary key, which other
// tables' keys reference), and those that make them again.
func secondaryDDL(ctx context.Context, tx pgx.Tx, table string) (drop, create []string, err error) {
	rows, err := tx.Query(ctx, `
		SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', $1::text, conname),
		       format('ALTER TABLE %I ADD CONSTRAINT %I %s', $1::text, conname, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'
		UNION ALL
		SELECT format('DROP INDEX %I', indexname), indexdef
		FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1
		  AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)`, table)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var d, c string
		if err := rows.Scan(&d, &c); err != nil {
			return nil, nil, err
		}
		drop, create = append(drop, d), append(create, c)
	}
	return drop, create, rows.Err()
}

var identityCopyColumns = []string{"id", "player_id", "account_id", "game_id", "kind", "external_key", "display_name", "created_at", "updated_at"}

// identitySource makes the rows as COPY reads them, and records each in the
// fixture. Accounts take turns; games and kinds are random; identities were
// created over the past year, one after the other, and renamed within a
// month of that; a third of them have no display name.
type identitySource struct {
	fx           *fixture
	accountGames []int
	total, n     int
	rnd          *rand.Rand
	now          time.Time
	row          []any
}

// seedSpan is how far back identities were created, and how long after
// that they may have been renamed.
const (
	seedSpan   = 365 * 24 * time.Hour
	renameSpan = 30 * 24 * time.Hour
)

func (s *identitySource) Next() bool {
	if s.n == s.total {
		return false
	}
	a := s.n % len(s.accountGames)
	g, k := s.rnd.IntN(s.accountGames[a]), s.rnd.IntN(len(kinds))
	// In the order of creation, as the table filled up.
	created := s.now.Add(-seedSpan + time.Duration(float64(seedSpan)*(float64(s.n)+s.rnd.Float64())/float64(s.total))).Truncate(time.Microsecond)
	updated := created.Add(time.Duration(s.rnd.Int64N(int64(min(renameSpan, s.now.Sub(created))) + 1))).Truncate(time.Microsecond)
	var name *string
	if s.rnd.IntN(3) > 0 {
		n := displayName(s.rnd.IntN)
		name = &n
	}
	identityID := id.FromUUID[id.Identity](uuidV7(created, s.rnd))
	s.fx.identities = append(s.fx.identities, seeded{id: identityID, account: uint8(a), game: uint8(g), kind: uint8(k)})
	acc := s.fx.accounts[a]
	// Its player has its UUID, as identity.New names a new identity's.
	s.row = []any{identityID.UUID(), identityID.UUID(), acc.id.UUID(), acc.games[g].UUID(), kinds[k], externalKey(uint8(k), s.n), name, created, updated}
	s.n++
	return true
}

func (s *identitySource) Values() ([]any, error) { return s.row, nil }
func (s *identitySource) Err() error             { return nil }

// uuidV7 is the ID the service would have given an identity created at t:
// its milliseconds, then random bits.
func uuidV7(t time.Time, rnd *rand.Rand) id.UUID {
	var u id.UUID
	binary.BigEndian.PutUint64(u[0:8], uint64(t.UnixMilli())<<16|rnd.Uint64()&0xffff)
	binary.BigEndian.PutUint64(u[8:16], rnd.Uint64())
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u
}

// steamID64Base is the SteamID64 of Steam account 0: every individual
// account's ID is this plus its number.
const steamID64Base = 76561197960265728

// externalKey is the key of the n-th seeded identity: unique per kind, and
// of the shape clients send for it.
func externalKey(kind uint8, n int) string {
	switch kinds[kind] {
	case client.KindDevice:
		// 32 hex digits, like a device's ID; the first 16 are a bijection of n.
		return fmt.Sprintf("%016x%016x", mix64(uint64(n)), mix64(^uint64(n)))
	case client.KindSteam:
		return strconv.FormatUint(steamID64Base+uint64(n), 10)
	default:
		return "player-" + strconv.Itoa(n)
	}
}

// mix64 is SplitMix64's finaliser: a bijection that scatters its input.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

var firstNames = []string{"Ada", "Grace", "Linus", "Zoë", "Søren", "Łukasz", "Mei", "Kwame",
	"Amélie", "Ravi", "Nadia", "Tomás", "Yuki", "Omar", "Freya", "Inès"}

// displayName is a player's name such as "Zoë 4821", drawn with intN.
func displayName(intN func(int) int) string {
	return firstNames[intN(len(firstNames))] + " " + strconv.Itoa(intN(10_000))
}
