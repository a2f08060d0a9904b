#!/usr/bin/env bash
# Builds (once) and installs the Pulumi toolchain this project runs on:
#   pulumi, pulumi-language-nodejs, pulumi-analyzer-policy and pulumi-resource-kubernetes
# into .toolchain/bin, from the Go module proxy, at pinned versions.
#
#   bash scripts/toolchain.sh           build or reuse; prints the bin directory last
#   source scripts/env.sh               puts the toolchain on PATH for your shell
#
# Why these versions (see docs/local-cluster.md, Toolchain):
# - The Node.js language host is its own Go module since pulumi v3.69; that module has no
#   tags and the module proxy serves none of its pseudo-versions. Up to v3.68.0 it lives
#   inside github.com/pulumi/pulumi/sdk/v3, so CLI and language host are built at v3.68.0.
#   The npm SDK (@pulumi/pulumi in package-lock.json) is newer; it supports older engines.
# - pulumi-kubernetes provider/v4 has no tags either; the pseudo-version below is served and
#   its schema.json is exactly the resource set of the npm @pulumi/kubernetes pinned in
#   package-lock.json, so it is stamped with that version.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

PULUMI_CLI_VERSION=3.68.0
K8S_NPM_VERSION=4.25.0
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199

out="$root/.toolchain"
bin="$out/bin"
key="cli-${PULUMI_CLI_VERSION}_k8s-${K8S_NPM_VERSION}-${K8S_PROVIDER_PSEUDO##*-}"
# Binaries are cached per version outside the work tree as well, so a fresh clone on the
# same machine (CI) reuses them instead of rebuilding.
cache="${RUNBOOK_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook-as-code/toolchain}/$key"

step() { printf '[toolchain] %s\n' "$*" >&2; }
fail() { printf '[toolchain] FAILED at step "%s": %s\n' "$1" "$2" >&2; exit 1; }

lock_version() {
  node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/"+process.argv[2]];process.stdout.write(p?p.version:"")' \
    "$root/package-lock.json" "$1"
}

check_lock() {
  local k8s
  k8s=$(lock_version @pulumi/kubernetes)
  [ "$k8s" = "$K8S_NPM_VERSION" ] || fail "check versions" \
    "package-lock.json pins @pulumi/kubernetes $k8s but the provider built here is $K8S_NPM_VERSION; update both together"
}

have_all() {
  local d=$1
  for f in pulumi pulumi-language-nodejs pulumi-analyzer-policy pulumi-resource-kubernetes; do
    [ -x "$d/$f" ] || return 1
  done
  [ "$(cat "$d/.key" 2>/dev/null)" = "$key" ]
}

# A pulumi on PATH fits when it is the pinned version and has its language host beside it.
ambient_cli() {
  local p dir
  p=$(command -v pulumi 2>/dev/null) || return 1
  dir=$(cd "$(dirname "$(readlink -f "$p")")" && pwd)
  [ "$dir" != "$bin" ] && [ -x "$dir/pulumi-language-nodejs" ] || return 1
  [ "$("$dir/pulumi" version 2>/dev/null)" = "v$PULUMI_CLI_VERSION" ] || return 1
  echo "$dir"
}

gobuild() {
  # -checklinkname=0: pulumi v3.68 depends on github.com/pgavlin/text, which links to
  # internal/bytealg; Go >= 1.23 refuses that by default.
  GOTOOLCHAIN=local CGO_ENABLED=0 GONOSUMDB=github.com/pulumi GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "-checklinkname=0 $1" -o "$2" "${@:3}"
}

build_cli() {
  local w="$out/build/cli"
  mkdir -p "$w"
  step "building pulumi v$PULUMI_CLI_VERSION and pulumi-language-nodejs (first time: a few minutes)"
  cat > "$w/go.mod" <<EOF
module runbook.local/toolchain/cli

go 1.20

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_CLI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_CLI_VERSION
)

