#!/usr/bin/env bash
# Checks docker-compose.yml, starts it for real with the images of
# scripts/test-images.sh (the official ones where a registry serves them),
# waits until both services are healthy and smoke-tests the HTTP API; then
# takes the stack down and up again to see the data kept in its volume, and
# removes everything.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/compose-env.sh

c=("${compose[@]}" -p "leadr-smoke-$$")
"${c[@]}" config -q
echo "compose-smoke: compose file is valid" >&2
trap '"${c[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT

wait_healthy() {
  local cid status
  for _ in $(seq 1 120); do
    cid=$("${c[@]}" ps -q leadr)
    status=$([[ -n $cid ]] && docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$cid" || true)
    [[ $status == healthy ]] && return 0
    sleep 1
  done
  "${c[@]}" logs >&2 || true
  echo "compose-smoke: the service did not become healthy" >&2
  exit 1
}

base="http://127.0.0.1:$LEADR_PORT/v1"
H="leadr-api-key: $LEADR_SUPERADMIN_API_KEY"
J="Content-Type: application/json"
call() { curl -sS --fail-with-body "$@"; }

"${c[@]}" up -d --no-build >/dev/null 2>&1 || { "${c[@]}" up -d --no-build; exit 1; }
wait_healthy
call "$base/health" | grep -q '"database":"connected"'
account=$(call -X POST "$base/accounts" -H "$H" -H "$J" -d '{"name":"Smoke","slug":"smoke"}' | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
game=$(call -X POST "$base/games" -H "$H" -H "$J" -d "{\"account_id\":\"$account\",\"name\":\"Smoke\"}" \
  | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
identity=$(call -X POST "$base/identities" -H "$H" -H "$J" \
  -d "{\"account_id\":\"$account\",\"game_id\":\"$game\",\"kind\":\"DEVICE\",\"external_key\":\"smoke-device\"}" \
  | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
[[ $identity == ide_* ]] || { echo "compose-smoke: no identity created" >&2; exit 1; }
echo "compose-smoke: the stack is healthy and serves the API" >&2

# Down and up again: the volume keeps the data; the service stops cleanly.
cid=$("${c[@]}" ps -q leadr)
"${c[@]}" stop >/dev/null 2>&1
code=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
[[ $code == 0 ]] || { echo "compose-smoke: the service exited with $code when stopped" >&2; exit 1; }
"${c[@]}" down >/dev/null 2>&1
"${c[@]}" up -d --no-build >/dev/null 2>&1
wait_healthy
call "$base/identities/$identity" -H "$H" | grep -q '"external_key":"smoke-device"' || {
  echo "compose-smoke: the identity did not survive a restart" >&2; exit 1; }
echo "compose-smoke: data survived a restart; stack removed" >&2
