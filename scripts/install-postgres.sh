#!/bin/sh
# The Postgres server for the many-workers tests (tests/postgres.py starts a cluster of its
# own on loopback), from Debian's packages. Installs only if no server binaries are there.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
# The package's own cluster (port 5432) is not used: the tests start one of their own.
exec sh "$(dirname "$0")/apt-install.sh" install-postgres postgresql postgresql-client
