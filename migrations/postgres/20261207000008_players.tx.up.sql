-- Players: one person in one game, holding one or more identities (the
-- credentials they sign in with); bans; and the deletion lifecycle (deleted,
-- restorable until purge_after, then purged to a tombstone). A player
-- closed by a merge names the player it went into.
CREATE TABLE players (
    id          uuid        PRIMARY KEY,
    account_id  uuid        NOT NULL,
    game_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    purge_after timestamptz,
    purged_at   timestamptz,
    merged_into uuid,
    CONSTRAINT players_game_fkey FOREIGN KEY (account_id, game_id) REFERENCES games (account_id, id)
);

-- Lists hold live players or deleted ones, never tombstones or closed ones:
-- the default order for each scope, as for identities.
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
    id         uuid        PRIMARY KEY,
    player_id  uuid        NOT NULL CONSTRAINT bans_player_fkey REFERENCES players (id),
    reason     text        NOT NULL,
    expires_at timestamptz,
    lifted_at  timestamptz,
    actor_type text        NOT NULL,
    actor_id   text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- A player's history, newest first; its ban in force is the newest.
CREATE INDEX bans_player_created_idx ON bans (player_id, created_at DESC, id);
-- The players with a ban that may be in force (a list's banned=true).
CREATE INDEX bans_unlifted_idx ON bans (player_id) WHERE lifted_at IS NULL;

-- Every identity gets a player of its own, whose UUID is the identity's (as
-- identity.New names a new identity's player). Nothing else changes.
ALTER TABLE identities ADD COLUMN player_id uuid;
INSERT INTO players (id, account_id, game_id, created_at, updated_at)
    SELECT id, account_id, game_id, created_at, created_at FROM identities;
UPDATE identities SET player_id = id;
ALTER TABLE identities ALTER COLUMN player_id SET NOT NULL;
-- No foreign key: the player of a new identity is written by the player
-- slice, which hears of identity.created in the same transaction; the
-- identity slice neither knows nor waits for it (and its own tests run
-- without the player slice). The contract suite checks that every
-- identity's player exists once the slices are joined.
CREATE INDEX identities_player_idx ON identities (player_id);
-- What the purge of soft-deleted identities looks for.
CREATE INDEX identities_deleted_at_idx ON identities (deleted_at) WHERE deleted_at IS NOT NULL;
