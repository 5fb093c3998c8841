package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/wire"
)

// The baseline is the least a server can be that answers the service's
// identity endpoints from the same database: net/http, pgx (whose
// statement cache spares PostgreSQL the planning), encoding/json, and the
// statements the service issues, without authentication. Whatever the
// service spends beyond it is the price of its own layers. Its cursors are
// unsigned and bound to nothing but their sort: it trusts its caller.

const baselineMode = "-mode=baseline"

// startBaseline runs the baseline on dbURL with a pool the size of the
// service's.
func startBaseline(ctx context.Context, dbURL string, poolSize int, stderr io.Writer) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := []string{"LEADR_DATABASE_URL=" + dbURL, "LEADR_HTTP_ADDR=" + addr, "LEADR_DB_MAX_OPEN_CONNS=" + strconv.Itoa(poolSize)}
	return startServer(ctx, "baseline", baselineMode, addr, env, syscall.SIGTERM, stderr)
}

// runBaseline serves until SIGTERM or SIGINT, configured as the service is.
func runBaseline() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := pgxpool.ParseConfig(os.Getenv("LEADR_DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	conns, err := strconv.Atoi(os.Getenv("LEADR_DB_MAX_OPEN_CONNS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "LEADR_DB_MAX_OPEN_CONNS:", err)
		return 1
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	srv := &http.Server{Addr: os.Getenv("LEADR_HTTP_ADDR"), Handler: baseline{pool}.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type baseline struct {
	db *pgxpool.Pool
}

func (b baseline) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", b.health)
	mux.HandleFunc("GET /v1/identities/{id}", b.get)
	mux.HandleFunc("GET /v1/identities", b.list)
	mux.HandleFunc("PATCH /v1/identities/{id}", b.patch)
	mux.HandleFunc("POST /v1/identities", b.getOrCreate)
	mux.HandleFunc("GET /v1/client/me", b.me)
	return mux
}

func (b baseline) health(w http.ResponseWriter, r *http.Request) {
	if err := b.db.Ping(r.Context()); err != nil {
		writeDetail(w, http.StatusServiceUnavailable, "database disconnected")
		return
	}
	writeJSON(w, http.StatusOK, wire.Health{Service: "leadr-baseline", Status: "healthy", Database: "connected"})
}

func (b baseline) get(w http.ResponseWriter, r *http.Request) {
	b.answerIdentity(w, r, r.PathValue("id"))
}

// me stands for GET /v1/client/me: the baseline has no sessions, so its
// bearer token is the identity's ID.
func (b baseline) me(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeDetail(w, http.StatusUnauthorized, "Access token required")
		return
	}
	b.answerIdentity(w, r, token)
}

func (b baseline) answerIdentity(w http.ResponseWriter, r *http.Request, rawID string) {
	identityID, err := id.Parse[id.Identity](rawID)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var row identityRow
	err = b.db.QueryRow(r.Context(), "SELECT "+identityColumns+" FROM identities WHERE id = $1 AND deleted_at IS NULL",
		identityID.UUID()).Scan(row.dest()...)
	b.answerRow(w, http.StatusOK, &row, err)
}

func (b baseline) answerRow(w http.ResponseWriter, status int, row *identityRow, err error) {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		writeDetail(w, http.StatusNotFound, "Identity not found")
	case err != nil:
		internalError(w, err)
	default:
		writeJSON(w, status, row.wire())
	}
}

// listFilters are the list's filters: each column, its query parameter,
// and how the parameter's value becomes the column's.
var listFilters = []struct {
	column string
	parse  func(string) (any, error)
}{
	{"account_id", uuidOf[id.Account]},
	{"game_id", uuidOf[id.Game]},
	{"kind", func(s string) (any, error) {
		k, err := identity.ParseKind(s)
		return k.String(), err
	}},
}

func uuidOf[E id.Entity](s string) (any, error) {
	i, err := id.Parse[E](s)
	return i.UUID(), err
}

func (b baseline) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p params
	where := []string{"deleted_at IS NULL"}
	for _, f := range listFilters {
		if raw := q.Get(f.column); raw != "" {
			v, err := f.parse(raw)
			if err != nil {
				writeDetail(w, http.StatusUnprocessableEntity, err.Error())
				return
			}
			where = append(where, f.column+" = "+p.bind(v))
		}
	}
	order, ok := keysets[q.Get("sort")]
	if !ok {
		writeDetail(w, http.StatusBadRequest, "the baseline sorts by created_at:desc,id:asc or display_name:asc")
		return
	}
	limit := 20
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			writeDetail(w, http.StatusUnprocessableEntity, "limit must be between 1 and 100")
			return
		}
		limit = n
	}
	var after *cursor
	if raw := q.Get("cursor"); raw != "" {
		c, err := decodeCursor(raw)
		if err != nil || c.Sort != order.name {
			writeDetail(w, http.StatusBadRequest, "Invalid pagination cursor")
			return
		}
		after = &c
	}

	sql := order.query(&p, where, after, limit+1)
	rows, err := b.db.Query(r.Context(), sql, p.args...)
	if err != nil {
		internalError(w, err)
		return
	}
	var found []identityRow
	for rows.Next() {
		var row identityRow
		if err := rows.Scan(row.dest()...); err != nil {
			rows.Close()
			internalError(w, err)
			return
		}
		found = append(found, row)
	}
	if err := rows.Err(); err != nil {
		internalError(w, err)
		return
	}
	page := wire.Page[wire.Identity]{Data: make([]wire.Identity, 0, limit)}
	page.Pagination.HasPrev = after != nil
	if page.Pagination.HasNext = len(found) > limit; page.Pagination.HasNext {
		found = found[:limit]
		next := order.next(&found[limit-1])
		page.Pagination.NextCursor = &next
	}
	for i := range found {
		page.Data = append(page.Data, found[i].wire())
	}
	page.Pagination.Count = len(page.Data)
	writeJSON(w, http.StatusOK, page)
}