// The non-local replaces of pulumi/pkg's own go.mod at this version.
replace (
	github.com/sergi/go-diff => github.com/sergi/go-diff v1.1.0
	github.com/xanzy/ssh-agent => github.com/pulumi/ssh-agent v0.5.1
)
EOF
  cat > "$w/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
)
EOF
  (cd "$w" && GOTOOLCHAIN=local GONOSUMDB=github.com/pulumi GOFLAGS=-mod=mod go mod tidy) \
    || fail "resolve pulumi v$PULUMI_CLI_VERSION modules" "go mod tidy failed (see above)"
  local v="v$PULUMI_CLI_VERSION"
  (cd "$w" && gobuild "-X github.com/pulumi/pulumi/pkg/v3/version.Version=$v -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    "$1/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) \
    || fail "build pulumi CLI" "go build failed (see above)"
}

build_k8s() {
  local w="$out/build/kubernetes"
  mkdir -p "$w"
  step "building pulumi-resource-kubernetes $K8S_NPM_VERSION from $K8S_PROVIDER_PSEUDO (first time: several minutes)"
  cat > "$w/go.mod" <<EOF
module runbook.local/toolchain/kubernetes

go 1.24

require $K8S_PROVIDER_MODULE $K8S_PROVIDER_PSEUDO
EOF
  # The provider's own main embeds generated, git-ignored files; this main embeds the
  # committed schema.json and terraform-mapping.json of the same module version.
  cat > "$w/main.go" <<'EOF'
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
EOF
  local dir
  dir=$(cd "$w" && GOTOOLCHAIN=local GONOSUMDB=github.com/pulumi GOFLAGS=-mod=mod \
    go mod download -json "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}process.stdout.write(j.Dir)})') \
    || fail "download $K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO" "module proxy refused it (see above)"
  install -m 0644 "$dir/cmd/pulumi-resource-kubernetes/schema.json" "$w/schema-embed.json"
  install -m 0644 "$dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$w/terraform-mapping-embed.json"
  (cd "$w" && GOTOOLCHAIN=local GONOSUMDB=github.com/pulumi GOFLAGS=-mod=mod go mod tidy) \
    || fail "resolve kubernetes provider modules" "go mod tidy failed (see above)"
  (cd "$w" && gobuild "-X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_NPM_VERSION" "$1/pulumi-resource-kubernetes" .) \
    || fail "build kubernetes provider" "go build failed (see above)"
}

write_policy_shim() {
  # CLIs before v3.221 start Node.js policy packs through an executable named
  # pulumi-analyzer-policy, run in the pack's directory with the engine address and the
  # pack path; it hands them to @pulumi/pulumi's run-policy-pack, resolved from there.
  cat > "$1/pulumi-analyzer-policy" <<'EOF'
#!/bin/sh
script=$(node -p "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')") || exit 1
exec node "$script" "$@"
EOF
  chmod 0755 "$1/pulumi-analyzer-policy"
}

main() {
  command -v go >/dev/null || fail "find go" "Go is not on PATH"
  command -v node >/dev/null || fail "find node" "Node.js is not on PATH"
  check_lock
  if have_all "$bin"; then
    step "reusing $key"
  elif have_all "$cache"; then
    step "copying cached $key"
    mkdir -p "$bin" && cp -p "$cache"/pulumi* "$cache/.key" "$bin/"
  else
    local t0=$SECONDS tmp="$out/build/bin.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    if ambient=$(ambient_cli); then
      step "using pulumi v$PULUMI_CLI_VERSION already on PATH ($ambient)"
      ln -s "$ambient/pulumi" "$tmp/pulumi" && ln -s "$ambient/pulumi-language-nodejs" "$tmp/pulumi-language-nodejs"
    else
      build_cli "$tmp"
    fi
    build_k8s "$tmp"
    write_policy_shim "$tmp"
    echo "$key" > "$tmp/.key"
    rm -rf "$bin" && mv "$tmp" "$bin"
    mkdir -p "$cache" && cp -pL "$bin"/pulumi* "$bin/.key" "$cache/" || step "could not fill cache $cache (continuing)"
    step "built in $((SECONDS - t0)) s"
  fi
  local got
  got=$("$bin/pulumi" version 2>/dev/null) || fail "run pulumi" "$bin/pulumi does not start"
  [ "$got" = "v$PULUMI_CLI_VERSION" ] || fail "check pulumi" "expected v$PULUMI_CLI_VERSION, got '$got'"
  echo "$bin"
}

main "$@"
