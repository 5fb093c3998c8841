-- Slugs go back to being unique across accounts, which two accounts that
-- share a slug by now cannot be: stop, name it, and change nothing.
DO $$
DECLARE
    shared text;
BEGIN
    SELECT slug INTO shared FROM games GROUP BY slug HAVING count(*) > 1 LIMIT 1;
    IF shared IS NOT NULL THEN
        RAISE EXCEPTION 'game slug % is used in more than one account: give all but one of its games another slug, then roll back again', shared;
    END IF;
END
$$;

ALTER TABLE games DROP COLUMN device_sign_in;
ALTER TABLE games ADD CONSTRAINT games_slug_key UNIQUE (slug);
ALTER TABLE games DROP CONSTRAINT games_slug_account_key;
