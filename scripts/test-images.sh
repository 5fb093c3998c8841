#!/usr/bin/env bash
# Makes sure the images the tests and the compose stack use exist, on any
# machine, registry or not, and prints them as VARIABLE=image lines:
#
#   LEADR_TEST_POSTGRES_IMAGE  LEADR_TEST_POSTGRES_IMAGE when set; else the
#                              official postgres:15, present or pulled; else
#                              (no registry) leadr-local/postgres:15, built
#                              here from Debian's packages (debootstrap,
#                              docker import, build/postgres), honouring the
#                              official image's contract
#   LEADR_TEST_IMAGE           leadr-local/identity:dev, the service's
#                              runtime image FROM scratch with a binary built
#                              here (always rebuilt: it is the code under test)
#
# The Debian mirror is read from this machine's apt sources. --force
# rebuilds the local PostgreSQL image even when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

OFFICIAL_PG_IMAGE=postgres:15
LOCAL_PG_IMAGE=leadr-local/postgres:15
PG_ROOTFS_IMAGE=leadr-local/debian-postgres-rootfs:15
SERVICE_IMAGE=${LEADR_LOCAL_IMAGE:-leadr-local/identity:dev}
force=
[[ ${1:-} == --force ]] && force=1

log() { echo "test-images: $*" >&2; }
tmpdirs=()
cleanup() { if ((${#tmpdirs[@]})); then as_root rm -rf "${tmpdirs[@]}"; fi; }
trap cleanup EXIT
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# quiet runs a command and shows its output only when it fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    echo "$out" >&2
    return 1
  fi
}

# The first Debian archive (not the security one) that the machine's apt
# sources name, in deb822 (.sources) or one-line (.list) format.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -e $f ]] || continue
    awk '
      /^[[:space:]]*$/ { if (uris != "" && suites !~ /security/ && types ~ /deb( |$)/) { print uris; exit } uris = suites = types = ""; next }
      /^Types:/  { types = $0 }
      /^URIs:/   { uris = $2 }
      /^Suites:/ { suites = $0 }
      END { if (uris != "" && suites !~ /security/ && types ~ /deb( |$)/) print uris }
    ' "$f" | head -n 1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -e $f ]] || continue
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
  done
}

pull() { timeout 300 docker pull -q "$1" >/dev/null 2>&1; }

# postgres_image sets pg to the PostgreSQL image to use, getting it if need be.
postgres_image() {
  local want=${LEADR_TEST_POSTGRES_IMAGE:-}
  if [[ -n $want && $want != "$LOCAL_PG_IMAGE" ]]; then
    have_image "$want" || pull "$want" || { log "cannot find or pull $want (LEADR_TEST_POSTGRES_IMAGE)"; exit 1; }
    pg=$want
    return
  fi
  if [[ -z $want && -z $force ]] && { have_image "$OFFICIAL_PG_IMAGE" || pull "$OFFICIAL_PG_IMAGE"; }; then
    pg=$OFFICIAL_PG_IMAGE
    return
  fi
  build_postgres
  pg=$LOCAL_PG_IMAGE
}

build_postgres() {
  local PG_IMAGE=$LOCAL_PG_IMAGE
  if [[ -z $force ]] && have_image "$PG_IMAGE"; then
    log "$PG_IMAGE is present"
    return
  fi
  log "no $OFFICIAL_PG_IMAGE and no registry: building $PG_IMAGE"
  if [[ -n $force ]] || ! have_image "$PG_ROOTFS_IMAGE"; then
    local mirror suite rootfs
    mirror=$(debian_mirror | head -n 1)
    [[ -n $mirror ]] || { log "no Debian mirror in /etc/apt/sources*"; exit 1; }
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
    if ! command -v debootstrap >/dev/null 2>&1; then
      log "installing debootstrap"
      as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    fi
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/leadr-rootfs.XXXXXX")
    tmpdirs+=("$rootfs" "$rootfs.log")
    log "debootstrap $suite from $mirror (a few minutes)"
    as_root debootstrap --variant=minbase --include=postgresql-15 "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
      tail -n 30 "$rootfs.log" >&2; log "debootstrap failed"; exit 1; }
    rm -f "$rootfs.log"
    # Small: no docs, manuals, translations, locale sources, package lists or
    # caches; no LLVM JIT (PostgreSQL runs without it); no perl beyond
    # perl-base (only Debian's cluster scripts use it); and not the cluster
    # Debian creates at install (the entrypoint runs initdb).
    as_root rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian,linda,i18n,perl}/* \
      "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
      "$rootfs"/var/log/* "$rootfs"/var/lib/postgresql/15 "$rootfs"/etc/postgresql/15 \
      "$rootfs"/usr/lib/postgresql/15/lib/llvmjit* "$rootfs"/usr/lib/postgresql/15/lib/bitcode \
      "$rootfs"/usr/lib/*-linux-gnu/libLLVM-* "$rootfs"/usr/lib/*-linux-gnu/libz3.so* \
      "$rootfs"/usr/lib/*-linux-gnu/perl "$rootfs"/usr/share/perl5
    log "docker import $PG_ROOTFS_IMAGE"
    as_root tar -C "$rootfs" -c . | docker import - "$PG_ROOTFS_IMAGE" >/dev/null
  fi
  log "docker build $PG_IMAGE"
  quiet docker build -q --build-arg BASE="$PG_ROOTFS_IMAGE" -t "$PG_IMAGE" build/postgres
}

build_service() {
  local ctx
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/leadr-image.XXXXXX")
  tmpdirs+=("$ctx")
  log "go build (static) and docker build $SERVICE_IMAGE"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
    -o "$ctx/leadr" ./cmd/leadr
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] || { log "no /etc/ssl/certs/ca-certificates.crt: apt-get install ca-certificates"; exit 1; }
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  mkdir "$ctx/home"
  quiet docker build -q -f build/service/Dockerfile.local -t "$SERVICE_IMAGE" "$ctx"
  # The image this one replaced, now untagged.
  docker image prune -f --filter label=org.leadr.image=identity >/dev/null 2>&1 || true
}

postgres_image
build_service
echo "LEADR_TEST_POSTGRES_IMAGE=$pg"
echo "LEADR_TEST_IMAGE=$SERVICE_IMAGE"
