-- Text that is sorted or compared is COLLATE "C": byte order of UTF-8, the
-- order the API promises, whatever the database's default collation.

CREATE TABLE accounts (
    id         uuid        PRIMARY KEY,
    name       text        COLLATE "C" NOT NULL,
    slug       text        COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT accounts_slug_key UNIQUE (slug)
);
CREATE INDEX accounts_created_idx ON accounts (created_at DESC, id);

CREATE TABLE users (
    id           uuid        PRIMARY KEY,
    account_id   uuid        NOT NULL CONSTRAINT users_account_fkey REFERENCES accounts (id),
    email        text        COLLATE "C" NOT NULL,
    display_name text        COLLATE "C" NOT NULL,
    super_admin  boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_account_created_idx ON users (account_id, created_at DESC, id);
CREATE INDEX users_created_idx ON users (created_at DESC, id);
CREATE INDEX users_super_admin_idx ON users (id) WHERE super_admin;

CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL CONSTRAINT api_keys_account_fkey REFERENCES accounts (id),
    user_id    uuid        NOT NULL CONSTRAINT api_keys_user_fkey REFERENCES users (id),
    name       text        COLLATE "C" NOT NULL,
    key_prefix text        NOT NULL,
    key_hash   bytea       NOT NULL,
    status     text        NOT NULL CHECK (status IN ('active', 'revoked')),
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_account_created_idx ON api_keys (account_id, created_at DESC, id);
CREATE INDEX api_keys_created_idx ON api_keys (created_at DESC, id);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE identities (
    id           uuid        PRIMARY KEY,
    account_id   uuid        NOT NULL CONSTRAINT identities_account_fkey REFERENCES accounts (id),
    game_id      uuid        NOT NULL,
    kind         text        COLLATE "C" NOT NULL CHECK (kind IN ('DEVICE', 'STEAM', 'CUSTOM')),
    external_key text        COLLATE "C" NOT NULL,
    display_name text        COLLATE "C",
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    deleted_at   timestamptz
);

-- At most one live identity per natural key; get-or-create relies on it
-- (INSERT … ON CONFLICT … DO NOTHING).
CREATE UNIQUE INDEX identities_live_key ON identities (account_id, game_id, kind, external_key)
    WHERE deleted_at IS NULL;

-- The default order (created_at DESC, id ASC) for each way a list is scoped:
-- an account, an account and a game, a game across accounts, everything.
-- A kind filter rides on these (one row in three matches).
CREATE INDEX identities_account_created_idx ON identities (account_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_game_created_idx ON identities (account_id, game_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_game_created_idx ON identities (game_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_created_idx ON identities (created_at DESC, id)
    WHERE deleted_at IS NULL;

-- The other sort fields within an account.
CREATE INDEX identities_account_display_name_idx ON identities (account_id, display_name, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_updated_idx ON identities (account_id, updated_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE INDEX identities_account_kind_idx ON identities (account_id, kind, id)
    WHERE deleted_at IS NULL;

-- Secrets generated once and shared by every replica (cursor signing key,
-- API-key pepper) when the configuration gives none.
CREATE TABLE service_secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
