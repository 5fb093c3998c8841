#!/bin/sh
# The official haproxy image's entrypoint: options alone run haproxy with
# them, and haproxy runs in the foreground (-db) in master-worker mode (-W,
# reloaded by SIGUSR2).
set -e
if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
