ALTER TABLE api_keys DROP COLUMN rate_limit;

-- E-mails go back to being unique across accounts, which two accounts that
-- share one by now cannot be: stop, name it, and change nothing (SQLite has
-- no RAISE outside triggers, so a trigger on a scratch table raises it).
CREATE TEMP TABLE users_downgrade_guard (email TEXT);
CREATE TEMP TRIGGER users_downgrade_guard_raise BEFORE INSERT ON users_downgrade_guard
BEGIN
    SELECT RAISE(ABORT, 'the e-mail ' || NEW.email ||
        ' is used in more than one account: give all but one of its users another e-mail, then roll back again');
END;
INSERT INTO users_downgrade_guard SELECT email FROM users GROUP BY email HAVING count(*) > 1 LIMIT 1;
DROP TRIGGER users_downgrade_guard_raise;
DROP TABLE users_downgrade_guard;

-- The table is rebuilt as the up migration explains.
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
    CONSTRAINT users_email_key UNIQUE (email)
);

INSERT INTO users (id, account_id, email, display_name, super_admin, created_at, updated_at)
SELECT id, account_id, email, display_name, super_admin, created_at, updated_at FROM users_copy;
DROP TABLE users_copy;

CREATE INDEX users_account_created_idx ON users (account_id, created_at DESC, id);
CREATE INDEX users_created_idx ON users (created_at DESC, id);
CREATE INDEX users_super_admin_idx ON users (id) WHERE super_admin;
