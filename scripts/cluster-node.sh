# The local cluster's real node (sourced by scripts/cluster.sh): containerd + runc + CNI,
# kubelet, kube-proxy, the cluster's DNS (CoreDNS), metrics-server and the Gateway API data
# plane (Traefik), all started from .cluster/bin as processes of this machine, beside KWOK's
# simulated kwok-node-0.
#
# Every address is one of the project's own, on a bridge of its own, routed nowhere off this
# machine (198.18.0.0/15 is the benchmarking range, never routed on the internet):
#   bridge rbk0 with the node's address 198.18.16.1; pods on 198.18.16.0/24 (host-local,
#   from .10); Services on 198.18.17.0/24 (the API server's --service-cluster-ip-range,
#   routed onto the bridge); the cluster's DNS on 198.18.16.1:53; the Gateway on
#   127.0.0.1:18080. Pods get no default
#   route, nothing is masqueraded, and a chain of ours drops any packet of these ranges that
#   would cross another interface.
# Which pods run here: the node is tainted NODE_TAINT and labelled NODE_LABEL; a stack puts
# its pods here with `runbook:scheduling` (Pulumi.local.yaml). Everything else stays on
# kwok-node-0.
# shellcheck shell=bash

NODE_NAME=real-node-0
NODE_BRIDGE=rbk0
NODE_IP=198.18.16.1
POD_CIDR=198.18.16.0/24
SERVICE_CIDR=198.18.17.0/24
OWN_RANGE=198.18.16.0/23
NODE_LABEL=runbook.local/node=real
NODE_TAINT=runbook.local/node=real:NoSchedule
FIREWALL_CHAIN=RUNBOOK-NODE
# The sandbox ("pause") image every pod starts with: made locally, never pulled.
PAUSE_IMAGE=runbook.local/pause:1
# Traefik's entry points on loopback: the Gateway's listener (cluster/gateway.yaml), and its
# ping, Prometheus metrics and read-only API.
GATEWAY_PORT=18080
GATEWAY_ADMIN_PORT=18081

# The node's network (the bridge, its routes, the iptables chains, ip_forward) belongs to
# the machine, not to a checkout: the cluster of one checkout owns it at a time, and the
# file below names that checkout's .cluster directory.
OWNER_FILE=/run/runbook-as-code/node-network-owner
IP_FORWARD_FILE=/run/runbook-as-code/ip_forward.before

node_dir="$dir/node"
pki="$dir/kwok/clusters/$CLUSTER_NAME/pki"
cri_sock="$node_dir/containerd/containerd.sock"

crictl() { "$bin/crictl" --runtime-endpoint "unix://$cri_sock" --image-endpoint "unix://$cri_sock" --timeout 20s "$@"; }
ctr_k8s() { "$bin/ctr" --address "$cri_sock" --namespace k8s.io "$@"; }

# A process of ours that outlives this script: its own session, its log under node/logs,
# its pid under node/run. Its command line starts with .cluster/bin, so stop_leftovers finds it.
start_daemon() {
  local name=$1
  shift
  mkdir -p "$node_dir/logs" "$node_dir/run"
  setsid "$@" >"$node_dir/logs/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$node_dir/run/$name.pid"
}

