#!/bin/sh
# Chromium for the browser tests (tests/server/test_browser.py), from Debian's packages:
# Playwright's own browser download cannot run here. Installs only if it is missing.
set -eu
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
exec sh "$(dirname "$0")/apt-install.sh" install-chromium chromium