// patch is PATCH /v1/identities/{id} with a display name, as the service
// writes it: the row locked, changed in Go, written back with its event
// when it differs.
func (b baseline) patch(w http.ResponseWriter, r *http.Request) {
	identityID, err := id.Parse[id.Identity](r.PathValue("id"))
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var body struct {
		DisplayName *string `json:"display_name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.DisplayName == nil {
		writeDetail(w, http.StatusUnprocessableEntity, "the baseline renames: display_name is required")
		return
	}
	name, err := identity.ParseDisplayName(*body.DisplayName)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var row identityRow
	err = pgx.BeginFunc(r.Context(), b.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(r.Context(), "SELECT "+identityColumns+" FROM identities WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
			identityID.UUID()).Scan(row.dest()...)
		if err != nil {
			return err
		}
		return rename(r.Context(), tx, &row, name)
	})
	b.answerRow(w, http.StatusOK, &row, err)
}

// getOrCreate is POST /v1/identities as the service answers it: one
// indexed read that finds a live identity in a live game, then, only when
// there is none, the service's upsert on the live natural key, with the game
// locked against its deletion.
func (b baseline) getOrCreate(w http.ResponseWriter, r *http.Request) {
	var body wire.CreateIdentityRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "body: "+err.Error())
		return
	}
	account, accountErr := id.Parse[id.Account](body.AccountID)
	game, gameErr := id.Parse[id.Game](body.GameID)
	kind, kindErr := identity.ParseKind(body.Kind)
	var keyErr, nameErr error
	var name identity.DisplayName
	if kindErr == nil {
		_, keyErr = identity.NewExternalKey(kind, body.ExternalKey)
	}
	if body.DisplayName != nil {
		name, nameErr = identity.ParseDisplayName(*body.DisplayName)
	}
	if err := errors.Join(accountErr, gameErr, kindErr, keyErr, nameErr); err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	ctx := r.Context()
	key := []any{account.UUID(), game.UUID(), kind.String(), body.ExternalKey}
	var row identityRow
	err := b.db.QueryRow(ctx, "SELECT "+identityColumns+" FROM identities WHERE account_id = $1 AND game_id = $2 AND kind = $3 AND external_key = $4 AND deleted_at IS NULL"+
		" AND EXISTS (SELECT 1 FROM games AS g WHERE g.id = identities.game_id AND g.deleted_at IS NULL)", key...).Scan(row.dest()...)
	if err == nil && row.named(name) {
		writeJSON(w, http.StatusOK, row.wire())
		return
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		internalError(w, err)
		return
	}

	fresh, now := id.New[id.Identity]().UUID(), domain.Timestamp(time.Now())
	var freshName *string
	if !name.IsZero() {
		s := name.String()
		freshName = &s
	}
	err = pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
		var live int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM games WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL FOR SHARE",
			game.UUID(), account.UUID()).Scan(&live); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "INSERT INTO identities (account_id, game_id, kind, external_key, id, display_name, created_at, updated_at)"+
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"+
			" ON CONFLICT (account_id, game_id, kind, external_key) WHERE deleted_at IS NULL DO UPDATE SET updated_at = identities.updated_at"+
			" RETURNING "+identityColumns, append(key, fresh, freshName, now)...).Scan(row.dest()...)
		if err != nil {
			return err
		}
		if row.id == fresh {
			return recordEvent(ctx, tx, "created", &row, nil)
		}
		return rename(ctx, tx, &row, name)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		writeDetail(w, http.StatusNotFound, "Game not found")
		return
	}
	status := http.StatusOK
	if row.id == fresh {
		status = http.StatusCreated
	}
	b.answerRow(w, status, &row, err)
}

// rename gives a locked row a new display name, and records the event,
// unless it has it already.
func rename(ctx context.Context, tx pgx.Tx, row *identityRow, name identity.DisplayName) error {
	if row.named(name) {
		return nil
	}
	newName, now := name.String(), domain.Timestamp(time.Now())
	if _, err := tx.Exec(ctx, "UPDATE identities SET display_name = $2, updated_at = $3 WHERE id = $1", row.id, newName, now); err != nil {
		return err
	}
	changes := map[string][2]*string{"display_name": {row.name, &newName}}
	row.name, row.updated = &newName, now
	return recordEvent(ctx, tx, "updated", row, changes)
}

// recordEvent inserts the event the service records, in the transaction
// of the change, so that the events table's indexes and its NOTIFY trigger
// cost the baseline what they cost the service. Its data is the service's:
// the identity as answered, with the changed fields as [before, after]
// (adapters/httpapi EncodeEvent), written in one json.Marshal. The
// baseline has no API key to name: its actor is the system.
func recordEvent(ctx context.Context, tx pgx.Tx, verb string, row *identityRow, changes map[string][2]*string) error {
	data, err := json.Marshal(struct {
		wire.Identity
		Changes map[string][2]*string `json:"changes,omitempty"`
	}{row.wire(), changes})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO events (id, type, account_id, occurred_at, actor_type, subject_type, subject_id, data)"+
		" VALUES ($1, $2, $3, $4, 'system', 'identity', $5, $6)",
		id.New[id.Event]().UUID(), "identity."+verb, row.account, row.updated, id.FromUUID[id.Identity](row.id).String(), data)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]string{"detail": detail})
}

func internalError(w http.ResponseWriter, err error) {
	fmt.Fprintln(os.Stderr, "baseline:", err)
	writeDetail(w, http.StatusInternalServerError, "Internal Server Error")
}
