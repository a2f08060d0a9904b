#!/usr/bin/env bash
# Puts promtool and prometheus (from Debian's prometheus package) in .toolchain/bin. The
# package is downloaded and unpacked, not installed: no Prometheus service is set up; the
# tests start the server themselves, on loopback, and stop it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.toolchain/bin"
if [ -x "$bin/promtool" ] && [ -x "$bin/prometheus" ]; then exit 0; fi
command -v apt-get >/dev/null || { echo "[promtool] FAILED: no promtool on PATH and no apt-get to fetch Debian's prometheus package" >&2; exit 1; }
work="$root/.toolchain/debs"
rm -rf "$work" && mkdir -p "$work" "$bin"
echo "[promtool] fetching Debian's prometheus package for promtool and prometheus" >&2
( cd "$work" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } ) \
  || { echo "[promtool] FAILED: apt-get download prometheus" >&2; exit 1; }
dpkg -x "$work"/prometheus_*.deb "$work/x"
install -m 0755 "$work/x/usr/bin/promtool" "$bin/promtool"
install -m 0755 "$work/x/usr/bin/prometheus" "$bin/prometheus"
rm -rf "$work"
# Not "| head -1": under pipefail a SIGPIPE on the later lines would fail the script.
for tool in promtool prometheus; do
  version=$("$bin/$tool" --version 2>&1)
  echo "${version%%$'\n'*}" >&2
done
