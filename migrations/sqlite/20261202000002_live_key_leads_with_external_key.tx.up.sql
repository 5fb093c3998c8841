-- PostgreSQL's version reorders the natural key's unique index for its
-- planner; SQLite's serves as it is. The versions stay the same on both.
SELECT 1;
