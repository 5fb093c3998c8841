-- The last migration of the release that sealed the service's secrets
-- (20261207000003): an upgraded database rolls the release back as one
-- group, this migration first. Once a start has sealed them, 0003's down
-- refuses; were that found out only there, this migration and 0004 would
-- be rolled back already, leaving the database half way. So the same
-- refusal comes first here, before anything changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sealed_secrets) THEN
        RAISE EXCEPTION 'the service''s secrets are sealed under LEADR_ENCRYPTION_KEY, which earlier versions cannot read: rolling back would invalidate every API key and session';
    END IF;
END $$;

-- Slugs go back to being unique across accounts, which two accounts that
-- share a slug by now cannot be: stop, name it, and change nothing.
DO $$
DECLARE
    shared text;
BEGIN
    SELECT slug INTO shared FROM games GROUP BY slug HAVING count(*) > 1 LIMIT 1;
    IF shared IS NOT NULL THEN
        RAISE EXCEPTION 'game slug % is used in more than one account: give all but one of its games another slug, then roll back again', shared;
    END IF;
END
$$;

ALTER TABLE games DROP COLUMN device_sign_in;
ALTER TABLE games ADD CONSTRAINT games_slug_key UNIQUE (slug);
ALTER TABLE games DROP CONSTRAINT games_slug_account_key;
