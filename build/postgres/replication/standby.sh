#!/bin/bash
# Starts a streaming standby of a primary (primary.sh) from the official
# postgres image or build/postgres, as their entrypoint: on its first start
# (no data yet) it clones the primary with pg_basebackup, waiting for it to
# be up, and points the clone at it; then the image's own entrypoint starts
# the server, and leaves a data folder that exists alone.
#
#   PRIMARY_HOST          required
#   PRIMARY_PORT          default 5432
#   REPLICATION_PASSWORD  required
#   REPLICATION_USER      default replicator
#   STANDBY_NAME          default standby: its application_name on the
#                         primary, as synchronous_standby_names names it
set -Eeuo pipefail
: "${PRIMARY_HOST:?}" "${PRIMARY_PORT:=5432}" "${REPLICATION_PASSWORD:?}" "${REPLICATION_USER:=replicator}"
: "${STANDBY_NAME:=standby}" "${PGDATA:=/var/lib/postgresql/data}"

as_postgres=()
[[ $(id -u) == 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups)
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDATA"
  for attempt in $(seq 1 120); do
    if PGPASSWORD=$REPLICATION_PASSWORD "${as_postgres[@]}" pg_basebackup --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" \
        --username="$REPLICATION_USER" --no-password --pgdata="$PGDATA" --wal-method=stream --checkpoint=fast; then
      break
    fi
    ((attempt < 120)) || { echo "standby: cannot clone $PRIMARY_HOST:$PRIMARY_PORT" >&2; exit 1; }
    find "$PGDATA" -mindepth 1 -delete
    sleep 1
  done
  # connect_timeout: a WAL receiver stuck connecting to a dead primary
  # holds up its own promotion.
  printf "primary_conninfo = 'host=%s port=%s user=%s password=%s application_name=%s connect_timeout=2'\n" \
    "$PRIMARY_HOST" "$PRIMARY_PORT" "$REPLICATION_USER" "$REPLICATION_PASSWORD" "$STANDBY_NAME" >>"$PGDATA/postgresql.auto.conf"
  touch "$PGDATA/standby.signal"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDATA/standby.signal"
fi
exec docker-entrypoint.sh "$@"
