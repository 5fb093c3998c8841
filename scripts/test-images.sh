#!/usr/bin/env bash
# Makes sure the images the tests and the compose stacks use exist, on any
# machine, registry or not, and prints them as VARIABLE=image lines. Each
# one is the variable's value when it is set; else the official image,
# present or pulled; else (no registry) one built here from Debian
# bookworm's packages, installed once for all of them into a root file
# system (debootstrap, docker import) that the local images start FROM:
#
#   LEADR_TEST_POSTGRES_IMAGE  postgres:15; else leadr-local/postgres:15
#                              (build/postgres), honouring the official
#                              image's contract
#   LEADR_TEST_PGBOUNCER_IMAGE there is no official PgBouncer image:
#                              leadr-local/pgbouncer:1.18 (build/pgbouncer),
#                              on debian:bookworm-slim where a registry serves
#                              it, else on the root file system
#   LEADR_TEST_HAPROXY_IMAGE   haproxy:2.6; else leadr-local/haproxy:2.6
#                              (build/haproxy), honouring the official
#                              image's contract
#   LEADR_TEST_IMAGE           leadr-local/identity:dev, the service's
#                              runtime image FROM scratch with a binary built
#                              here (always rebuilt: it is the code under test)
#
# The Debian mirror is read from this machine's apt sources. --force
# builds the local images, and their root file system anew, even where the
# official ones can be had.
set -euo pipefail
cd "$(dirname "$0")/.."

OFFICIAL_PG_IMAGE=postgres:15
LOCAL_PG_IMAGE=leadr-local/postgres:15
PGBOUNCER_IMAGE=leadr-local/pgbouncer:1.18
PGBOUNCER_REGISTRY_BASE=debian:bookworm-slim
OFFICIAL_HAPROXY_IMAGE=haproxy:2.6
LOCAL_HAPROXY_IMAGE=leadr-local/haproxy:2.6
# Every Debian package a local image needs, in one root file system; its
# tag names them, so that a changed list builds a new one.
ROOTFS_PACKAGES=(postgresql-15 pgbouncer haproxy)
ROOTFS_IMAGE=leadr-local/debian-rootfs:$(IFS=-; echo "${ROOTFS_PACKAGES[*]}")
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

# official_or_local sets the variable named out to the image to use: the
# variable var's (present or pulled), else the official image (present or
# pulled, unless --force), else the local one, which build_fn builds.
official_or_local() {
  local out=$1 var=$2 official=$3 local_image=$4 build_fn=$5
  local want=${!var:-}
  if [[ -n $want && $want != "$local_image" ]]; then
    have_image "$want" || pull "$want" || { log "cannot find or pull $want ($var)"; exit 1; }
    printf -v "$out" %s "$want"
  elif [[ -z $want && -z $force ]] && { have_image "$official" || pull "$official"; }; then
    printf -v "$out" %s "$official"
  else
    "$build_fn" "$local_image"
    printf -v "$out" %s "$local_image"
  fi
}

# rootfs makes sure the root file system of the local images exists, once.
rootfs_ready=
rootfs() {
  [[ -n $rootfs_ready ]] && return
  rootfs_ready=1
  [[ -z $force ]] && have_image "$ROOTFS_IMAGE" && return
  local mirror suite root
  mirror=$(debian_mirror | head -n 1)
  [[ -n $mirror ]] || { log "no Debian mirror in /etc/apt/sources*"; exit 1; }
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  root=$(mktemp -d "${TMPDIR:-/tmp}/leadr-rootfs.XXXXXX")
  tmpdirs+=("$root" "$root.log")
  log "debootstrap $suite with ${ROOTFS_PACKAGES[*]} from $mirror (a few minutes)"
  as_root debootstrap --variant=minbase --include="$(IFS=,; echo "${ROOTFS_PACKAGES[*]}")" "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -n 30 "$root.log" >&2; log "debootstrap failed"; exit 1; }
  rm -f "$root.log"
  # Small: no docs, manuals, translations, locale sources, package lists or
  # caches; no LLVM JIT (PostgreSQL runs without it); no perl beyond
  # perl-base (only Debian's cluster scripts use it); and not the cluster
  # Debian creates at install (the entrypoint runs initdb).
  as_root rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,linda,i18n,perl}/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15 \
    "$root"/usr/lib/postgresql/15/lib/llvmjit* "$root"/usr/lib/postgresql/15/lib/bitcode \
    "$root"/usr/lib/*-linux-gnu/libLLVM-* "$root"/usr/lib/*-linux-gnu/libz3.so* \
    "$root"/usr/lib/*-linux-gnu/perl "$root"/usr/share/perl5
  log "docker import $ROOTFS_IMAGE"
  as_root tar -C "$root" -c . | docker import - "$ROOTFS_IMAGE" >/dev/null
}

# The local images are always built, from the cache unless their folder
# changed.
build_postgres() {
  log "no $OFFICIAL_PG_IMAGE and no registry: building $1"
  rootfs
  quiet docker build -q --build-arg BASE="$ROOTFS_IMAGE" -t "$1" build/postgres
}

build_haproxy() {
  log "no $OFFICIAL_HAPROXY_IMAGE and no registry: building $1"
  rootfs
  quiet docker build -q --build-arg BASE="$ROOTFS_IMAGE" -t "$1" build/haproxy
}

# There is no official PgBouncer image: build/pgbouncer is built on
# Debian's slim image where a registry serves it (apt-get installs the
# package), else on the root file system, which has it.
build_pgbouncer() {
  local base=$PGBOUNCER_REGISTRY_BASE
  if [[ -n $force ]] || ! { have_image "$base" || pull "$base"; }; then
    rootfs
    base=$ROOTFS_IMAGE
  fi
  log "docker build $1 on $base"
  quiet docker build -q --build-arg BASE="$base" -t "$1" build/pgbouncer
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

official_or_local pg LEADR_TEST_POSTGRES_IMAGE "$OFFICIAL_PG_IMAGE" "$LOCAL_PG_IMAGE" build_postgres
if [[ -n ${LEADR_TEST_PGBOUNCER_IMAGE:-} && $LEADR_TEST_PGBOUNCER_IMAGE != "$PGBOUNCER_IMAGE" ]]; then
  have_image "$LEADR_TEST_PGBOUNCER_IMAGE" || pull "$LEADR_TEST_PGBOUNCER_IMAGE" || {
    log "cannot find or pull $LEADR_TEST_PGBOUNCER_IMAGE (LEADR_TEST_PGBOUNCER_IMAGE)"; exit 1; }
  pgbouncer=$LEADR_TEST_PGBOUNCER_IMAGE
else
  build_pgbouncer "$PGBOUNCER_IMAGE"
  pgbouncer=$PGBOUNCER_IMAGE
fi
official_or_local haproxy LEADR_TEST_HAPROXY_IMAGE "$OFFICIAL_HAPROXY_IMAGE" "$LOCAL_HAPROXY_IMAGE" build_haproxy
build_service
echo "LEADR_TEST_POSTGRES_IMAGE=$pg"
echo "LEADR_TEST_PGBOUNCER_IMAGE=$pgbouncer"
echo "LEADR_TEST_HAPROXY_IMAGE=$haproxy"
echo "LEADR_TEST_IMAGE=$SERVICE_IMAGE"
