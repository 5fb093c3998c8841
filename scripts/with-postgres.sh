#!/usr/bin/env bash
# Runs a command with LEADR_TEST_DATABASE_URL pointing at a PostgreSQL server.
# When the variable is already set, that server is used. Otherwise a
# throw-away server is started from the machine's PostgreSQL binaries
# (initdb into a temporary folder, a free loopback port) and stopped, with
# its folder removed, when the command ends.
set -euo pipefail

if [[ -n "${LEADR_TEST_DATABASE_URL:-}" ]]; then
  exec "$@"
fi

find_bindir() {
  # pg_ctl on PATH may be a link (Debian's wrappers); its real folder holds
  # initdb and postgres too.
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  return 1
}
if ! bindir=$(find_bindir); then
  echo "with-postgres: no PostgreSQL server binaries found (install postgresql, e.g. Debian's postgresql-15)," >&2
  echo "with-postgres: or set LEADR_TEST_DATABASE_URL to a server you run." >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leadr-pg.XXXXXX")
# initdb refuses to run as root; use the postgres system user then.
run_pg=()
if [[ $(id -u) == 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "with-postgres: running as root and there is no 'postgres' user to run the server as" >&2
    exit 1
  fi
  chown postgres "$tmp"
  run_pg=(runuser -u postgres --)
fi

cleanup() {
  "${run_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"${run_pg[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
  cat "$tmp/initdb.log" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=
for _ in $(seq 1 20); do
  port=$(( 20000 + RANDOM % 30000 ))
  port_free "$port" || continue
  if "${run_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
    started=1; break
  fi
done
if [[ -z $started ]]; then
  echo "with-postgres: could not start PostgreSQL; its log:" >&2
  cat "$tmp/server.log" >&2 || true
  exit 1
fi

export LEADR_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: throw-away PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port" >&2
set +e
"$@"
status=$?
set -e
exit $status
