#!/usr/bin/env bash
# The project's local Kubernetes cluster: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) built from Go modules, a real node (containerd,
# runc, CNI, kubelet, kube-proxy, CoreDNS, and Traefik as the Gateway API data plane;
# scripts/cluster-node.sh) whose pods run and receive requests, and KWOK
# simulating a second node, kwok-node-0, for the many-replica and production-sized suites.
# The control plane listens on 127.0.0.1; the node's addresses are the project's own, on a
# bridge of its own (scripts/cluster-node.sh lists them).
#
#   npm run --silent cluster -- up          build what is missing, start (idempotent), print the kubeconfig path last
#   npm run --silent cluster -- kubeconfig  print the kubeconfig path when the cluster runs (exit 1 when not)
#   npm run --silent cluster -- images      list the real node's images and their fault profiles
#   npm run --silent cluster -- down        stop every process of the cluster and remove its state
#   npm run --silent cluster -- leftovers   list what a cluster left on this machine (exit 1 when anything)
#   npm run --silent cluster -- build       only build (or reuse) the binaries and the toolbox's file system
#
# Binaries are cached per version in ~/.cache/runbook-as-code/cluster/<key> (override with
# RUNBOOK_CLUSTER_CACHE) and copied into .cluster/bin; the cluster's state lives in
# .cluster/ (git-ignored). Go's download and compile chatter goes to .cluster/build.log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Versions of the programs built in the shared Go module (Kubernetes, etcd, metrics-server,
# CoreDNS) are in scripts/go-programs.sh, which says why they are built together and why KWOK
# and the node's parts are not.
KWOK_VERSION=v0.7.0
# The real node (scripts/cluster-node.sh), in a wrapper module of its own.
CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.3
CNI_PLUGINS_VERSION=v1.10.0
CRANE_VERSION=v0.22.1
CRI_TOOLS_VERSION=v1.37.0
PROM_OPERATOR_VERSION=v0.85.0
GATEWAY_API_VERSION=v1.4.1

CLUSTER_NAME=runbook
dir="$root/.cluster"
bin="$dir/bin"
log="$dir/build.log"
kubeconfig="$dir/kubeconfig"
progress_tag=cluster
# shellcheck source=scripts/progress.sh
source "$root/scripts/progress.sh"
# shellcheck source=scripts/go-programs.sh
source "$root/scripts/go-programs.sh"
key="programs-${go_programs_key}_kwok-${KWOK_VERSION}_containerd-${CONTAINERD_VERSION}_runc-${RUNC_VERSION}"
key="${key}_cni-${CNI_PLUGINS_VERSION}_crane-${CRANE_VERSION}_crictl-${CRI_TOOLS_VERSION}"
cache="${RUNBOOK_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook-as-code/cluster}/$key"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl metrics-server kubelet kube-proxy
  traefik containerd containerd-shim-runc-v2 ctr runc crictl crane coredns
  cni/bridge cni/host-local cni/loopback cni/portmap)

# shellcheck source=scripts/cluster-node.sh
source "$root/scripts/cluster-node.sh"
# shellcheck source=scripts/cluster-images.sh
source "$root/scripts/cluster-images.sh"

# ---------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------

have_all() {
  local d=$1 b
  for b in "${BINARIES[@]}"; do [ -x "$d/$b" ] || return 1; done
  [ "$(cat "$d/.key" 2>/dev/null)" = "$key" ]
}

# A wrapper module of ours that requires modules at pinned versions and imports the packages
# it builds, so `go mod tidy` resolves them together:
# write_module DIR NAME "MODULE VERSION"... -- PACKAGE...
write_module() {
  local w=$1 name=$2
  shift 2
  mkdir -p "$w"
  {
    printf 'module runbook.local/%s\n\ngo 1.24\n\nrequire (\n' "$name"
    while [ "$1" != -- ]; do printf '\t%s\n' "$1"; shift; done
    printf ')\n'
  } > "$w/go.mod"
  shift
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } > "$w/tools.go"
}

# The node's parts resolve together (no replaces needed).
write_node_wrapper() {
  local p=github.com/containernetworking/plugins/plugins
  write_module "$1" node "github.com/containerd/containerd/v2 $CONTAINERD_VERSION" \
    "github.com/opencontainers/runc $RUNC_VERSION" "github.com/containernetworking/plugins $CNI_PLUGINS_VERSION" \
    "github.com/google/go-containerregistry $CRANE_VERSION" "sigs.k8s.io/cri-tools $CRI_TOOLS_VERSION" -- \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr "$p/ipam/host-local" "$p/main/bridge" "$p/main/loopback" \
    "$p/meta/portmap" github.com/google/go-containerregistry/cmd/crane github.com/opencontainers/runc \
    sigs.k8s.io/cri-tools/cmd/crictl
}

