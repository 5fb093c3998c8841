#!/usr/bin/env bash
# Runs the module's tests and the downstream example module's, and reports
# them with internal/tools/testreport: one line per package, the output of
# failures, the number of acceptance tests that ran (none is a failure).
# scripts/test.sh prepares the databases and images and calls this.
set -uo pipefail
cd "$(dirname "$0")/.."
report=(go run ./internal/tools/testreport)
status=0
go test -race -count=1 -json "$@" ./... | "${report[@]}" -require github.com/leadr-oss/identity/test/acceptance || status=1
(cd test/downstream && go test -count=1 -json "$@" ./...) | "${report[@]}" -require example.com/leadr-downstream || status=1
exit $status
