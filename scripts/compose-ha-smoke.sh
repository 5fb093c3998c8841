#!/usr/bin/env bash
# Checks docker-compose.ha.yml, starts it for real with the images of
# scripts/test-images.sh (the official ones where a registry serves them),
# waits until HAProxy sends requests to all three replicas, checks that the
# standby confirms the primary's commits, writes through HAProxy and reads
# the write back through each replica, and checks that a forged
# X-Forwarded-For does not escape the per-address limit; then removes
# everything.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/compose-env.sh

c=("${compose[@]}" -f docker-compose.ha.yml -p "leadr-ha-smoke-$$")
"${c[@]}" config -q
echo "compose-ha-smoke: compose file is valid" >&2
trap '"${c[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
fail() {
  "${c[@]}" logs --tail=20 >&2 || true
  echo "compose-ha-smoke: $*" >&2
  exit 1
}

base="http://127.0.0.1:$LEADR_PORT/v1"
H="leadr-api-key: $LEADR_SUPERADMIN_API_KEY"
J="Content-Type: application/json"
# replica_of prints the replica that answered a request (its other
# arguments), as HAProxy names it, when the answer is a 200.
replica_of() {
  curl -sS -o /dev/null -D - "$@" 2>/dev/null | tr -d '\r' |
    awk 'NR == 1 && $2 != 200 { exit } tolower($1) == "x-leadr-replica:" { print $2 }'
}
# every_replica fails unless three requests in a row (round robin) reach
# leadr-1, leadr-2 and leadr-3, each answering 200.
every_replica() {
  local seen=() i
  for i in 1 2 3; do seen+=("$(replica_of "$@")"); done
  [[ $(printf '%s\n' "${seen[@]}" | sort | tr '\n' ' ') == "leadr-1 leadr-2 leadr-3 " ]]
}

"${c[@]}" up -d --no-build >/dev/null 2>&1 || { "${c[@]}" up -d --no-build; exit 1; }
for attempt in $(seq 1 180); do
  every_replica "$base/health/ready" && break
  ((attempt < 180)) || fail "HAProxy does not reach all three replicas after 3 minutes"
  sleep 1
done
curl -sS --fail-with-body "$base/health" | grep -q '"database":"connected"' || fail "the database is not connected"
sync=$("${c[@]}" exec -T primary psql -U leadr -d leadr -tAc \
  "SELECT application_name || ' ' || sync_state FROM pg_stat_replication")
[[ $sync == "standby1 sync" ]] || fail "the primary's standbys: '$sync', want 'standby1 sync'"
echo "compose-ha-smoke: HAProxy reaches three ready replicas; standby1 is synchronous" >&2

account=$(curl -sS --fail-with-body -X POST "$base/accounts" -H "$H" -H "$J" -d '{"name":"HA","slug":"ha-smoke"}' |
  grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
[[ $account == acc_* ]] || fail "no account created"
every_replica "$base/accounts/$account" -H "$H" || fail "the account written through HAProxy is not read by every replica"
echo "compose-ha-smoke: a write through HAProxy is read back by each replica" >&2

# The replicas trust HAProxy alone with X-Forwarded-For. Trusting every
# private range let a client whose own address is private (this host's, as
# HAProxy sees it through Docker's gateway) forge the header and escape the
# per-address sign-in limit (60/m on each of the 3 replicas).
game=$(curl -sS --fail-with-body -X POST "$base/games" -H "$H" -H "$J" -d "{\"account_id\":\"$account\",\"name\":\"Forged\"}" |
  grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
[[ $game == gam_* ]] || fail "no game created"
# The per-address limits let 60 sign-ins through at once and then one a
# second on each of the 3 replicas (and 100 sign-ups an hour): 400 sent ten
# at a time exhaust them unless the replicas believe the forged header,
# however slow the machine; 200 sent one by one did not when each took a
# tenth of a second.
codes=$(seq 1 400 | xargs -P 10 -I{} sh -c 'curl -sS -o /dev/null -w "%{http_code}\n" -X POST "$0/client/sessions" -H "$1" \
  -H "X-Forwarded-For: 203.0.113.$(({} % 250 + 1))" -d "{\"game_id\":\"$2\",\"kind\":\"DEVICE\",\"external_key\":\"forged-device-{}\"}"' \
  "$base" "$J" "$game" || true) # a failed curl says 000, reported below
unexpected=$( (grep -vxE '201|429' <<<"$codes" || true) | sort | uniq -c | tr '\n' ' ')
[[ -z $unexpected ]] || fail "sign-ins through HAProxy answered: $unexpected"
limited=$(grep -cx 429 <<<"$codes" || true)
((limited > 0)) || fail "400 sign-ins forging X-Forwarded-For were never limited ($(sort <<<"$codes" | uniq -c | tr '\n' ' ')): the replicas believe a forged header"
echo "compose-ha-smoke: sign-ins forging X-Forwarded-For count as the one client they are ($limited of 400 refused with 429); stack removed" >&2
