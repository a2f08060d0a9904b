#!/usr/bin/env bash
# Builds (once) and installs the Pulumi toolchain this project runs on:
#   pulumi, pulumi-language-nodejs (with pulumi-language-nodejs-v3.68 behind it) and
#   pulumi-resource-kubernetes
# into .toolchain/bin, from the Go module proxy, at pinned versions. One progress line per
# part on stderr; Go's own output goes to .toolchain/build.log, whose tail a failure shows.
#
#   bash scripts/toolchain.sh           build or reuse; prints the bin directory last
#   source scripts/env.sh               puts the toolchain on PATH for your shell
#
# Why these versions (docs/local-cluster.md, Toolchain):
# - The CLI is the newest the module proxy serves.
# - The Node.js language host is a Go module of its own since pulumi v3.69, and the module
#   proxy serves none of its (untagged) versions. The last host inside
#   github.com/pulumi/pulumi/sdk/v3 is v3.68.0's: it runs the programs. Since v3.221 the CLI
#   starts Node.js policy packs through the language host's RunPlugin, which v3.68 lacks, so
#   pulumi-language-nodejs is a small host of the project's own (toolchain/nodejs-host): it
#   forwards every call to the v3.68 host and runs policy packs itself. The npm SDK
#   (@pulumi/pulumi in package-lock.json) is newer than that host; it supports older ones.
# - pulumi-kubernetes provider/v4 has no tags either; the pseudo-version in
#   scripts/go-programs.sh is served and its schema.json is exactly the resource set of the
#   npm @pulumi/kubernetes pinned in package-lock.json, so it is stamped with that version.
#   It is built in the module shared with the cluster's programs (that script says why).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

PULUMI_CLI_VERSION=3.276.0
NODEJS_HOST_VERSION=3.68.0
K8S_NPM_VERSION=4.25.0

out="$root/.toolchain"
bin="$out/bin"
log="$out/build.log"
host_src="$root/toolchain/nodejs-host/main.go"
# The host's source is part of the key: an edit to it rebuilds.
host_sum=$(sha256sum "$host_src" | cut -c1-12)
progress_tag=toolchain
# shellcheck source=scripts/progress.sh
source "$root/scripts/progress.sh"
# shellcheck source=scripts/go-programs.sh
source "$root/scripts/go-programs.sh"
key="cli-${PULUMI_CLI_VERSION}_host-${NODEJS_HOST_VERSION}-${host_sum}_k8s-${K8S_NPM_VERSION}-programs-${go_programs_key}"
# Binaries are cached per version outside the work tree as well, so a fresh clone on the
# same machine (CI) reuses them instead of rebuilding.
cache="${RUNBOOK_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook-as-code/toolchain}/$key"
BINARIES=(pulumi pulumi-language-nodejs pulumi-language-nodejs-v3.68 pulumi-resource-kubernetes)

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
  local d=$1 f
  for f in "${BINARIES[@]}"; do
    [ -x "$d/$f" ] || return 1
  done
  [ "$(cat "$d/.key" 2>/dev/null)" = "$key" ]
}

# In a wrapper module DIR: go mod tidy, output to the log.
tidy() {
  (cd "$1" && go mod tidy) >>"$log" 2>&1
}

# In a wrapper module DIR, with the release settings: gobuild DIR LDFLAGS OUT PACKAGE.
# Without a symbol table or DWARF (-s -w): nobody debugs these here, and linking the CLI and
# the provider without them takes about 10 s less each and makes them a quarter smaller.
gobuild() {
  (cd "$1" && go build -trimpath -ldflags "-s -w $2" -o "$3" "$4") >>"$log" 2>&1
}

# A module of our own that requires MODULE at VERSION and imports PACKAGE, so that
# `go mod tidy` resolves it: wrapper DIR NAME GO-VERSION "MODULE VERSION" PACKAGE.
wrapper() {
  rm -rf "$1" && mkdir -p "$1"
  printf 'module runbook.local/toolchain/%s\n\ngo %s\n\nrequire %s\n' "$2" "$3" "$4" > "$1/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$5" > "$1/tools.go"
}

