#!/usr/bin/env bash
# Installs the Debian packages whose tools the project runs, when a tool is missing:
#   ssh-keygen (openssh-client): signing and verifying approvals (policies/lib/ssh-signature.ts)
#   the local cluster's real node (scripts/cluster-node.sh, scripts/cluster-images.sh):
#   iptables (kube-proxy, the node's firewall chain), libseccomp-dev (runc's seccomp, a cgo
#   build), busybox-static (the sandbox image), mmdebstrap (the Jobs' toolbox image), openssl
#   (the node's credentials), curl (readiness checks)
#   with --tests also: initdb, pg_dump, psql (postgresql): the backup tests' real server;
#   aws (awscli): the S3 client the backup pods run, against the tests' S3 server
#   bash scripts/system-packages.sh [--tests]
# Uses apt-get (as root, or through sudo when there is one); does nothing when all are there.
# apt's output goes to a log in the temporary directory; a failure shows its last lines.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# tool:package — a tool is a command on PATH, or a path pattern (the server binaries of
# Debian's PostgreSQL live under /usr/lib/postgresql/<version>/bin)
needs=(ssh-keygen:openssh-client /usr/sbin/iptables:iptables /usr/include/seccomp.h:libseccomp-dev
  /bin/busybox:busybox-static mmdebstrap:mmdebstrap openssl:openssl curl:curl)
# (Debian's aws, by its path: another one earlier on PATH is not the client the tests mean.)
[ "${1:-}" = "--tests" ] && needs+=("/usr/lib/postgresql/*/bin/initdb:postgresql" "/usr/bin/aws:awscli")

have() {
  case "$1" in
    */*) compgen -G "$1" >/dev/null ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for pair in "${needs[@]}"; do
  have "${pair%%:*}" || missing+=("${pair##*:}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

log=$(mktemp -t runbook-apt.XXXXXX)
progress_tag=system-packages
# shellcheck source=scripts/progress.sh
source "$root/scripts/progress.sh"
step "installing ${missing[*]} (Debian packages)"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[system-packages] need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql makes and starts a main cluster when installed; the tests start their
# own servers in scratch directories, so none is made (and none left running).
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/runbook-no-main-cluster.conf >/dev/null
fi
"${sudo[@]}" apt-get update -qq >>"$log" 2>&1 || fail "apt-get update" "the package lists could not be fetched"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
  || fail "apt-get install ${missing[*]}" "apt could not install them"
rm -f "$log"
step "installed ${missing[*]}"
