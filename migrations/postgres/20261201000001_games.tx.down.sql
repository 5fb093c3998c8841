DROP INDEX identities_external_key_idx;
ALTER TABLE identities DROP CONSTRAINT identities_game_fkey;
DROP TABLE games;
