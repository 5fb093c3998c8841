-- The SQLite twin of postgres/20261207000005_game_slugs_per_account: game
-- slugs unique within an account, and device_sign_in.
--
-- SQLite cannot drop a table's UNIQUE constraint, only rebuild the table,
-- and identities and sessions reference games. PRAGMA foreign_keys cannot
-- change inside the migration's transaction, so the references are checked
-- at commit instead: dropping games counts every row that references it as
-- a violation, and inserting each game again into the new table takes its
-- own back. A row the copy lost would fail the commit, and change nothing.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE games_copy AS SELECT * FROM games;
DROP TABLE games;

CREATE TABLE games (
    id                TEXT      PRIMARY KEY,
    account_id        TEXT      NOT NULL CONSTRAINT games_account_fkey REFERENCES accounts (id),
    name              TEXT      NOT NULL,
    slug              TEXT      NOT NULL,
    steam_app_id      TEXT,
    -- AES-GCM sealed by the service; never the plaintext.
    steam_web_api_key BLOB,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    deleted_at        TIMESTAMP,
    device_sign_in    BOOLEAN   NOT NULL DEFAULT TRUE,
    -- Unique within an account, a deleted game's included; led by the slug
    -- so that a list by slug alone uses it too.
    CONSTRAINT games_slug_account_key UNIQUE (slug, account_id),
    -- What identities and sessions reference: a game together with its account.
    CONSTRAINT games_account_id_key UNIQUE (account_id, id)
);

INSERT INTO games (id, account_id, name, slug, steam_app_id, steam_web_api_key, created_at, updated_at, deleted_at)
SELECT id, account_id, name, slug, steam_app_id, steam_web_api_key, created_at, updated_at, deleted_at
FROM games_copy;
DROP TABLE games_copy;

CREATE INDEX games_account_created_idx ON games (account_id, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_created_idx ON games (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_name_idx ON games (account_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_updated_idx ON games (account_id, updated_at DESC, id) WHERE deleted_at IS NULL;
