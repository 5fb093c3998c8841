CREATE TABLE identities_old (
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
INSERT INTO identities_old SELECT id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at
FROM identities;
DROP TABLE identities;
ALTER TABLE identities_old RENAME TO identities;
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
DROP TABLE games;