build_cli() {
  local w="$out/build/cli" t=$SECONDS v="v$PULUMI_CLI_VERSION"
  local c
  cpu_mark; c=$cpu_at
  wrapper "$w" cli 1.26 "github.com/pulumi/pulumi/pkg/v3 $v" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  # pkg and sdk at one version, and the one non-local replace of pulumi/pkg's own go.mod.
  printf 'require github.com/pulumi/pulumi/sdk/v3 %s\n' "$v" >> "$w/go.mod"
  printf 'replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e\n' >> "$w/go.mod"
  mkdir -p "$w/nodejs-host" && cp "$host_src" "$w/nodejs-host/main.go"
  step "resolving pulumi $v"
  tidy "$w" || fail "resolve pulumi $v" "go mod tidy failed"
  step "building pulumi $v"
  gobuild "$w" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" "$1/pulumi" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi || fail "build pulumi $v" "go build failed"
  step "building pulumi-language-nodejs (toolchain/nodejs-host)"
  gobuild "$w" "" "$1/pulumi-language-nodejs" ./nodejs-host || fail "build pulumi-language-nodejs" "go build failed"
  cpu_mark
  step "built pulumi and its language host in $((SECONDS - t)) s ($((cpu_at - c)) CPU s)"
}

build_host() {
  local w="$out/build/nodejs-host" t=$SECONDS v="v$NODEJS_HOST_VERSION"
  local c
  cpu_mark; c=$cpu_at
  local pkg=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  wrapper "$w" nodejshost 1.20 "github.com/pulumi/pulumi/sdk/v3 $v" "$pkg"
  step "resolving the Node.js language host $v"
  tidy "$w" || fail "resolve the language host $v" "go mod tidy failed"
  step "building the Node.js language host $v"
  # -checklinkname=0: sdk v3.68 depends on github.com/pgavlin/text, which links to
  # internal/bytealg; Go >= 1.23 refuses that by default.
  gobuild "$w" "-checklinkname=0 -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    "$1/pulumi-language-nodejs-v3.68" "$pkg" || fail "build the language host $v" "go build failed"
  cpu_mark
  step "built the language host $v in $((SECONDS - t)) s ($((cpu_at - c)) CPU s)"
}

build_k8s() {
  local w="$go_programs_dir/kubernetes-provider" dir
  go_programs_module
  # The provider's own main embeds generated, git-ignored files; this main embeds the
  # committed schema.json and terraform-mapping.json of the same module version.
  mkdir -p "$w"
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
  dir=$(cd "$go_programs_dir" && go mod download -json "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO" 2>>"$log" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}process.stdout.write(j.Dir)})' 2>>"$log") \
    || fail "download $K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO" "the module proxy refused it"
  install -m 0644 "$dir/cmd/pulumi-resource-kubernetes/schema.json" "$w/schema-embed.json"
  install -m 0644 "$dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$w/terraform-mapping-embed.json"
  go_program "$1" pulumi-resource-kubernetes ./kubernetes-provider "-X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_NPM_VERSION"
}

main() {
  command -v go >/dev/null || fail "find go" "Go is not on PATH"
  command -v node >/dev/null || fail "find node" "Node.js is not on PATH"
  check_lock
  if have_all "$bin"; then
    :
  elif have_all "$cache"; then
    step "copying the cached toolchain"
    rm -rf "$bin" && mkdir -p "$bin" && cp -p "$cache"/pulumi* "$cache/.key" "$bin/"
  else
    local tmp="$out/build/bin.$$"
    mkdir -p "$out" && : > "$log"
    rm -rf "$tmp" && mkdir -p "$tmp"
    build_cli "$tmp"
    build_host "$tmp"
    build_k8s "$tmp"
    echo "$key" > "$tmp/.key"
    rm -rf "$bin" && mv "$tmp" "$bin"
    mkdir -p "$cache" && cp -pL "$bin"/pulumi* "$bin/.key" "$cache/" || step "could not fill the cache $cache (continuing)"
    step "toolchain ready"
  fi
  local got
  got=$("$bin/pulumi" version 2>/dev/null) || fail "run pulumi" "$bin/pulumi does not start"
  [ "$got" = "v$PULUMI_CLI_VERSION" ] || fail "check pulumi" "expected v$PULUMI_CLI_VERSION, got '$got'"
  echo "$bin"
}

main "$@"
