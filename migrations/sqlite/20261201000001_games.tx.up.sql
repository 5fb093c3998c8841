-- Games: identities belong to a game that exists, in the identity's account.

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

CREATE INDEX games_account_created_idx ON games (account_id, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_created_idx ON games (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_name_idx ON games (account_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_updated_idx ON games (account_id, updated_at DESC, id) WHERE deleted_at IS NULL;

-- Every game ID identities already use becomes a game of its account. A game
-- ID used in two accounts cannot: stop, and change nothing (SQLite has no
-- RAISE outside triggers, so a trigger on a scratch table raises it).
CREATE TEMP TABLE games_upgrade_guard (game_id TEXT);
CREATE TEMP TRIGGER games_upgrade_guard_raise BEFORE INSERT ON games_upgrade_guard
BEGIN
    SELECT RAISE(ABORT, 'game ID gam_' || NEW.game_id ||
        ' is used by identities of more than one account: give each account a game ID of its own, then upgrade again');
END;
INSERT INTO games_upgrade_guard
SELECT game_id FROM identities GROUP BY game_id HAVING count(DISTINCT account_id) > 1 LIMIT 1;
DROP TRIGGER games_upgrade_guard_raise;
DROP TABLE games_upgrade_guard;

INSERT INTO games (id, account_id, name, slug, created_at, updated_at)
SELECT game_id, account_id, 'Imported game',
       -- UUIDv7s made in the same minute share their first 8 hex digits.
       'imported-' || prefix || CASE WHEN n > 1 THEN '-' || n ELSE '' END,
       first_seen, first_seen
FROM (
    SELECT game_id, account_id, first_seen, prefix,
           row_number() OVER (PARTITION BY prefix ORDER BY game_id) AS n
    FROM (
        SELECT game_id, min(account_id) AS account_id, min(created_at) AS first_seen,
               substr(replace(game_id, '-', ''), 1, 8) AS prefix
        FROM identities
        GROUP BY game_id
    ) AS used
) AS numbered;

-- SQLite adds a foreign key only by rebuilding the table.
CREATE TABLE identities_new (
    id           TEXT      PRIMARY KEY,
    account_id   TEXT      NOT NULL CONSTRAINT identities_account_fkey REFERENCES accounts (id),
    game_id      TEXT      NOT NULL,
    kind         TEXT      NOT NULL CHECK (kind IN ('DEVICE', 'STEAM', 'CUSTOM')),
    external_key TEXT      NOT NULL,
    display_name TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    deleted_at   TIMESTAMP,
    CONSTRAINT identities_game_fkey FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id)
);
INSERT INTO identities_new SELECT id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at
FROM identities;
DROP TABLE identities;
ALTER TABLE identities_new RENAME TO identities;

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
-- Support staff look a player up by device or Steam ID.
CREATE INDEX identities_external_key_idx ON identities (external_key) WHERE deleted_at IS NULL;
