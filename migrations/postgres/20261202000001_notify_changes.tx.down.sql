DROP TRIGGER games_notify_delete ON games;
DROP TRIGGER identities_notify_delete ON identities;
DROP TRIGGER sessions_notify_delete ON sessions;
DROP TRIGGER sessions_notify_revoke ON sessions;
DROP TRIGGER api_keys_notify_change ON api_keys;
DROP FUNCTION leadr_notify_change();
