#!/usr/bin/env bash
# Installs actionlint (a Go module) into .toolchain/bin unless it is there already.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.7.12
bin="$root/.toolchain/bin"
if [ -x "$bin/actionlint" ] && [ "$("$bin/actionlint" -version 2>/dev/null | head -1)" = "$version" ]; then exit 0; fi
mkdir -p "$bin"
echo "[actionlint] go install github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
GOTOOLCHAIN=local GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$version" \
  || { echo "[actionlint] FAILED: go install github.com/rhysd/actionlint/cmd/actionlint@$version" >&2; exit 1; }
