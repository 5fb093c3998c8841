-- Games: identities belong to a game that exists, in the identity's account.

CREATE TABLE games (
    id                uuid        PRIMARY KEY,
    account_id        uuid        NOT NULL CONSTRAINT games_account_fkey REFERENCES accounts (id),
    name              text        COLLATE "C" NOT NULL,
    slug              text        COLLATE "C" NOT NULL,
    steam_app_id      text,
    -- AES-GCM sealed by the service; never the plaintext.
    steam_web_api_key bytea,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz,
    -- Slugs are never reused, not even a deleted game's.
    CONSTRAINT games_slug_key UNIQUE (slug),
    -- What identities reference: a game together with its account.
    CONSTRAINT games_account_id_key UNIQUE (account_id, id)
);

-- The default order for an account and across accounts, and the other sort
-- fields within an account. A slug filter uses games_slug_key.
CREATE INDEX games_account_created_idx ON games (account_id, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_created_idx ON games (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_name_idx ON games (account_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX games_account_updated_idx ON games (account_id, updated_at DESC, id) WHERE deleted_at IS NULL;

-- Every game ID identities already use becomes a game of its account. A game
-- ID used in two accounts cannot: stop, and change nothing.
DO $$
DECLARE
    shared uuid;
BEGIN
    SELECT game_id INTO shared FROM identities GROUP BY game_id HAVING count(DISTINCT account_id) > 1 LIMIT 1;
    IF shared IS NOT NULL THEN
        RAISE EXCEPTION 'game ID gam_% is used by identities of more than one account: give each account a game ID of its own, then upgrade again', shared;
    END IF;
END
$$;

INSERT INTO games (id, account_id, name, slug, created_at, updated_at)
SELECT game_id, account_id, 'Imported game',
       -- UUIDv7s made in the same minute share their first 8 hex digits.
       'imported-' || prefix || CASE WHEN n > 1 THEN '-' || n ELSE '' END,
       first_seen, first_seen
FROM (
    SELECT game_id, account_id, first_seen, prefix,
           row_number() OVER (PARTITION BY prefix ORDER BY game_id) AS n
    FROM (
        SELECT game_id, min(account_id::text)::uuid AS account_id, min(created_at) AS first_seen,
               left(replace(game_id::text, '-', ''), 8) AS prefix
        FROM identities
        GROUP BY game_id
    ) AS used
) AS numbered;

ALTER TABLE identities ADD CONSTRAINT identities_game_fkey
    FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id);

-- Support staff look a player up by device or Steam ID.
CREATE INDEX identities_external_key_idx ON identities (external_key) WHERE deleted_at IS NULL;
