#!/usr/bin/env bash
# The test command: every test of the module, the acceptance suite included,
# then the downstream example module, against real PostgreSQL.
#
# With Docker, PostgreSQL runs in containers (testcontainers) from the image
# LEADR_TEST_POSTGRES_IMAGE, and the service's own image is built for the
# tests of its testcontainers module; scripts/test-images.sh gets or builds
# both (on a machine without a registry it builds PostgreSQL from Debian's
# packages the first time: a few minutes). Without Docker, LEADR_TEST_DATABASE_URL
# or a throw-away server from the machine's PostgreSQL binaries serves the
# database tests, and the image tests fail in CI (skip elsewhere).
#
# Arguments are passed to `go test` (e.g. -run TestPagination).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

if ! docker info >/dev/null 2>&1; then
  echo "test: Docker is not available; database tests use LEADR_TEST_DATABASE_URL or a throw-away server" >&2
  exec scripts/with-postgres.sh scripts/go-tests.sh "$@"
fi

images=$(scripts/test-images.sh) # fails the script when it fails
while IFS='=' read -r name value; do
  export "$name=$value"
done <<<"$images"

# Containers this run starts carry its ID, so that they can all be removed
# at the end even when no reaper runs.
export LEADR_TEST_RUN_ID=${LEADR_TEST_RUN_ID:-leadr-test-$$-$RANDOM}
ryuk=testcontainers/ryuk:0.14.0
if ! docker image inspect "$ryuk" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$ryuk" >/dev/null 2>&1; then
  # No reaper image here: testcontainers cannot reap, so this script does.
  export TESTCONTAINERS_RYUK_DISABLED=true
fi
cleanup() {
  docker ps -aq --filter "label=org.leadr.test.run=$LEADR_TEST_RUN_ID" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  docker network ls -q --filter "label=org.leadr.test.run=$LEADR_TEST_RUN_ID" | xargs -r docker network rm >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Inside a container whose Docker engine runs alongside (its bridge is ours),
# published ports are on localhost, not on the default gateway that
# testcontainers would otherwise pick.
if [[ -z ${TESTCONTAINERS_HOST_OVERRIDE:-} && -e /.dockerenv && -d /sys/class/net/docker0 ]]; then
  export TESTCONTAINERS_HOST_OVERRIDE=localhost
fi

echo "test: PostgreSQL image $LEADR_TEST_POSTGRES_IMAGE, service image $LEADR_TEST_IMAGE" >&2
scripts/go-tests.sh "$@"
