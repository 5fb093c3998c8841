-- The SQLite twin of postgres/20261201000002_sessions: the same tables, keys
-- and indexes.

CREATE TABLE sessions (
    id                 TEXT      PRIMARY KEY,
    identity_id        TEXT      NOT NULL CONSTRAINT sessions_identity_fkey REFERENCES identities (id),
    account_id         TEXT      NOT NULL,
    game_id            TEXT      NOT NULL,
    expires_at         TIMESTAMP NOT NULL,
    refresh_expires_at TIMESTAMP NOT NULL,
    revoked_at         TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CONSTRAINT sessions_game_fkey FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id)
);

CREATE INDEX sessions_account_created_idx ON sessions (account_id, created_at DESC, id);
CREATE INDEX sessions_account_identity_created_idx ON sessions (account_id, identity_id, created_at DESC, id);
CREATE INDEX sessions_identity_created_idx ON sessions (identity_id, created_at DESC, id);
CREATE INDEX sessions_created_idx ON sessions (created_at DESC, id);
CREATE INDEX sessions_game_live_idx ON sessions (game_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_refresh_expires_idx ON sessions (refresh_expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- SQLite lets a PRIMARY KEY that is not an INTEGER be NULL unless told.
CREATE TABLE session_refresh_tokens (
    hash       BLOB      NOT NULL PRIMARY KEY,
    session_id TEXT      NOT NULL
        CONSTRAINT session_refresh_tokens_session_fkey REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP
);
CREATE INDEX session_refresh_tokens_session_idx ON session_refresh_tokens (session_id);

CREATE TABLE session_nonces (
    hash       BLOB      NOT NULL PRIMARY KEY,
    session_id TEXT      NOT NULL
        CONSTRAINT session_nonces_session_fkey REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX session_nonces_session_idx ON session_nonces (session_id);

-- What the purge looks for.
CREATE INDEX session_refresh_tokens_rotated_idx ON session_refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
CREATE INDEX session_nonces_expires_idx ON session_nonces (expires_at);
