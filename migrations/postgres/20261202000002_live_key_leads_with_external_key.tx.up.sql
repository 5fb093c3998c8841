-- The natural key's unique index leads with its most selective column, the
-- external key. Get-or-create looks an identity up by all four columns on
-- every sign-in, and with the account first the planner saw other indexes
-- (account and kind; the external key alone) as just as good: before ANALYZE
-- it filtered a whole account's identities through identities_account_kind_idx.
-- Led by the external key, the unique index is the one plan of that lookup
-- whatever the statistics (TestPointReadsUseTheirUniqueIndexWhateverTheStatistics),
-- and it also serves support staff's lookups by external key, so the index
-- that did goes: one index fewer to write and to plan around.
-- ON CONFLICT names the columns, not their order: the upsert is unchanged.
ALTER INDEX identities_live_key RENAME TO identities_live_key_by_account;
CREATE UNIQUE INDEX identities_live_key ON identities (external_key, kind, game_id, account_id)
    WHERE deleted_at IS NULL;
DROP INDEX identities_live_key_by_account;
DROP INDEX identities_external_key_idx;
