-- The secrets the service generates are stored sealed under its root key
-- (the key file beside the database, or LEADR_ENCRYPTION_KEY) from now on.
-- The plaintext ones wait in legacy_secrets for the first start with the
-- key, which seals them, re-seals games' Steam keys and drops legacy_secrets
-- in one transaction (adapters/store/secrets.go). A service of an earlier
-- version finds no service_secrets and refuses to start, rather than taking
-- sealed values for plaintext ones.
ALTER TABLE service_secrets RENAME TO legacy_secrets;

CREATE TABLE sealed_secrets (
    name       TEXT      PRIMARY KEY,
    value      BLOB      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
