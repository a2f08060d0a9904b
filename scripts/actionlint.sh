#!/usr/bin/env bash
# Installs actionlint (a Go module) into .toolchain/bin unless it is there already. Go's
# output goes to .toolchain/actionlint.log; a failure shows its last lines.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v1.7.12
bin="$root/.toolchain/bin"
log="$root/.toolchain/actionlint.log"
if [ -x "$bin/actionlint" ] && [ "$("$bin/actionlint" -version 2>/dev/null | head -1)" = "$version" ]; then exit 0; fi
mkdir -p "$bin"
progress_tag=actionlint
# shellcheck source=scripts/progress.sh
source "$root/scripts/progress.sh"
step "building actionlint $version"
GOTOOLCHAIN=local GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$version" >"$log" 2>&1 \
  || fail "build actionlint" "go install github.com/rhysd/actionlint/cmd/actionlint@$version failed"
step "built actionlint"
