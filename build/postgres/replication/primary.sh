#!/bin/bash
# Makes a new server a primary that streams to standbys (standby.sh), when
# put in /docker-entrypoint-initdb.d of the official postgres image or of
# build/postgres: a role that may replicate, a pg_hba line for it (the
# images' own "host all all all" does not cover replication connections),
# and, from the next start on, commits that wait for a standby to confirm
# them (synchronous_standby_names: not on the command line, where the
# official image's set-up server would wait for a standby that cannot exist
# yet).
#
#   REPLICATION_PASSWORD        required
#   REPLICATION_USER            default replicator
#   SYNCHRONOUS_STANDBY_NAMES   default '*': any standby confirms; '' for
#                               asynchronous replication
set -Eeuo pipefail
: "${REPLICATION_PASSWORD:?}" "${REPLICATION_USER:=replicator}" "${SYNCHRONOUS_STANDBY_NAMES=*}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres \
  --set user="$REPLICATION_USER" --set password="$REPLICATION_PASSWORD" --set names="$SYNCHRONOUS_STANDBY_NAMES" <<'SQL'
CREATE ROLE :"user" WITH LOGIN REPLICATION PASSWORD :'password';
ALTER SYSTEM SET synchronous_standby_names = :'names';
SQL
printf 'host replication %s all %s\n' "$REPLICATION_USER" "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
