-- The last migration of the release that sealed the service's secrets
-- (20261207000003) when they are applied together: the refusal that
-- 20261207000006's down explains comes first here, before anything changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sealed_secrets) THEN
        RAISE EXCEPTION 'the service''s secrets are sealed under LEADR_ENCRYPTION_KEY, which earlier versions cannot read: rolling back would invalidate every API key and session';
    END IF;
END $$;

-- Earlier versions sign with the HS256 secret: the ES256 tokens issued since
-- are refused by them, and clients get new ones with their refresh tokens.
DROP TABLE signing_keys;
