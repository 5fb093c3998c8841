-- PostgreSQL's version adds triggers that notify other replicas of changes
-- to credentials. SQLite serves one process, which caches no credentials:
-- nothing to do, but the versions stay the same on both dialects.
SELECT 1;
