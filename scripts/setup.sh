#!/usr/bin/env bash
# Installs Node.js 24 when the machine's is older (scripts/node-install.sh), the project's
# npm packages (from package-lock.json, with that Node.js), the Debian packages whose tools
# it runs (scripts/system-packages.sh), the Pulumi toolchain, the local cluster's binaries
# (it does not start the cluster), promtool and actionlint.
# Safe to re-run: every step reuses what is already there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/system-packages.sh
node_bin=$(bash scripts/node-install.sh)
export PATH="$node_bin:$PATH"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
# The Pulumi toolchain and the cluster's binaries are independent Go builds, and together
# most of a cold setup: built side by side, one's module downloads overlap the other's
# compiling. Go's module and build caches are safe to share between concurrent builds.
# (In a process group of its own, so that an interrupted setup stops all of it.)
set -m
bash scripts/cluster.sh build &
cluster_pid=$!
set +m
trap 'kill -- -"$cluster_pid" 2>/dev/null' EXIT
toolchain_rc=0
bash scripts/toolchain.sh >/dev/null || toolchain_rc=$?
cluster_rc=0
wait "$cluster_pid" || cluster_rc=$?
trap - EXIT
[ "$toolchain_rc" -eq 0 ] && [ "$cluster_rc" -eq 0 ] || exit 1
bash scripts/promtool.sh
bash scripts/actionlint.sh
