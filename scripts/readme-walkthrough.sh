#!/usr/bin/env bash
# Pastes the README's walkthrough (between the walkthrough markers) into a
# shell against a freshly built service, as a new user would, then stops the
# service with SIGTERM and checks it exits cleanly.
#
#   scripts/readme-walkthrough.sh sqlite    the zero-setup start: an empty
#                                           folder, no database configured
#   scripts/readme-walkthrough.sh postgres  on a new PostgreSQL database
#                                           (LEADR_TEST_DATABASE_URL's server,
#                                           or a throw-away one)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
if [[ $backend == postgres && -z ${LEADR_TEST_DATABASE_URL:-} ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

tmp=$(mktemp -d)
pid=
db="leadr_walkthrough_$$"
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  if [[ $backend == postgres ]]; then
    psql -q "$LEADR_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/leadr" ./cmd/leadr
mkdir "$tmp/run"
# Only the address is set (a free port, never a clash with :8080).
env=(env -i "PATH=$PATH" "HOME=$tmp/run" LEADR_HTTP_ADDR=127.0.0.1:0)
case $backend in
  sqlite) ;;
  postgres)
    psql -q "$LEADR_TEST_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
    base=${LEADR_TEST_DATABASE_URL%%\?*}
    query=${LEADR_TEST_DATABASE_URL#"$base"}
    # PostgreSQL needs the key the service's secrets are sealed under.
    env+=("LEADR_DATABASE_URL=${base%/*}/$db$query" "LEADR_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)") ;;
  *) echo "walkthrough: backend $backend? (sqlite or postgres)" >&2; exit 2 ;;
esac
(cd "$tmp/run" && exec "${env[@]}" "$tmp/leadr" serve) 2>"$tmp/stderr" &
pid=$!

addr=
for _ in $(seq 1 300); do
  addr=$(grep -o '"msg":"listening","addr":"[^"]*"' "$tmp/stderr" | cut -d'"' -f8 || true)
  [[ -n $addr ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr" >&2; echo "walkthrough: the service did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -n $addr ]] || { cat "$tmp/stderr" >&2; echo "walkthrough: the service did not listen" >&2; exit 1; }

export LEADR="http://$addr/v1"
KEY=$(grep -o 'ldr_[A-Za-z0-9_-]\{43\}' "$tmp/stderr" | head -n 1)
export KEY
sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md | sed '/^```/d;/^<!--/d' >"$tmp/walkthrough.sh"
[[ $(wc -l <"$tmp/walkthrough.sh") -gt 10 ]] || { echo "walkthrough: no walkthrough found in README.md" >&2; exit 1; }

if ! bash -euo pipefail "$tmp/walkthrough.sh" >"$tmp/out" 2>&1; then
  cat "$tmp/out" >&2
  echo "walkthrough: a README example failed" >&2
  exit 1
fi
for want in '"display_name":"Ada"' '"kind":"STEAM"' '"display_name":"Grace H."' '"has_next":true' \
  '"token_type":"Bearer"' '"display_name":"Ada L."'; do
  grep -q "$want" "$tmp/out" || { cat "$tmp/out" >&2; echo "walkthrough: output lacks $want" >&2; exit 1; }
done
# Signing out answers 204, and the signed-out token is refused at once.
grep -A1 "204$" "$tmp/out" | grep -qx 401 || { cat "$tmp/out" >&2; echo "walkthrough: the signed-out session still answers" >&2; exit 1; }
[[ $(tail -n 1 "$tmp/out") == *404 ]] || { cat "$tmp/out" >&2; echo "walkthrough: the deleted identity is still there" >&2; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status == 0 ]] || { cat "$tmp/stderr" >&2; echo "walkthrough: the service exited with $status on SIGTERM" >&2; exit 1; }
if [[ $backend == sqlite && ! -f $tmp/run/data/leadr.db ]]; then
  echo "walkthrough: the zero-setup start made no ./data/leadr.db" >&2
  exit 1
fi
if [[ $backend == sqlite && $(stat -c %a "$tmp/run/data/leadr.db.key" 2>/dev/null) != 600 ]]; then
  echo "walkthrough: the zero-setup start made no ./data/leadr.db.key readable by its owner only" >&2
  exit 1
fi
echo "walkthrough ($backend): every README example worked ($(grep -c . "$tmp/walkthrough.sh") lines), and SIGTERM stopped the service cleanly"
