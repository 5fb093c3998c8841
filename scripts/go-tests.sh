#!/usr/bin/env bash
# Runs the module's tests and the downstream example module's, and reports
# them with internal/tools/testreport: one line per package, the output of
# failures, the number of acceptance tests that ran (none is a failure).
# scripts/test.sh prepares the databases and images and calls this.
#
# The acceptance suite runs three times: on PostgreSQL (with everything
# else), on SQLite, and on PostgreSQL behind PgBouncer in transaction
# pooling mode (containers: LEADR_TEST_PGBOUNCER_IMAGE, which
# scripts/test-images.sh builds; without Docker that pass fails in CI and
# is skipped, loudly, elsewhere).
set -uo pipefail
cd "$(dirname "$0")/.."
report=(go run ./internal/tools/testreport)
status=0
acceptance=github.com/leadr-oss/identity/test/acceptance

# behind_pgbouncer runs the acceptance suite with its server behind
# PgBouncer: test/leadrcontainer/pgbouncerpass starts PostgreSQL and
# PgBouncer, prints the URL pgtest creates the tests' databases through,
# and removes both when told to stop.
behind_pgbouncer() {
  if ! docker info >/dev/null 2>&1 || [[ -z ${LEADR_TEST_PGBOUNCER_IMAGE:-} ]]; then
    local msg="no Docker or no LEADR_TEST_PGBOUNCER_IMAGE (scripts/test.sh gets both): the pass through PgBouncer cannot run"
    # As pgtest.InCI: any CI but 0 or false.
    if [[ -n ${CI:-} && $CI != 0 && ${CI,,} != false ]]; then echo "FAIL: $msg" >&2; return 1; fi
    echo "SKIP: $msg" >&2
    return 0
  fi
  local dir pid url rc
  dir=$(mktemp -d "${TMPDIR:-/tmp}/leadr-pgbouncer.XXXXXX")
  go build -o "$dir/pgbouncerpass" ./test/leadrcontainer/pgbouncerpass || { rm -rf "$dir"; return 1; }
  "$dir/pgbouncerpass" >"$dir/env" &
  pid=$!
  until url=$(grep -m1 "^LEADR_TEST_DATABASE_URL=" "$dir/env"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      rm -rf "$dir"
      return 1
    fi
    sleep 0.5
  done
  LEADR_TEST_DATABASE_URL=${url#*=} go test -race -count=1 -json "$@" ./test/acceptance/ | "${report[@]}" -require "$acceptance"
  rc=$?
  kill "$pid"
  wait "$pid"
  rm -rf "$dir"
  return $rc
}
echo "== every package (PostgreSQL; the store's contract suite runs on SQLite too)" >&2
# test/scale's tests measure deployments at scale: their figures are printed.
go test -race -count=1 -json "$@" ./... | "${report[@]}" -require "$acceptance" -figures github.com/leadr-oss/identity/test/scale || status=1
echo "== the acceptance suite on SQLite" >&2
LEADR_TEST_BACKEND=sqlite go test -race -count=1 -json "$@" ./test/acceptance/ | "${report[@]}" -require "$acceptance" || status=1
echo "== the acceptance suite through PgBouncer (transaction pooling)" >&2
behind_pgbouncer "$@" || status=1
echo "== the downstream example module" >&2
(cd test/downstream && go test -count=1 -json "$@" ./...) | "${report[@]}" -require example.com/leadr-downstream || status=1
exit $status
