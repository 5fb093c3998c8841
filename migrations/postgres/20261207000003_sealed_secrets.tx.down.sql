-- Earlier versions read secrets in plaintext: once the service has sealed
-- them, going back would lose every API key, session and Steam key. Stop,
-- and change nothing.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sealed_secrets) THEN
        RAISE EXCEPTION 'the service''s secrets are sealed under LEADR_ENCRYPTION_KEY, which earlier versions cannot read: rolling back would invalidate every API key and session';
    END IF;
END $$;

DROP TABLE sealed_secrets;
-- Gone once a start converted it; it was empty then.
CREATE TABLE IF NOT EXISTS legacy_secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE legacy_secrets RENAME TO service_secrets;
