-- Rotated refresh tokens are no longer purged on their own, some days after
-- their rotation: they stay as long as their session, and go with it (the
-- cascade of its purge), so that presenting one again revokes the session
-- for as long as it could be refreshed (LEADR_SESSION_MAX_AGE bounds that).
-- Nothing reads this index any more; every rotation wrote to it.
DROP INDEX session_refresh_tokens_rotated_idx;
