#!/usr/bin/env bash
# The test command: every test of the module, against a real PostgreSQL.
# LEADR_TEST_DATABASE_URL names a server to use; without it a throw-away
# server is started from the machine's PostgreSQL binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh go test -race -count=1 "$@" ./...
