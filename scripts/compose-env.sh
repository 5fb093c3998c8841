# Sourced by the compose smoke scripts: sets compose to the compose command
# there is, exports the images of scripts/test-images.sh under the names the
# compose files read, a fresh superadmin key and encryption key (a stack of
# its own: nothing of it outlives the script) and a free LEADR_PORT.
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "$(basename "$0"): neither 'docker compose' nor docker-compose is installed" >&2
  exit 1
fi

images=$(scripts/test-images.sh) # fails the script when it fails
while IFS='=' read -r name value; do export "$name=$value"; done <<<"$images"
export LEADR_IMAGE=$LEADR_TEST_IMAGE LEADR_POSTGRES_IMAGE=$LEADR_TEST_POSTGRES_IMAGE \
  LEADR_PGBOUNCER_IMAGE=$LEADR_TEST_PGBOUNCER_IMAGE LEADR_HAPROXY_IMAGE=$LEADR_TEST_HAPROXY_IMAGE
LEADR_SUPERADMIN_API_KEY="ldr_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
export LEADR_SUPERADMIN_API_KEY
LEADR_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
export LEADR_ENCRYPTION_KEY
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 50); do
  LEADR_PORT=$((20000 + RANDOM % 30000))
  port_free "$LEADR_PORT" && break
done
export LEADR_PORT
