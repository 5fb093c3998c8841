CREATE INDEX identities_external_key_idx ON identities (external_key) WHERE deleted_at IS NULL;
ALTER INDEX identities_live_key RENAME TO identities_live_key_by_external_key;
CREATE UNIQUE INDEX identities_live_key ON identities (account_id, game_id, kind, external_key)
    WHERE deleted_at IS NULL;
DROP INDEX identities_live_key_by_external_key;
