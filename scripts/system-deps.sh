#!/usr/bin/env bash
# Debian packages INTRASA's tests and documents need. Installs only what is missing; without
# root it names what to install instead.
set -euo pipefail
needed=()
command -v chromium >/dev/null || needed+=(chromium)
command -v pdftotext >/dev/null || needed+=(poppler-utils)
command -v msgfmt >/dev/null || needed+=(gettext)
fc-list 2>/dev/null | grep -qi "Noto Sans" || needed+=(fonts-noto-core)
fc-list 2>/dev/null | grep -qi "DejaVu Sans" || needed+=(fonts-dejavu-core)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || needed+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Please install: sudo apt-get install ${needed[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${needed[@]}" >/dev/null
