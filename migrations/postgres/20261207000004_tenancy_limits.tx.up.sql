-- E-mails are unique within an account, no longer across accounts: a global
-- constraint told one tenant that another had a user with an e-mail (409).
-- The new constraint's index leads with the account, as every list of users
-- does.
ALTER TABLE users ADD CONSTRAINT users_account_email_key UNIQUE (account_id, email);
ALTER TABLE users DROP CONSTRAINT users_email_key;

-- An API key's own rate limit, set by superadmins: "N/s", "N/m", "N/h" or
-- "off"; NULL is the service's default (LEADR_RATE_LIMIT_API_KEY). Changing
-- it updates the row, so the api_keys trigger tells every replica to
-- forget the key's cached principal, which carries the limit.
ALTER TABLE api_keys ADD COLUMN rate_limit text
    CHECK (rate_limit ~ '^([1-9][0-9]{0,6}/[smh]|off)$');
