#!/usr/bin/env bash
# The embedded default, end to end: installs what is missing, builds the Pulumi toolchain
# once, then runs a real `pulumi up` of the `local` stack with the policy pack. The
# Kubernetes provider renders every manifest to rendered/local instead of a cluster.
#   bash scripts/render.sh [extra pulumi up flags]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh
export PULUMI_BACKEND_URL="file://$root/.pulumi-state"
# The local stack holds no secrets of value; a real stack sets its own passphrase or KMS.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p .pulumi-state
pulumi stack select --create local --non-interactive >/dev/null

out="$root/rendered/local"
rm -rf "$out"
pulumi up --stack local --yes --non-interactive --skip-preview --policy-pack policies "$@"

echo
node scripts/count-manifests.js "$out"
