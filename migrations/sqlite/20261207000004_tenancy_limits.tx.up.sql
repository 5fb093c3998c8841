-- The SQLite twin of postgres/20261207000004_tenancy_limits: e-mails unique
-- within an account, and an API key's own rate limit.
--
-- SQLite cannot drop a table's UNIQUE constraint, only rebuild the table,
-- and API keys reference users. PRAGMA foreign_keys cannot change inside
-- the migration's transaction, so the references are checked at commit
-- instead: dropping users counts every key that references it as a
-- violation, and inserting each user again into the new table takes its
-- own back. A row the copy lost would fail the commit, and change nothing.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE users_copy AS SELECT * FROM users;
DROP TABLE users;

CREATE TABLE users (
    id           TEXT      PRIMARY KEY,
    account_id   TEXT      NOT NULL CONSTRAINT users_account_fkey REFERENCES accounts (id),
    email        TEXT      NOT NULL,
    display_name TEXT      NOT NULL,
    super_admin  BOOLEAN   NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT users_account_email_key UNIQUE (account_id, email)
);

INSERT INTO users (id, account_id, email, display_name, super_admin, created_at, updated_at)
SELECT id, account_id, email, display_name, super_admin, created_at, updated_at FROM users_copy;
DROP TABLE users_copy;

CREATE INDEX users_account_created_idx ON users (account_id, created_at DESC, id);
CREATE INDEX users_created_idx ON users (created_at DESC, id);
CREATE INDEX users_super_admin_idx ON users (id) WHERE super_admin;

-- "N/s", "N/m", "N/h" or "off"; NULL is the service's default.
ALTER TABLE api_keys ADD COLUMN rate_limit TEXT
    CHECK (rate_limit IS NULL OR rate_limit = 'off' OR rate_limit GLOB '[1-9]*/[smh]');
