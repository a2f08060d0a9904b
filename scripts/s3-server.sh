#!/usr/bin/env bash
# Builds versitygw (an S3-compatible server, Apache-2.0) from its tagged Go module into
# .toolchain/servers (its own directory: scripts/toolchain.sh replaces .toolchain/bin whole), for the tests that run the backup scripts and the Pulumi state backend
# against a real S3 API. The tests start it themselves on loopback (posix backend in a
# scratch directory) and stop it; nothing here starts a server.
#   bash scripts/s3-server.sh        builds it when missing or of another version
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSITYGW_VERSION=v1.8.0
bin="$root/.toolchain/servers"
stamp="$bin/.versitygw-$VERSITYGW_VERSION"
if [ -x "$bin/versitygw" ] && [ -f "$stamp" ]; then exit 0; fi
mkdir -p "$bin"
echo "[s3-server] building versitygw $VERSITYGW_VERSION" >&2
log=$(mktemp)
if ! GOBIN="$bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >"$log" 2>&1; then
  tail -30 "$log" >&2
  rm -f "$log"
  echo "[s3-server] FAILED: go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  exit 1
fi
rm -f "$log" "$bin"/.versitygw-*
touch "$stamp"
# Not "| head -1": under pipefail the server's SIGPIPE on its later lines fails the script.
version=$("$bin/versitygw" --version 2>&1)
echo "${version%%$'\n'*}" >&2
