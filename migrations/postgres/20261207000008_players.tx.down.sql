-- Now the last migration of the release that sealed the service's secrets
-- (20261207000003), so the refusal that 20261207000006's down explains
-- comes first here, before anything changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sealed_secrets) THEN
        RAISE EXCEPTION 'the service''s secrets are sealed under LEADR_ENCRYPTION_KEY, which earlier versions cannot read: rolling back would invalidate every API key and session';
    END IF;
END $$;

DROP INDEX identities_deleted_at_idx;
ALTER TABLE identities DROP COLUMN player_id;
DROP TABLE bans;
DROP TABLE players;
