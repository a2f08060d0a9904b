#!/usr/bin/env bash
# Puts promtool (from Debian's prometheus package) in .toolchain/bin unless one is on PATH.
# The package is downloaded and unpacked, not installed: no Prometheus service is set up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.toolchain/bin"
if command -v promtool >/dev/null 2>&1 || [ -x "$bin/promtool" ]; then exit 0; fi
command -v apt-get >/dev/null || { echo "[promtool] FAILED: no promtool on PATH and no apt-get to fetch Debian's prometheus package" >&2; exit 1; }
work="$root/.toolchain/debs"
rm -rf "$work" && mkdir -p "$work" "$bin"
echo "[promtool] fetching Debian's prometheus package for promtool" >&2
( cd "$work" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } ) \
  || { echo "[promtool] FAILED: apt-get download prometheus" >&2; exit 1; }
dpkg -x "$work"/prometheus_*.deb "$work/x"
install -m 0755 "$work/x/usr/bin/promtool" "$bin/promtool"
rm -rf "$work"
"$bin/promtool" --version 2>&1 | head -1 >&2
