-- The secrets the service generates are stored sealed under its root key
-- (LEADR_ENCRYPTION_KEY) from now on, so that a copy of the database alone
-- opens nothing and mints nothing. The plaintext ones wait in legacy_secrets
-- for the first start with the key, which seals them, re-seals games' Steam
-- keys and drops legacy_secrets in one transaction (adapters/store/secrets.go).
-- A service of an earlier version finds no service_secrets and refuses to
-- start, rather than taking sealed values for plaintext ones.
ALTER TABLE service_secrets RENAME TO legacy_secrets;

CREATE TABLE sealed_secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
