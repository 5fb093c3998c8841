-- Slugs go back to being unique across accounts, which two accounts that
-- share a slug by now cannot be: stop, name it, and change nothing (SQLite
-- has no RAISE outside triggers, so a trigger on a scratch table raises it).
CREATE TEMP TABLE games_downgrade_guard (slug TEXT);
CREATE TEMP TRIGGER games_downgrade_guard_raise BEFORE INSERT ON games_downgrade_guard
BEGIN
    SELECT RAISE(ABORT, 'game slug ' || NEW.slug ||
        ' is used in more than one account: give all but one of its games another slug, then roll back again');
END;
INSERT INTO games_downgrade_guard SELECT slug FROM games GROUP BY slug HAVING count(*) > 1 LIMIT 1;
DROP TRIGGER games_downgrade_guard_raise;
DROP TABLE games_downgrade_guard;

-- The table is rebuilt as the up migration explains.
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
    -- Slugs are never reused, not even a deleted game's.
    CONSTRAINT games_slug_key UNIQUE (slug),
    -- What identities reference: a game together with its account.
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
