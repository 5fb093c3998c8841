#!/usr/bin/env bash
# Pastes the README's walkthrough (between the walkthrough markers) into a
# shell against a freshly built and started service, as a new user would,
# then stops the service with SIGTERM and checks it exits cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${LEADR_TEST_DATABASE_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

tmp=$(mktemp -d)
pid=
db="leadr_walkthrough_$$"
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  psql -q "$LEADR_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/leadr" ./cmd/leadr
psql -q "$LEADR_TEST_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
base=${LEADR_TEST_DATABASE_URL%%\?*}
query=${LEADR_TEST_DATABASE_URL#"$base"}
LEADR_DATABASE_URL="${base%/*}/$db$query" LEADR_HTTP_ADDR=127.0.0.1:0 "$tmp/leadr" serve 2>"$tmp/stderr" &
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
for want in '"display_name":"Ada"' '"kind":"STEAM"' '"display_name":"Grace H."' '"has_next":true'; do
  grep -q "$want" "$tmp/out" || { cat "$tmp/out" >&2; echo "walkthrough: output lacks $want" >&2; exit 1; }
done
[[ $(tail -n 1 "$tmp/out") == *404 ]] || { cat "$tmp/out" >&2; echo "walkthrough: the deleted identity is still there" >&2; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status == 0 ]] || { cat "$tmp/stderr" >&2; echo "walkthrough: the service exited with $status on SIGTERM" >&2; exit 1; }
echo "walkthrough: every README example worked ($(grep -c . "$tmp/walkthrough.sh") lines), and SIGTERM stopped the service cleanly"
