package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
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
// identity endpoints and its DEVICE sign-in from the same database:
// net/http, pgx (whose statement cache spares PostgreSQL the planning),
// encoding/json, and the statements the service issues, without
// authentication. It writes what the service writes in the same
// transactions: the events, and a new identity's player. Whatever the
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
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	env := []string{"LEADR_DATABASE_URL=" + dbURL, "LEADR_HTTP_ADDR=" + addr, "LEADR_DB_MAX_OPEN_CONNS=" + strconv.Itoa(poolSize)}
	return startServer(ctx, "baseline", exec.Command(self, baselineMode), addr, env, syscall.SIGTERM, stderr)
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
	b, err := newBaseline(pool)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Addr: os.Getenv("LEADR_HTTP_ADDR"), Handler: b.routes(), ReadHeaderTimeout: 10 * time.Second}
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
	// tokenKey signs access tokens, as the service's signing key does;
	// tokenHeader is their JOSE header, encoded, which names it.
	tokenKey    *ecdsa.PrivateKey
	tokenHeader string
	// pepper hashes refresh tokens, as the service's LEADR_API_KEY_PEPPER
	// does.
	pepper []byte
}

// newBaseline serves from db with a signing key of its own, made as the
// service makes its keys: P-256, named by a signing key's ID.
func newBaseline(db *pgxpool.Pool) (baseline, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return baseline{}, err
	}
	h, err := json.Marshal(tokenHeader{Alg: "ES256", Kid: id.New[id.SigningKey]().String(), Typ: "JWT"})
	if err != nil {
		return baseline{}, err
	}
	return baseline{db: db, tokenKey: key, tokenHeader: base64.RawURLEncoding.EncodeToString(h), pepper: []byte(randomSecret())}, nil
}

func (b baseline) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", b.health)
	mux.HandleFunc("GET /v1/identities/{id}", b.get)
	mux.HandleFunc("GET /v1/identities", b.list)
	mux.HandleFunc("PATCH /v1/identities/{id}", b.patch)
	mux.HandleFunc("POST /v1/identities", b.getOrCreate)
	mux.HandleFunc("GET /v1/client/me", b.me)
	mux.HandleFunc("POST /v1/client/sessions", b.signIn)
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

// getOrCreate is POST /v1/identities as the service answers it.
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
	row, created, err := b.identityOf(r.Context(), naturalKey{account.UUID(), game.UUID(), kind.String(), body.ExternalKey}, name)
	if errors.Is(err, pgx.ErrNoRows) {
		writeDetail(w, http.StatusNotFound, "Game not found")
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	b.answerRow(w, status, &row, err)
}

// naturalKey is what names an identity within its game.
type naturalKey struct {
	account, game id.UUID
	kind, key     string
}

func (k naturalKey) args() []any { return []any{k.account, k.game, k.kind, k.key} }

// identityOf gets or creates the identity of key as the service does: one
// indexed read that finds a live identity in a live game, then, only when
// there is none or it needs renaming, the service's upsert on the live
// natural key, with the game locked against its deletion. pgx.ErrNoRows: no
// live game of the account.
func (b baseline) identityOf(ctx context.Context, key naturalKey, name identity.DisplayName) (row identityRow, created bool, err error) {
	err = b.db.QueryRow(ctx, "SELECT "+identityColumns+" FROM identities WHERE account_id = $1 AND game_id = $2 AND kind = $3 AND external_key = $4 AND deleted_at IS NULL"+
		" AND EXISTS (SELECT 1 FROM games AS g WHERE g.id = identities.game_id AND g.deleted_at IS NULL)", key.args()...).Scan(row.dest()...)
	if err == nil && row.named(name) {
		return row, false, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return row, false, err
	}

	// A new identity's player has the identity's UUID (identity.New).
	fresh, now := id.New[id.Identity]().UUID(), domain.Timestamp(time.Now())
	var freshName *string
	if !name.IsZero() {
		s := name.String()
		freshName = &s
	}
	err = pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
		var live int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM games WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL FOR SHARE",
			key.game, key.account).Scan(&live); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "INSERT INTO identities (account_id, game_id, kind, external_key, id, player_id, display_name, created_at, updated_at)"+
			" VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $7)"+
			" ON CONFLICT (account_id, game_id, kind, external_key) WHERE deleted_at IS NULL DO UPDATE SET updated_at = identities.updated_at"+
			" RETURNING "+identityColumns, append(key.args(), fresh, freshName, now)...).Scan(row.dest()...)
		if err != nil {
			return err
		}
		if row.id == fresh {
			return recordCreated(ctx, tx, &row)
		}
		return rename(ctx, tx, &row, name)
	})
	return row, err == nil && row.id == fresh, err
}

