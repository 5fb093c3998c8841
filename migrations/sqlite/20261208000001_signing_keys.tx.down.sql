-- The last migration of the release that sealed the service's secrets
-- (20261207000003) when they are applied together: the refusal that
-- 20261207000006's down explains comes first here, before anything changes.
CREATE TEMP TABLE release_downgrade_guard (name TEXT);
CREATE TEMP TRIGGER release_downgrade_guard_raise BEFORE INSERT ON release_downgrade_guard
BEGIN
    SELECT RAISE(ABORT, 'the service''s secrets are sealed under its key, which earlier versions cannot read: rolling back would invalidate every API key and session');
END;
INSERT INTO release_downgrade_guard SELECT name FROM sealed_secrets LIMIT 1;
DROP TRIGGER release_downgrade_guard_raise;
DROP TABLE release_downgrade_guard;

-- Earlier versions sign with the HS256 secret: the ES256 tokens issued since
-- are refused by them, and clients get new ones with their refresh tokens.
DROP TABLE signing_keys;
