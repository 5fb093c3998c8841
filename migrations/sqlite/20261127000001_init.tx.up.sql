-- The SQLite twin of postgres/20261127000001_init: the same tables, keys and
-- indexes. UUIDs are stored as their canonical lower-case text and times as
-- bun writes them ('2006-01-02 15:04:05.999999+00:00', always UTC), so that
-- text order is the order the API promises; text compares by bytes
-- (SQLite's BINARY collation), as COLLATE "C" does on PostgreSQL.

CREATE TABLE accounts (
    id         TEXT      PRIMARY KEY,
    name       TEXT      NOT NULL,
    slug       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT accounts_slug_key UNIQUE (slug)
);
CREATE INDEX accounts_created_idx ON accounts (created_at DESC, id);

CREATE TABLE users (
    id           TEXT      PRIMARY KEY,
    account_id   TEXT      NOT NULL CONSTRAINT users_account_fkey REFERENCES accounts (id),
    email        TEXT      NOT NULL,
    display_name TEXT      NOT NULL,
    super_admin  BOOLEAN   NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_account_created_idx ON users (account_id, created_at DESC, id);
CREATE INDEX users_created_idx ON users (created_at DESC, id);
CREATE INDEX users_super_admin_idx ON users (id) WHERE super_admin;

CREATE TABLE api_keys (
    id         TEXT      PRIMARY KEY,
    account_id TEXT      NOT NULL CONSTRAINT api_keys_account_fkey REFERENCES accounts (id),
    user_id    TEXT      NOT NULL CONSTRAINT api_keys_user_fkey REFERENCES users (id),
    name       TEXT      NOT NULL,
    key_prefix TEXT      NOT NULL,
    key_hash   BLOB      NOT NULL,
    status     TEXT      NOT NULL CHECK (status IN ('active', 'revoked')),
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_account_created_idx ON api_keys (account_id, created_at DESC, id);
CREATE INDEX api_keys_created_idx ON api_keys (created_at DESC, id);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE identities (
    id           TEXT      PRIMARY KEY,
    account_id   TEXT      NOT NULL CONSTRAINT identities_account_fkey REFERENCES accounts (id),
    game_id      TEXT      NOT NULL,
    kind         TEXT      NOT NULL CHECK (kind IN ('DEVICE', 'STEAM', 'CUSTOM')),
    external_key TEXT      NOT NULL,
    display_name TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    deleted_at   TIMESTAMP
);

CREATE UNIQUE INDEX identities_live_key ON identities (account_id, game_id, kind, external_key)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_created_idx ON identities (account_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_game_created_idx ON identities (account_id, game_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_game_created_idx ON identities (game_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_created_idx ON identities (created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_display_name_idx ON identities (account_id, display_name, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_updated_idx ON identities (account_id, updated_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_kind_idx ON identities (account_id, kind, id)
    WHERE deleted_at IS NULL;

CREATE TABLE service_secrets (
    name       TEXT      PRIMARY KEY,
    value      BLOB      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
