#!/bin/sh
# The Postgres server for the many-workers tests (tests/postgres.py starts a cluster of its
# own on loopback), from Debian's packages. Installs only if no server binaries are there.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgres: no apt-get here; install a Postgres server (initdb, postgres)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-postgres: run as root (or install the Debian package postgresql)" >&2
    exit 1
  fi
fi
$SUDO apt-get update -q
# The package's own cluster (port 5432) is not used: the tests start one of their own.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
  postgresql postgresql-client
