-- Earlier versions read secrets in plaintext: once the service has sealed
-- them, going back would lose every API key, session and Steam key. Stop,
-- and change nothing (SQLite has no RAISE outside triggers, so a trigger on
-- a scratch table raises it).
CREATE TEMP TABLE sealed_secrets_guard (name TEXT);
CREATE TEMP TRIGGER sealed_secrets_guard_raise BEFORE INSERT ON sealed_secrets_guard
BEGIN
    SELECT RAISE(ABORT, 'the service''s secrets are sealed under its key, which earlier versions cannot read: rolling back would invalidate every API key and session');
END;
INSERT INTO sealed_secrets_guard SELECT name FROM sealed_secrets LIMIT 1;
DROP TRIGGER sealed_secrets_guard_raise;
DROP TABLE sealed_secrets_guard;

DROP TABLE sealed_secrets;
-- Gone once a start converted it; it was empty then.
CREATE TABLE IF NOT EXISTS legacy_secrets (
    name       TEXT      PRIMARY KEY,
    value      BLOB      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
ALTER TABLE legacy_secrets RENAME TO service_secrets;
