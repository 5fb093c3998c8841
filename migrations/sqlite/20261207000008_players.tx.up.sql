-- The SQLite twin of postgres/20261207000008_players. SQLite cannot add a
-- NOT NULL column to a table that others reference without rebuilding it
-- (and sessions reference identities), so triggers require
-- identities.player_id instead.
CREATE TABLE players (
    id          TEXT      PRIMARY KEY,
    account_id  TEXT      NOT NULL,
    game_id     TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP,
    purge_after TIMESTAMP,
    purged_at   TIMESTAMP,
    merged_into TEXT,
    CONSTRAINT players_game_fkey FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id)
);

CREATE INDEX players_account_created_idx ON players (account_id, created_at DESC, id)
    WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX players_account_game_created_idx ON players (account_id, game_id, created_at DESC, id)
    WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX players_created_idx ON players (created_at DESC, id)
    WHERE deleted_at IS NULL AND merged_into IS NULL;
-- The deleted players awaiting their purge, which support lists to restore.
CREATE INDEX players_account_deleted_idx ON players (account_id, created_at DESC, id)
    WHERE deleted_at IS NOT NULL AND purged_at IS NULL;
-- What the purge looks for.
CREATE INDEX players_purge_idx ON players (purge_after)
    WHERE purged_at IS NULL AND purge_after IS NOT NULL;

CREATE TABLE bans (
    id         TEXT      PRIMARY KEY,
    player_id  TEXT      NOT NULL CONSTRAINT bans_player_fkey REFERENCES players (id),
    reason     TEXT      NOT NULL,
    expires_at TIMESTAMP,
    lifted_at  TIMESTAMP,
    actor_type TEXT      NOT NULL,
    actor_id   TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bans_player_created_idx ON bans (player_id, created_at DESC, id);
-- The players with a ban that may be in force (a list's banned=true).
CREATE INDEX bans_unlifted_idx ON bans (player_id) WHERE lifted_at IS NULL;

ALTER TABLE identities ADD COLUMN player_id TEXT;
INSERT INTO players (id, account_id, game_id, created_at, updated_at)
    SELECT id, account_id, game_id, created_at, created_at FROM identities;
UPDATE identities SET player_id = id;
CREATE TRIGGER identities_player_required_insert BEFORE INSERT ON identities
    WHEN NEW.player_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: identities.player_id');
END;
CREATE TRIGGER identities_player_required_update BEFORE UPDATE OF player_id ON identities
    WHEN NEW.player_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: identities.player_id');
END;
CREATE INDEX identities_player_idx ON identities (player_id);
CREATE INDEX identities_deleted_at_idx ON identities (deleted_at) WHERE deleted_at IS NOT NULL;
