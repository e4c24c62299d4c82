#!/bin/sh
# Installs Debian packages for the tests: apt-get as root, or through sudo.
#   sh scripts/apt-install.sh WHO PACKAGE...   (WHO names the caller in its messages)
set -eu
who=$1
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: no apt-get here; install $* yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "$who: run as root (or install the Debian packages $*)" >&2
    exit 1
  fi
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@"
