#!/usr/bin/env bash
# Runs the module's tests and the downstream example module's, and reports
# them with internal/tools/testreport: one line per package, the output of
# failures, the number of acceptance tests that ran (none is a failure).
# scripts/test.sh prepares the databases and images and calls this.
set -uo pipefail
cd "$(dirname "$0")/.."
report=(go run ./internal/tools/testreport)
status=0
acceptance=github.com/leadr-oss/identity/test/acceptance
echo "== every package (PostgreSQL; the store's contract suite runs on SQLite too)" >&2
go test -race -count=1 -json "$@" ./... | "${report[@]}" -require "$acceptance" || status=1
echo "== the acceptance suite on SQLite" >&2
LEADR_TEST_BACKEND=sqlite go test -race -count=1 -json "$@" ./test/acceptance/ | "${report[@]}" -require "$acceptance" || status=1
echo "== the downstream example module" >&2
(cd test/downstream && go test -count=1 -json "$@" ./...) | "${report[@]}" -require example.com/leadr-downstream || status=1
exit $status