wait_for() {
  local what=$1 tries=$2
  shift 2
  for _ in $(seq "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "start $what" "not ready in $((tries / 2)) s; its log: .cluster/node/logs/$what.log"
}

# A key and a certificate signed by the cluster's CA, in node/pki:
# sign_certificate NAME SUBJECT [SUBJECT-ALT-NAMES (a serving certificate)]
sign_certificate() {
  local name=$1 subject=$2 san=${3:-} k="$node_dir/pki/$1"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k.key" 2>>"$log" \
    && openssl req -new -key "$k.key" -subj "$subject" ${san:+-addext "subjectAltName=$san"} -out "$k.csr" 2>>"$log" \
    && openssl x509 -req -in "$k.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      ${san:+-copy_extensions copy} -days 30 -out "$k.crt" >/dev/null 2>>"$log" \
    || fail "credentials of $name" "openssl could not sign its certificate"
}

# A client certificate signed by the cluster's CA and a kubeconfig for it.
node_credentials() {
  local name=$1 cn=$2 org=$3 server
  server=$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
  sign_certificate "$name" "/O=$org/CN=$cn"
  local k="$node_dir/$name.kubeconfig"
  "$bin/kubectl" --kubeconfig "$k" config set-cluster local --server "$server" --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
  "$bin/kubectl" --kubeconfig "$k" config set-credentials "$name" --client-certificate "$node_dir/pki/$name.crt" \
    --client-key "$node_dir/pki/$name.key" --embed-certs >/dev/null
  "$bin/kubectl" --kubeconfig "$k" config set-context local --cluster local --user "$name" >/dev/null
  "$bin/kubectl" --kubeconfig "$k" config use-context local >/dev/null
}

# The .cluster directory of another checkout whose node runs and owns the network, if any.
other_owner() {
  local o
  o=$(cat "$OWNER_FILE" 2>/dev/null) || return 0
  [ -n "$o" ] && [ "$o" != "$dir" ] && pgrep -f "^$o/bin/(containerd|kubelet) " >/dev/null && echo "$o"
  true
}

node_network() {
  local other
  other=$(other_owner)
  [ -z "$other" ] || fail "start the real node" "the node network ($NODE_BRIDGE, $OWN_RANGE) is in use by the cluster of another checkout ($other); stop that one first (npm run --silent cluster -- down there)"
  mkdir -p "$(dirname "$OWNER_FILE")" && echo "$dir" > "$OWNER_FILE"
  # What an earlier node left (a killed run of this or another checkout whose processes are gone).
  remove_network
  # The machine's own setting, kept (once) until the last node is down.
  if [ ! -f "$IP_FORWARD_FILE" ]; then
    cat /proc/sys/net/ipv4/ip_forward > "$IP_FORWARD_FILE"
  fi
  ip link add "$NODE_BRIDGE" type bridge 2>>"$log" || fail "create the bridge" "ip link add $NODE_BRIDGE type bridge failed"
  ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE" && ip link set "$NODE_BRIDGE" up \
    && ip route add "$SERVICE_CIDR" dev "$NODE_BRIDGE" src "$NODE_IP" \
    || fail "create the bridge" "could not address $NODE_BRIDGE or route $SERVICE_CIDR onto it"
  # A pod reaching a Service is routed through the node (DNAT by kube-proxy, back onto the
  # bridge): forwarding on, but only inside our ranges on our bridge.
  iptables -w -N "$FIREWALL_CHAIN" 2>>"$log" || fail "firewall" "iptables -N $FIREWALL_CHAIN failed"
  iptables -w -A "$FIREWALL_CHAIN" -i "$NODE_BRIDGE" -o "$NODE_BRIDGE" -j ACCEPT
  iptables -w -A "$FIREWALL_CHAIN" -s "$OWN_RANGE" -j DROP
  iptables -w -A "$FIREWALL_CHAIN" -d "$OWN_RANGE" -j DROP
  iptables -w -I FORWARD 1 -j "$FIREWALL_CHAIN"
  echo 1 > /proc/sys/net/ipv4/ip_forward
  mkdir -p "$node_dir/cni/net.d"
  cat > "$node_dir/cni/net.d/10-runbook.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "runbook",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$node_dir/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "rangeStart": "198.18.16.10", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "$SERVICE_CIDR", "gw": "$NODE_IP" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

start_containerd() {
  mkdir -p "$node_dir/containerd"
  cat > "$node_dir/containerd/config.toml" <<EOF
version = 3
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
[grpc]
  address = "$cri_sock"
[ttrpc]
  address = "$cri_sock.ttrpc"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = "$PAUSE_IMAGE"
[plugins.'io.containerd.cri.v1.runtime']
  # This machine refuses to lower a process's oom_score_adj; without this every sandbox fails.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = "$bin/runc"
  Root = "$node_dir/runc"
  SystemdCgroup = false
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ["$bin/cni"]
  conf_dir = "$node_dir/cni/net.d"
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
EOF
  # The shims it starts are found on PATH.
  PATH="$bin:$PATH" start_daemon containerd "$bin/containerd" --config "$node_dir/containerd/config.toml"
  wait_for containerd 60 "$bin/ctr" --address "$cri_sock" version
}

start_kubelet() {
  node_credentials kubelet "system:node:$NODE_NAME" system:nodes
  # Its serving certificate is the cluster CA's too, so metrics-server verifies whom it reads.
  sign_certificate kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
  : > "$node_dir/resolv.conf"
  cat > "$node_dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$cri_sock
address: $NODE_IP
readOnlyPort: 0
tlsCertFile: $node_dir/pki/kubelet-serving.crt
tlsPrivateKeyFile: $node_dir/pki/kubelet-serving.key
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $pki/ca.crt }
authorization: { mode: Webhook }
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $node_dir/resolv.conf
podLogsDir: $node_dir/pod-logs
# This machine: cgroup v1, the cgroupfs driver, no QoS cgroups of the kubelet's own.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
evictionHard: {}
# The local images are imported, not pulled: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerWithTaints:
  - { key: ${NODE_TAINT%%=*}, value: $(t=${NODE_TAINT#*=}; echo "${t%%:*}"), effect: ${NODE_TAINT##*:} }
EOF
  start_daemon kubelet "$bin/kubelet" --config "$node_dir/kubelet.yaml" \
    --kubeconfig "$node_dir/kubelet.kubeconfig" --root-dir "$node_dir/kubelet" --cert-dir "$node_dir/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --node-labels "$NODE_LABEL"
  wait_for kubelet 120 kubectl wait --for condition=Ready --timeout=1s "node/$NODE_NAME"
}

start_kube_proxy() {
  node_credentials kube-proxy system:kube-proxy system:node-proxier
  start_daemon kube-proxy "$bin/kube-proxy" --kubeconfig "$node_dir/kube-proxy.kubeconfig" \
    --proxy-mode iptables --hostname-override "$NODE_NAME" --bind-address "$NODE_IP" --cluster-cidr "$POD_CIDR" \
    --nodeport-addresses "$NODE_IP/32" --conntrack-max-per-core 0 \
    --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256
  wait_for kube-proxy 60 iptables -w -t nat -S KUBE-SERVICES
}

start_dns() {
  node_credentials coredns runbook:coredns runbook:coredns
  kubectl apply --server-side -f "$root/cluster/coredns-rbac.yaml" >>"$log" 2>&1 \
    || fail "start coredns" "kubectl apply -f cluster/coredns-rbac.yaml failed"
  cat > "$node_dir/Corefile" <<EOF
cluster.local:53 16.18.198.in-addr.arpa:53 17.18.198.in-addr.arpa:53 {
    bind $NODE_IP
    errors
    ready 127.0.0.1:18181
    kubernetes cluster.local 16.18.198.in-addr.arpa 17.18.198.in-addr.arpa {
        kubeconfig $node_dir/coredns.kubeconfig local
        pods insecure
    }
    cache 30
    loadbalance
}
EOF
  start_daemon coredns "$bin/coredns" -conf "$node_dir/Corefile"
  wait_for coredns 60 curl -fsS http://127.0.0.1:18181/ready
}

# metrics-server as a process of this machine on the node's address, registered with the
# aggregator (cluster/metrics-server.yaml): it reads the real node's kubelet only (KWOK's node
# has no CPU to measure), every 15 s, so an HPA sees a pod's CPU within half a minute.
start_metrics_server() {
  node_credentials metrics-server runbook:metrics-server runbook:metrics-server
  sign_certificate metrics-server-serving /CN=metrics-server "IP:$NODE_IP,DNS:metrics-server.kube-system.svc"
  # Its RBAC first: it reads the request-header CA from kube-system as it starts.
  { kubectl apply --server-side -f "$root/cluster/metrics-server.yaml" && kubectl apply --server-side -f - <<EOF
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: { name: metrics-server, namespace: kube-system, port: 443 }
  caBundle: $(base64 -w0 "$pki/ca.crt")
EOF
  } >>"$log" 2>&1 || fail "start metrics-server" "kubectl apply of its objects failed"
  start_daemon metrics-server "$bin/metrics-server" --bind-address "$NODE_IP" --secure-port 4443 \
    --tls-cert-file "$node_dir/pki/metrics-server-serving.crt" --tls-private-key-file "$node_dir/pki/metrics-server-serving.key" \
    --kubeconfig "$node_dir/metrics-server.kubeconfig" --authentication-kubeconfig "$node_dir/metrics-server.kubeconfig" \
    --authorization-kubeconfig "$node_dir/metrics-server.kubeconfig" \
    --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$pki/ca.crt" \
    --node-selector "$NODE_LABEL" --metric-resolution 15s
  wait_for metrics-server 120 kubectl get --raw "/apis/metrics.k8s.io/v1beta1/nodes/$NODE_NAME"
}

# The Gateway API data plane: Traefik as a process of this machine, listening on loopback
# only, reconciling the Gateway of cluster/gateway.yaml and sending its routes' requests to
# the pods' addresses on our bridge by the routes' backend weights. It never calls out:
# no version check, no usage reports.
start_gateway() {
  local port holder
  # A fixed loopback port another process holds would only show as Traefik never answering.
  for port in "$GATEWAY_PORT" "$GATEWAY_ADMIN_PORT"; do
    holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*' | head -1) || true
    [ -z "$holder" ] || fail "start the gateway" "127.0.0.1:$port is already in use (${holder#users:((}); stop that process first"
  done
  node_credentials traefik runbook:traefik runbook:traefik
  kubectl apply --server-side -f "$root/cluster/gateway.yaml" >>"$log" 2>&1 \
    || fail "start the gateway" "kubectl apply -f cluster/gateway.yaml failed"
  cat > "$node_dir/traefik.yaml" <<EOF
global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: "127.0.0.1:$GATEWAY_PORT"
  traefik:
    address: "127.0.0.1:$GATEWAY_ADMIN_PORT"
ping:
  entryPoint: traefik
# Read-only, on the loopback entry point above: what Traefik routes now (GET /api/http/services).
api:
  insecure: true
  dashboard: false
metrics:
  prometheus:
    entryPoint: traefik
    addServicesLabels: true
    # The demo app's buckets: the release's latency thresholds (500 ms, 10 s) fall on a bucket
    # boundary of both, so the Gateway's p95 reads what the pods' does.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
providers:
  kubernetesGateway:
    statusAddress:
      ip: 127.0.0.1
log:
  level: INFO
  noColor: true
EOF
  KUBECONFIG="$node_dir/traefik.kubeconfig" start_daemon traefik "$bin/traefik" --configFile "$node_dir/traefik.yaml"
  wait_for traefik 60 curl -fsS "http://127.0.0.1:$GATEWAY_ADMIN_PORT/ping"
  wait_for traefik 120 kubectl wait --for condition=Programmed --timeout=1s -n runbook-gateway gateway/local
}

node_up() {
  rm -rf "$node_dir" && mkdir -p "$node_dir/pki" "$node_dir/run"
  step "starting the real node: network, containerd, kubelet, kube-proxy, DNS, metrics-server, gateway"
  node_network
  start_containerd
  import_images
  # kube-proxy waits for its node to exist: the kubelet registers it.
  start_kubelet
  start_kube_proxy
  start_dns
  start_metrics_server
  start_gateway
  step "node $NODE_NAME is Ready (containerd $("$bin/containerd" --version | awk '{print $3}'))"
}

# Stops the node and removes what it made, whether or not its processes still run.
node_down() {
  local f
  if [ -f "$node_dir/run/kubelet.pid" ]; then kill "$(cat "$node_dir/run/kubelet.pid")" 2>/dev/null || true; fi
  # Every pod's sandbox through the CRI, so the CNI plugin releases its address and veth.
  if [ -S "$cri_sock" ] && [ -x "$bin/crictl" ]; then
    crictl rmp --all --force >>"$log" 2>&1 || true
  fi
  # A shim left by a killed containerd: its containers die with their cgroup's processes.
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $cri_sock" 2>/dev/null || true
  kill_pod_processes
  stop_node_daemons
  for f in $(our_mounts | sort -r); do umount -l "$f" 2>/dev/null || true; done
  # Another checkout's running node owns the network: leave it alone.
  if [ -z "$(other_owner)" ]; then
    remove_network
    if [ -f "$IP_FORWARD_FILE" ]; then cat "$IP_FORWARD_FILE" > /proc/sys/net/ipv4/ip_forward && rm -f "$IP_FORWARD_FILE"; fi
    rm -f "$OWNER_FILE"
  fi
  find /var/log/containers -maxdepth 1 -type l -lname "$node_dir/*" -delete 2>/dev/null || true
  rm -rf "$node_dir"
}

remove_network() {
  [ -x "$bin/kube-proxy" ] && "$bin/kube-proxy" --cleanup >>"$log" 2>&1 || true
  remove_chains
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
}

NODE_DAEMONS=(traefik metrics-server kubelet kube-proxy coredns containerd)
node_daemon_pattern() { local IFS='|'; echo "^$bin/(${NODE_DAEMONS[*]}) "; }

stop_node_daemons() { stop_matching "$(node_daemon_pattern)"; }

# Every daemon of the node runs and the node is Ready.
node_running() {
  local d
  for d in "${NODE_DAEMONS[@]}"; do
    [ -f "$node_dir/run/$d.pid" ] && kill -0 "$(cat "$node_dir/run/$d.pid")" 2>/dev/null || return 1
  done
  [ "$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# The chains kube-proxy --cleanup leaves (the kubelet's KUBE-FIREWALL, its canaries) and
# ours: the jumps to them from the built-in chains first, then the chains, IPv4 and IPv6.
remove_chains() {
  local cmd table rule chain
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      "$cmd" -w -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE-|RUNBOOK-)' | grep -vE '^-A (KUBE-|RUNBOOK-)' \
        | while read -r rule; do
          # shellcheck disable=SC2086
          eval "$cmd -w -t $table ${rule/-A/-D}" 2>/dev/null || true
        done || true
      for chain in $("$cmd" -w -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|RUNBOOK-)/ { print $2 }'); do
        "$cmd" -w -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd" -w -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|RUNBOOK-)/ { print $2 }'); do
        "$cmd" -w -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

our_mounts() { awk -v d="$node_dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo; }

# Containers (their processes are not under .cluster/bin) run in the cgroups runc made for
# them, /k8s.io/<container ID> in every hierarchy (k8s.io: the namespace of containerd's CRI).
# With its shims gone, a container is found there; its IDs are the ones in our runc's root.
container_cgroups() {
  local ids="" id
  if [ -d "$node_dir/runc/k8s.io" ]; then ids=$(ls "$node_dir/runc/k8s.io"); fi
  for id in $ids; do
    find /sys/fs/cgroup -mindepth 3 -maxdepth 3 -type d -path "*/k8s.io/$id" 2>/dev/null
  done
}

pod_processes() {
  find /sys/fs/cgroup/pids/k8s.io -mindepth 2 -maxdepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

kill_pod_processes() {
  local c pids
  for c in $(container_cgroups); do
    pids=$(cat "$c/cgroup.procs" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  done
  sleep 0.5
  # runc removes a container's cgroups when it deletes the container; after a kill it cannot.
  for c in $(container_cgroups); do rmdir "$c" 2>/dev/null || true; done
}

# What a node of ours can leave behind; one line per leftover, nothing when clean.
node_leftovers() {
  local p
  pgrep -af "^$dir/" | sed 's/^/process: /'
  pgrep -af "containerd-shim-runc-v2 .*$dir/" | sed 's/^/shim: /'
  for p in $(pod_processes); do echo "container process $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"; done
  container_cgroups | sed 's/^/cgroup: /'
  our_mounts | sed 's/^/mount: /'
  [ -d "$node_dir/containerd/state/netns" ] && find "$node_dir/containerd/state/netns" -mindepth 1 | sed 's/^/network namespace: /'
  # The machine's network is another running checkout's to clean up.
  [ -z "$(other_owner)" ] || return 0
  [ -f "$OWNER_FILE" ] && echo "owner file: $OWNER_FILE"
  ip -o link show "$NODE_BRIDGE" 2>/dev/null | awk '{ print "bridge: " $2 }'
  ip -o link show type veth 2>/dev/null | awk -v b="master $NODE_BRIDGE" 'index($0, b) { print "veth: " $2 }'
  ip route show 2>/dev/null | awk '/^198\.18\.1[67]\./ { print "route: " $0 }'
  local cmd table
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      "$cmd" -w -t "$table" -S 2>/dev/null | awk -v w="$cmd $table" '/^-N (KUBE-|RUNBOOK-)/ { print w " chain: " $2 }'
    done
  done
  [ -f "$IP_FORWARD_FILE" ] && echo "ip_forward: not restored to $(cat "$IP_FORWARD_FILE")"
  find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" 2>/dev/null | sed 's/^/log link: /'
  [ -d "$node_dir" ] && echo "directory: .cluster/node"
  true
}
