#!/usr/bin/env bash
# Installs the project's npm packages (from package-lock.json), the Pulumi toolchain, the
# local cluster's binaries (it does not start the cluster), promtool and actionlint.
# Safe to re-run: every step reuses what is already there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
bash scripts/toolchain.sh >/dev/null
bash scripts/cluster.sh build
bash scripts/promtool.sh
bash scripts/actionlint.sh