// recordCreated records a new identity's event, then writes its player and
// the player's event, as the player slice does when it hears
// identity.created: in the transaction of the identity.
func recordCreated(ctx context.Context, tx pgx.Tx, row *identityRow) error {
	ident := row.wire()
	if err := recordEvent(ctx, tx, "identity.created", "identity", ident.ID, row.account, row.created, ident); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO players (id, account_id, game_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		row.player, row.account, row.game, row.created); err != nil {
		return err
	}
	return recordEvent(ctx, tx, "player.created", "player", ident.PlayerID, row.account, row.created, wire.Player{
		ID: ident.PlayerID, AccountID: ident.AccountID, GameID: ident.GameID, Identities: []wire.Identity{ident},
		CreatedAt: ident.CreatedAt, UpdatedAt: ident.CreatedAt,
	})
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
	return recordEvent(ctx, tx, "identity.updated", "identity", id.FromUUID[id.Identity](row.id).String(), row.account, row.updated, struct {
		wire.Identity
		Changes map[string][2]*string `json:"changes"`
	}{row.wire(), changes})
}

// recordEvent inserts the event the service records, in the transaction
// of the change, so that the events table's indexes and its trigger cost
// the baseline what they cost the service. Its data is the service's: the
// subject as answered, with a change's fields as [before, after]
// (adapters/httpapi EncodeEvent), written in one json.Marshal. The baseline
// has no API key or session to name: its actor is the system.
func recordEvent(ctx context.Context, tx pgx.Tx, eventType, subjectType, subjectID string, account id.UUID, at time.Time, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO events (id, type, account_id, occurred_at, actor_type, subject_type, subject_id, data)"+
		" VALUES ($1, $2, $3, $4, 'system', $5, $6, $7)",
		id.New[id.Event]().UUID(), eventType, account, at, subjectType, subjectID, b)
	return err
}

// The service's default token lifetimes (LEADR_ACCESS_TOKEN_TTL,
// LEADR_REFRESH_TOKEN_TTL; the session's maximum age is longer than both).
const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 720 * time.Hour
)

// signIn is POST /v1/client/sessions of a DEVICE identity as the service
// answers it: the game read, the identity got or created (identityOf), then
// in one transaction the identity and its game locked against their
// deletion, the session, its refresh token and its event written, and the
// player's ban checked; then an access token signed with ES256 and the
// service's claims. The service's sign-up gate is left out: it asks only
// about identities a sign-in creates.
func (b baseline) signIn(w http.ResponseWriter, r *http.Request) {
	var body wire.SignInRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "body: "+err.Error())
		return
	}
	game, gameErr := id.Parse[id.Game](body.GameID)
	var kindErr, nameErr error
	if body.Kind != identity.KindDevice.String() {
		kindErr = errors.New("the baseline signs in DEVICE identities")
	}
	_, keyErr := identity.NewExternalKey(identity.KindDevice, body.ExternalKey)
	var name identity.DisplayName
	if body.DisplayName != nil {
		name, nameErr = identity.ParseDisplayName(*body.DisplayName)
	}
	if err := errors.Join(gameErr, kindErr, keyErr, nameErr); err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	ctx := r.Context()
	var account id.UUID
	var deviceSignIn bool
	err := b.db.QueryRow(ctx, "SELECT account_id, device_sign_in FROM games WHERE id = $1 AND deleted_at IS NULL", game.UUID()).
		Scan(&account, &deviceSignIn)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		writeDetail(w, http.StatusNotFound, "Game not found")
		return
	case err != nil:
		internalError(w, err)
		return
	case !deviceSignIn:
		writeDetail(w, http.StatusBadRequest, "Device sign-in is disabled for this game")
		return
	}
	row, _, err := b.identityOf(ctx, naturalKey{account, game.UUID(), identity.KindDevice.String(), body.ExternalKey}, name)
	if err == nil {
		var refresh string
		var ses wire.IdentitySession
		if ses, refresh, err = b.startSession(ctx, &row); err == nil {
			b.answerSignIn(w, &row, ses, refresh)
			return
		}
	}
	var banned bannedError
	switch {
	case errors.As(err, &banned):
		writeJSON(w, http.StatusForbidden, wire.PlayerBanned{Detail: "Player is banned", ExpiresAt: banned.expiresAt})
	case errors.Is(err, pgx.ErrNoRows):
		writeDetail(w, http.StatusNotFound, "Game not found")
	case errors.Is(err, errIdentityGone):
		writeDetail(w, http.StatusNotFound, "Identity not found")
	default:
		internalError(w, err)
	}
}

