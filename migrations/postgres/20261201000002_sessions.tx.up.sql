-- Sessions: game clients signed in as identities. Only HMACs of their
-- refresh tokens and nonces are stored, never the secrets.

CREATE TABLE sessions (
    id                 uuid        PRIMARY KEY,
    identity_id        uuid        NOT NULL CONSTRAINT sessions_identity_fkey REFERENCES identities (id),
    account_id         uuid        NOT NULL,
    game_id            uuid        NOT NULL,
    -- Of the newest access token.
    expires_at         timestamptz NOT NULL,
    refresh_expires_at timestamptz NOT NULL,
    revoked_at         timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- As for identities: a game together with its account.
    CONSTRAINT sessions_game_fkey FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id)
);

-- The default order for each way a list is scoped: an account, an identity
-- within its account (what a regular key asks), an identity across accounts,
-- everything. Lists show revoked sessions too, so these are not partial.
CREATE INDEX sessions_account_created_idx ON sessions (account_id, created_at DESC, id);
CREATE INDEX sessions_account_identity_created_idx ON sessions (account_id, identity_id, created_at DESC, id);
CREATE INDEX sessions_identity_created_idx ON sessions (identity_id, created_at DESC, id);
CREATE INDEX sessions_created_idx ON sessions (created_at DESC, id);
-- Deleting a game revokes its sessions that are not revoked yet (an
-- identity's are found by sessions_identity_created_idx).
CREATE INDEX sessions_game_live_idx ON sessions (game_id) WHERE revoked_at IS NULL;
-- Purge finds the sessions that expired, or were revoked, long enough ago.
CREATE INDEX sessions_refresh_expires_idx ON sessions (refresh_expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session was given; rotated ones are kept while the
-- session is, so that presenting one again is recognised as reuse.
CREATE TABLE session_refresh_tokens (
    hash       bytea       PRIMARY KEY,
    session_id uuid        NOT NULL
        CONSTRAINT session_refresh_tokens_session_fkey REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    rotated_at timestamptz
);
-- What the cascade of a purged session looks its rows up by.
CREATE INDEX session_refresh_tokens_session_idx ON session_refresh_tokens (session_id);

CREATE TABLE session_nonces (
    hash       bytea       PRIMARY KEY,
    session_id uuid        NOT NULL
        CONSTRAINT session_nonces_session_fkey REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX session_nonces_session_idx ON session_nonces (session_id);
-- No index on expires_at: nonces live a minute and purges come minutes
-- apart, so the table is small and mostly expired when a purge reads it.

-- What the purge looks for.
CREATE INDEX session_refresh_tokens_rotated_idx ON session_refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
CREATE INDEX session_nonces_expires_idx ON session_nonces (expires_at);