build_node_into() {
  local out=$1 w="$dir/build/node-wrapper" p
  write_node_wrapper "$w"
  step "resolving containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, CNI plugins $CNI_PLUGINS_VERSION"
  (cd "$w" && go mod tidy) >>"$log" 2>&1 || fail "resolve modules" "go mod tidy of the node wrapper module failed"
  # runc needs seccomp (cgo and libseccomp): without it every container fails to start
  # ("seccomp: config provided but seccomp not supported").
  go_build_in "$w" "$out" runc github.com/opencontainers/runc "" seccomp CGO_ENABLED=1
  for p in containerd containerd-shim-runc-v2 ctr; do
    go_build_in "$w" "$out" "$p" "github.com/containerd/containerd/v2/cmd/$p" "" ""
  done
  mkdir -p "$out/cni"
  for p in main/bridge main/loopback ipam/host-local meta/portmap; do
    go_build_in "$w" "$out" "cni/${p#*/}" "github.com/containernetworking/plugins/plugins/$p" "" ""
  done
  go_build_in "$w" "$out" crane github.com/google/go-containerregistry/cmd/crane "" ""
  go_build_in "$w" "$out" crictl sigs.k8s.io/cri-tools/cmd/crictl "" ""
}

k8s_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local x="" p
  # Unstamped binaries report v0.0.0, which clients (kubectl, the Pulumi provider) reject.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x="$x -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$x"
}

# The shared module's programs one after the other, so each reuses what the ones before it
# compiled: the control plane first, whose Kubernetes libraries the toolchain's provider
# build (beside this one) then finds compiled. The node's parts, which share little with
# them, build beside them; their downloads and links fill the gaps in the compiling.
build_into() {
  local out=$1 part p w="$dir/build/kwok-wrapper" node_pid
  build_node_into "$out" &
  node_pid=$!
  go_programs_module
  for part in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
    case $part in
      etcd) p=go.etcd.io/etcd/server/v3 ;;
      *) p=k8s.io/kubernetes/cmd/$part ;;
    esac
    go_program "$out" "$part" "$p" "$(k8s_ldflags)"
  done
  go_program "$out" metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server ""
  go_program "$out" coredns ./coredns ""
  go_program "$out" traefik github.com/traefik/traefik/v3/cmd/traefik \
    "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION"
  # KWOK v0.7.0 resolves to the v0.33 libraries, which nothing else here uses.
  write_module "$w" kwok "sigs.k8s.io/kwok $KWOK_VERSION" -- sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  step "resolving kwok $KWOK_VERSION"
  (cd "$w" && go mod tidy) >>"$log" 2>&1 || fail "resolve modules" "go mod tidy of the kwok wrapper module failed"
  for p in kwok kwokctl; do
    go_build_in "$w" "$out" "$p" "sigs.k8s.io/kwok/cmd/$p" "" ""
  done
  wait "$node_pid" || exit 1
  echo "$key" > "$out/.key"
}

build() {
  command -v go >/dev/null || fail "find go" "Go is not on PATH"
  mkdir -p "$dir"
  # The toolbox's root file system is downloads and unpacking: made beside the Go builds.
  local rootfs_pid
  toolbox_rootfs &
  rootfs_pid=$!
  build_binaries
  wait "$rootfs_pid" || exit 1
}

build_binaries() {
  if have_all "$bin"; then
    return 0
  fi
  if have_all "$cache"; then
    step "copying cached binaries ($key)"
  else
    : > "$log"
    local tmp="$dir/build/bin.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    step "building the cluster parts ($key); chatter in .cluster/build.log"
    build_into "$tmp"
    mkdir -p "$cache" && cp -pr "$tmp"/. "$cache/" || step "could not fill the cache $cache (continuing)"
    rm -rf "$tmp"
  fi
  rm -rf "$bin" && mkdir -p "$bin" && cp -pr "$cache"/. "$bin/"
  step "binaries ready in .cluster/bin"
}

# ---------------------------------------------------------------------------------------
# up / kubeconfig / down
# ---------------------------------------------------------------------------------------

kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }
# fd 9 (the lock) is closed for kwokctl: the cluster's processes must not inherit it.
kwokctl() { KWOK_WORKDIR="$dir/kwok" PATH="$bin:$PATH" "$bin/kwokctl" "$@" 9>&-; }

