ALTER TABLE api_keys DROP COLUMN rate_limit;

-- E-mails go back to being unique across accounts, which two accounts that
-- share one by now cannot be: stop, name it, and change nothing.
DO $$
DECLARE
    shared text;
BEGIN
    SELECT email INTO shared FROM users GROUP BY email HAVING count(*) > 1 LIMIT 1;
    IF shared IS NOT NULL THEN
        RAISE EXCEPTION 'the e-mail % is used in more than one account: give all but one of its users another e-mail, then roll back again', shared;
    END IF;
END
$$;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users DROP CONSTRAINT users_account_email_key;
