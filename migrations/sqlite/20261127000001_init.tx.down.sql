DROP TABLE service_secrets;
DROP TABLE identities;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE accounts;