var errIdentityGone = errors.New("identity deleted")

// bannedError is a sign-in refused: the player has a ban in force.
type bannedError struct{ expiresAt *time.Time }

func (bannedError) Error() string { return "player is banned" }

// startSession writes a session of row's identity, as the service's
// Sessions.Create does, with the player slice's check that it hears of
// session.created: the identity's player, then its ban in force, each read
// as the service reads it.
func (b baseline) startSession(ctx context.Context, row *identityRow) (ses wire.IdentitySession, refresh string, err error) {
	sessionID, now := id.New[id.Session](), domain.Timestamp(time.Now())
	expires, refreshExpires := now.Add(accessTTL), now.Add(refreshTTL)
	refresh = randomSecret()
	mac := hmac.New(sha256.New, b.pepper)
	mac.Write([]byte(refresh))
	ses = wire.IdentitySession{
		ID: sessionID.String(), IdentityID: id.FromUUID[id.Identity](row.id).String(),
		AccountID: id.FromUUID[id.Account](row.account).String(), GameID: id.FromUUID[id.Game](row.game).String(),
		ExpiresAt: expires, RefreshExpiresAt: refreshExpires, CreatedAt: now, UpdatedAt: now,
	}
	err = pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
		var identityDeleted, gameDeleted *time.Time
		err := tx.QueryRow(ctx, "SELECT i.deleted_at, g.deleted_at FROM identities AS i JOIN games AS g ON g.account_id = i.account_id AND g.id = i.game_id"+
			" WHERE i.id = $1 AND i.account_id = $2 AND i.game_id = $3 FOR SHARE", row.id, row.account, row.game).Scan(&identityDeleted, &gameDeleted)
		switch {
		case errors.Is(err, pgx.ErrNoRows), err == nil && identityDeleted != nil:
			return errIdentityGone
		case err != nil:
			return err
		case gameDeleted != nil:
			return pgx.ErrNoRows
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, created_at, updated_at)"+
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $7)", sessionID.UUID(), row.id, row.account, row.game, expires, refreshExpires, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO session_refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)",
			mac.Sum(nil), sessionID.UUID(), now); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, "session.created", "session", ses.ID, row.account, now, ses); err != nil {
			return err
		}
		var player id.UUID
		if err := tx.QueryRow(ctx, "SELECT player_id FROM identities WHERE id = $1", row.id).Scan(&player); err != nil {
			return err
		}
		var banned bannedError
		err = tx.QueryRow(ctx, "SELECT expires_at FROM bans WHERE player_id = $1 AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"+
			" ORDER BY created_at DESC LIMIT 1", player, now).Scan(&banned.expiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err == nil {
			return banned
		}
		return err
	})
	return ses, refresh, err
}

// tokenHeader and accessClaims are the service's (adapters/tokens), field
// for field and in its order, so that a token costs the same bytes to
// encode and to sign.
type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

type accessClaims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
	PlayerID  string `json:"ply,omitempty"`
	AccountID string `json:"acc"`
	GameID    string `json:"gam"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

// accessToken is c signed as a JWS in compact form with ES256 (RFC 7518
// section 3.4: R and S, 32 big-endian bytes each).
func (b baseline) accessToken(c accessClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, len(b.tokenHeader)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(64))
	input = append(append(input, b.tokenHeader...), '.')
	input = enc.AppendEncode(input, payload)
	digest := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, b.tokenKey, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s) // the low-S form the service issues and takes
	}
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return string(enc.AppendEncode(append(input, '.'), sig)), nil
}

func (b baseline) answerSignIn(w http.ResponseWriter, row *identityRow, ses wire.IdentitySession, refresh string) {
	ident := row.wire()
	token, err := b.accessToken(accessClaims{
		Issuer: "leadr", Audience: "leadr", Subject: ident.ID, SessionID: ses.ID, PlayerID: ident.PlayerID,
		AccountID: ident.AccountID, GameID: ident.GameID, IssuedAt: time.Now().Unix(), ExpiresAt: ses.ExpiresAt.Unix(),
	})
	if err != nil {
		internalError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/identity-sessions/"+ses.ID)
	writeJSON(w, http.StatusCreated, wire.SignInResponse{
		SessionID: ses.ID, Identity: ident, AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int(accessTTL.Seconds()), RefreshToken: refresh, RefreshExpiresIn: int(refreshTTL.Seconds()),
	})
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
