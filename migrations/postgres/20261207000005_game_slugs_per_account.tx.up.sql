-- Game slugs are unique within an account, no longer across accounts: a
-- global constraint let one tenant learn another's slugs (409) and take
-- them first. The new unique index leads with the slug, so that it also
-- serves a superadmin's list filtered by slug alone; within an account it
-- is the one plan of a slug lookup.
ALTER TABLE games ADD CONSTRAINT games_slug_account_key UNIQUE (slug, account_id);
ALTER TABLE games DROP CONSTRAINT games_slug_key;

-- A game may turn off sign-in with a device ID alone. With a constant
-- default, adding the column rewrites no row.
ALTER TABLE games ADD COLUMN device_sign_in boolean NOT NULL DEFAULT true;
