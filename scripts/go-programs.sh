# The Go programs the project builds from the module proxy, and the one wrapper module of
# ours most of them are built in. Sourced by scripts/cluster.sh and scripts/toolchain.sh,
# which set `root` and `log` and source scripts/progress.sh first.
#
# Why one module: Kubernetes' libraries (k8s.io/api, client-go, the API server's) and the
# libraries under them (gRPC, protobuf, OpenTelemetry) are much of a cold build's work. Go
# compiles a package once per version of it and of everything it imports, so the control
# plane, metrics-server, CoreDNS, Traefik and the Pulumi Kubernetes provider share that
# work only when they resolve to one version of each. In wrapper modules of their own each
# chose its own versions, and the same libraries were compiled once per module.
#
# Not in it, each in a wrapper module of its own (each would break the others' build):
# - the Pulumi CLI and its language hosts (scripts/toolchain.sh): pulumi/pkg v3.276, which
#   the provider's only served version does not compile against;
# - KWOK (scripts/cluster.sh): v0.7.0 needs the v0.33 libraries (it uses a constant that
#   v0.34 removed), and v0.8.0 needs v0.36;
# - the node's parts (scripts/cluster.sh): containerd v2.4.2 needs k8s.io/cri-api v0.37
#   (and its newer runc libraries break the kubelet's v1.34 cgroup code).
# One Kubernetes release for all (v1.37) is out of reach while the provider's only served
# version imports k8s.io/api/autoscaling/v2beta2, which k8s.io/api left in v0.36.
#
# The provider is built on this module's k8s libraries (v0.34), not the v0.33 its own
# go.mod asks for; the live suites run every resource kind the program uses through it.

K8S_VERSION=v1.34.4
K8S_STAGING_VERSION=v0.34.4
ETCD_VERSION=v3.6.4
METRICS_SERVER_VERSION=v0.8.0
# CoreDNS: its plugins are chosen in cluster/coredns/main.go, a package of this module.
COREDNS_VERSION=v1.12.3
# Traefik: the local cluster's Gateway API data plane. v3.7 cannot be built from the module
# proxy (it imports a nested module, .../traefik/dynamic/ext, that is not served); v3.6
# resolves to the same Kubernetes release as the control plane.
TRAEFIK_VERSION=v3.6.12
# pulumi-kubernetes provider/v4 has no tags; this pseudo-version is served (scripts/toolchain.sh).
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199

# Every build in the module uses the control plane's release tags: a package compiled with
# other tags is compiled again (gRPC's, for one, under most of them).
GO_PROGRAM_TAGS=selinux,notest,grpcnotrace
go_programs_dir="$root/.build/go-programs"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GONOSUMDB=github.com/pulumi

go_programs_gomod() {
  local m
  printf 'module runbook.local/programs\n\ngo 1.24\n\nrequire (\n'
  printf '\t%s %s\n' k8s.io/kubernetes "$K8S_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" \
    sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" github.com/coredns/coredns "$COREDNS_VERSION" \
    "$K8S_PROVIDER_MODULE" "$K8S_PROVIDER_PSEUDO" github.com/traefik/traefik/v3 "$TRAEFIK_VERSION"
  printf ')\n\n'
  # k8s.io/kubernetes's go.mod points its staging modules at ../staging, replaces that do
  # not travel: pin each to the release's tag.
  printf 'replace (\n'
  for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
    cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms \
    kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
    mount-utils pod-security-admission sample-apiserver; do
    printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$K8S_STAGING_VERSION"
  done
  # Traefik's go.mod replaces three libraries with its own forks and excludes one version;
  # neither travels with a required module. Only Traefik imports these libraries.
  printf '\tgithub.com/abbot/go-http-auth => github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e\n'
  printf '\tgithub.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59\n'
  printf '\tgithub.com/mailgun/minheap => github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595\n'
  printf ')\n\nexclude github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible\n'
}

# The main packages built from the module (and the provider's version package, which its
# main stamps), so that `go mod tidy` resolves everything they import.
GO_PROGRAM_PACKAGES=(
  go.etcd.io/etcd/server/v3
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  sigs.k8s.io/metrics-server/cmd/metrics-server github.com/traefik/traefik/v3/cmd/traefik
  "$K8S_PROVIDER_MODULE/pkg/provider" "$K8S_PROVIDER_MODULE/pkg/version"
)

go_programs_tools() {
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  printf '\t_ "%s"\n' "${GO_PROGRAM_PACKAGES[@]}"
  printf ')\n'
}

# What the module is made of: its go.mod as written, its imports and CoreDNS's main. A
# change to any of them makes every binary built from it (both caches) be built again.
go_programs_key=$({ go_programs_gomod; go_programs_tools; cat "$root/cluster/coredns/main.go"; } | sha256sum | cut -c1-12)

# Writes and resolves the module once (both build scripts may ask at the same time).
go_programs_module() {
  local d=$go_programs_dir
  mkdir -p "$(dirname "$d")"
  (
    flock 8
    if [ "$(cat "$d/.key" 2>/dev/null)" = "$go_programs_key" ]; then exit 0; fi
    rm -rf "$d" && mkdir -p "$d/coredns"
    go_programs_gomod > "$d/go.mod"
    go_programs_tools > "$d/tools.go"
    cp "$root/cluster/coredns/main.go" "$d/coredns/main.go"
    step "resolving Kubernetes $K8S_VERSION, etcd, metrics-server, CoreDNS and the Kubernetes provider"
    (cd "$d" && go mod tidy) >>"$log" 2>&1 || fail "resolve modules" "go mod tidy of the Go programs' module failed"
    echo "$go_programs_key" > "$d/.key"
  ) 8>"$d.lock"
}

# go_program OUT-DIR NAME PACKAGE LDFLAGS: builds OUT-DIR/NAME from the module.
go_program() {
  go_build_in "$go_programs_dir" "$1" "$2" "$3" "$4" "$GO_PROGRAM_TAGS"
}

# go_build_in MODULE-DIR OUT-DIR NAME PACKAGE LDFLAGS TAGS [VAR=VALUE...]: one binary of a
# wrapper module, stripped, with a progress line giving its wall and CPU seconds (the CPU of
# that go build alone, counted in its own subshell: builds run beside each other).
go_build_in() {
  local w=$1 out=$2 name=$3 pkg=$4 ldflags=$5 tags=$6 t=$SECONDS f
  shift 6
  f=$(mktemp)
  step "building $name"
  (cd "$w" && env "$@" go build -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$out/$name" "$pkg"
    rc=$?; times >"$f"; exit "$rc") >>"$log" 2>&1 || { rm -f "$f"; fail "build $name" "go build $pkg failed"; }
  step "built $name in $((SECONDS - t)) s ($(children_cpu "$f") CPU s)"
  rm -f "$f"
}