running() {
  [ -s "$kubeconfig" ] && [ -x "$bin/kubectl" ] && kubectl get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

# A cluster made by an older version of this script (no real node, other settings) is made again.
SHAPE=4
current_shape() { [ "$(cat "$dir/kwok/.shape" 2>/dev/null)" = "$SHAPE" ]; }

json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}process.stdout.write(String(process.argv[1].split(".").reduce((o,k)=>o[k],j)))})' "$1"; }

# A module's files, from the Go module cache (a module zip holds the repository's files).
module_dir() {
  (cd "$dir" && GOFLAGS= go mod download -json "$1@$2" 2>>"$log" | json_field Dir) \
    || fail "download $1@$2" "the module proxy did not serve it"
}

# CRDs of the custom resources the program creates, from prometheus-operator's and the
# Gateway API's own modules (all of its standard channel: Traefik watches every kind).
install_crds() {
  local po gw
  po=$(module_dir github.com/prometheus-operator/prometheus-operator "$PROM_OPERATOR_VERSION")
  gw=$(module_dir sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION")
  kubectl apply --server-side --force-conflicts \
    -f "$po/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
    -f "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_gateways.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_grpcroutes.yaml" \
    -f "$gw/config/crd/standard/gateway.networking.k8s.io_backendtlspolicies.yaml" >>"$log" 2>&1 \
    || fail "install CRDs" "kubectl apply of the prometheus-operator and Gateway API CRDs failed"
  kubectl wait --for condition=Established --timeout=60s \
    crd/prometheusrules.monitoring.coreos.com crd/servicemonitors.monitoring.coreos.com \
    crd/httproutes.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
    crd/grpcroutes.gateway.networking.k8s.io crd/backendtlspolicies.gateway.networking.k8s.io >>"$log" 2>&1 \
    || fail "install CRDs" "the CRDs did not become Established"
}

# kwok plays the kubelet and the controllers outside the control plane through Stages read
# from the API server (so tests can add their own, e.g. one that makes a pod fail): kwok's
# own node and pod stages from its module, and ours in cluster/stages/.
install_stages() {
  local k
  k=$(module_dir sigs.k8s.io/kwok "$KWOK_VERSION")
  kubectl wait --for condition=Established --timeout=60s crd/stages.kwok.x-k8s.io >>"$log" 2>&1 \
    || fail "install kwok stages" "kwok's Stage CRD is not there"
  kubectl apply --server-side \
    -f "$k/kustomize/stage/node/fast/node-initialize.yaml" \
    -f "$k/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    -f "$k/kustomize/stage/pod/fast/pod-ready.yaml" \
    -f "$k/kustomize/stage/pod/fast/pod-complete.yaml" \
    -f "$k/kustomize/stage/pod/fast/pod-delete.yaml" \
    -f "$root/cluster/stages/" >>"$log" 2>&1 \
    || fail "install kwok stages" "kubectl apply of the Stages failed"
  kubectl apply --server-side -f "$root/cluster/node.yaml" >>"$log" 2>&1 \
    || fail "create the simulated node" "kubectl apply -f cluster/node.yaml failed"
  kubectl wait --for condition=Ready --timeout=60s node/kwok-node-0 >>"$log" 2>&1 \
    || fail "create the simulated node" "node kwok-node-0 did not become Ready"
}

# What kwokctl's defaults do not give: the API server reaches the kubelet by the node's
# address (no DNS for node names here) with a client certificate, and gives Services
# addresses of ours; kwok manages only the nodes annotated as fake, never the real one.
write_kwokctl_config() {
  cat > "$dir/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  # The control plane listens on loopback only.
  bindAddress: 127.0.0.1
componentsPatches:
  - name: kube-apiserver
    extraArgs:
      - { key: kubelet-preferred-address-types, value: InternalIP }
      - { key: kubelet-client-certificate, value: $pki/admin.crt }
      - { key: kubelet-client-key, value: $pki/admin.key }
      - { key: service-cluster-ip-range, value: $SERVICE_CIDR }
      - { key: enable-admission-plugins, value: NodeRestriction }
      # Aggregated APIs (metrics-server): the API server proxies as the admin certificate's
      # kwok-admin, naming the caller in request headers, and dials the endpoint directly.
      - { key: requestheader-client-ca-file, value: $pki/ca.crt }
      - { key: requestheader-allowed-names, value: kwok-admin }
      - { key: requestheader-username-headers, value: X-Remote-User }
      - { key: requestheader-group-headers, value: X-Remote-Group }
      - { key: requestheader-extra-headers-prefix, value: X-Remote-Extra- }
      - { key: enable-aggregator-routing, value: "true" }
  - name: kwok-controller
    extraArgs:
      - { key: manage-all-nodes, value: "false", override: true }
      - { key: manage-nodes-with-annotation-selector, value: kwok.x-k8s.io/node=fake }
EOF
}

create_cluster() {
  kwokctl --config "$dir/kwokctl.yaml" create cluster --name "$CLUSTER_NAME" --runtime binary \
    --etcd-binary "$bin/etcd" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --kwok-controller-binary "$bin/kwok" \
    --secure-port --kube-authorization --kube-admission \
    --enable-crds Stage \
    --kubeconfig "$kubeconfig" --wait 120s >>"$log" 2>&1
}

up() {
  build
  if running && current_shape && node_running; then
    step "cluster $CLUSTER_NAME is running"
    echo "$kubeconfig"
    return 0
  fi
  # A cluster whose processes are gone (a reboot, a killed shell) is recreated from scratch.
  if [ -d "$dir/kwok" ] || [ -d "$node_dir" ]; then
    step "removing a stale cluster"
    remove_cluster
  fi
  step "starting etcd, kube-apiserver, controller-manager, scheduler, kwok"
  write_kwokctl_config
  # kwokctl picks free ports when it creates the cluster; another process on the machine
  # can take one before the component binds it, and then the API server never answers.
  # A second attempt picks new ports; a second failure is a real one.
  if ! create_cluster; then
    step "the cluster did not start; removing it and trying once more with new ports"
    kwokctl delete cluster --name "$CLUSTER_NAME" >>"$log" 2>&1 || true
    stop_leftovers
    rm -rf "$dir/kwok" "$kubeconfig"
    create_cluster || fail "start the cluster" "kwokctl create cluster failed twice"
  fi
  echo "$SHAPE" > "$dir/kwok/.shape"
  step "installing kwok stages and the simulated node"
  install_stages
  step "installing CRDs (prometheus-operator, Gateway API)"
  install_crds
  node_up
  step "cluster $CLUSTER_NAME is ready ($(kubectl version -o json 2>/dev/null | json_field serverVersion.gitVersion))"
  echo "$kubeconfig"
}

# Processes of ours that kwokctl did not stop (a half-created cluster, a killed kwokctl):
# every binary started from .cluster/ (kwokctl copies the components under .cluster/kwok).
stop_leftovers() { stop_matching "^$dir/"; }

# Stops the processes whose command line matches: TERM, up to 10 s, then KILL.
stop_matching() {
  pgrep -f "$1" >/dev/null || return 0
  pkill -f "$1" 2>/dev/null || true
  for _ in $(seq 20); do
    pgrep -f "$1" >/dev/null || return 0
    sleep 0.5
  done
  pkill -9 -f "$1" 2>/dev/null || true
}

remove_cluster() {
  node_down
  if [ -d "$dir/kwok" ] && [ -x "$bin/kwokctl" ]; then
    kwokctl delete cluster --name "$CLUSTER_NAME" >>"$log" 2>&1 || true
  fi
  stop_leftovers
  rm -rf "$dir/kwok" "$kubeconfig" "$dir/kwokctl.yaml"
}

down() {
  remove_cluster
  local left
  left=$(node_leftovers)
  if [ -n "$left" ]; then
    printf '[cluster] left on this machine after down:\n%s\n' "$left" >&2
    exit 1
  fi
  step "cluster $CLUSTER_NAME is down; nothing of it is left"
}

# One `up` or `down` at a time (parallel test workers, a second terminal).
locked() {
  mkdir -p "$dir"
  exec 9>"$dir/lock"
  flock 9
  "$@"
}

main() {
  case "${1:-}" in
    build) locked build ;;
    up) locked up ;;
    down) locked down ;;
    kubeconfig)
      running || { echo "[cluster] not running: npm run --silent cluster -- up" >&2; exit 1; }
      echo "$kubeconfig"
      ;;
    images) list_images ;;
    leftovers)
      left=$(node_leftovers)
      [ -z "$left" ] || { echo "$left"; exit 1; }
      ;;
    -h|--help)
      # The usage is this file's header: its comment lines after the shebang.
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      ;;
    *)
      echo "usage: npm run --silent cluster -- up|kubeconfig|images|down|leftovers|build (--help for more)" >&2
      exit 2
      ;;
  esac
}

main "$@"
