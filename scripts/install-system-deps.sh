#!/usr/bin/env bash
# Debian packages the test suite and benchmarks need. Installs only what is missing, and only
# when running as root (CI and fresh machines); otherwise it says what to install.
set -euo pipefail

# chromium: browser tests (Playwright drives the system browser; it never downloads one).
# espeak-ng: the hall display's offline voice. poppler-utils (pdfsig, pdftoppm) and zbar-tools
# (zbarimg): checking signed receipts the way a citizen's tools would.
packages=(postgresql wrk chromium fonts-dejavu-core espeak-ng poppler-utils zbar-tools)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
