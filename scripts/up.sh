#!/usr/bin/env bash
# The embedded default, live: installs what is missing, brings the project's local cluster
# up (scripts/cluster.sh), runs a real `pulumi up` of the `local` stack with the policy pack
# against it, then prints what the API server says is running.
#   bash scripts/up.sh [extra pulumi up flags]
# Run it again to converge; after `npm run --silent cluster -- down` it rebuilds everything
# on the new cluster (the refresh drops from the state what the old cluster held).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh
kubeconfig=$(bash scripts/cluster.sh up | tail -n 1)
# shellcheck source=scripts/env.sh
source scripts/env.sh
export PULUMI_BACKEND_URL="file://$root/.pulumi-state"
# The local stack holds no secrets of value; a real stack sets its own passphrase or KMS.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p .pulumi-state
pulumi stack select --create local --non-interactive >/dev/null
# An update that was killed leaves its lock (and maybe a half-written sidecar file) behind.
npx --no-install tsx scripts/recover-state.ts --stack local

# The state may describe a cluster that is gone (after `cluster -- down`), objects changed
# behind Pulumi's back, or creates a killed update never finished: the refresh reads the
# API server and drops those pending creates (every object here has a fixed name, and the
# provider's server-side apply adopts one that exists, so nothing is doubled).
pulumi refresh --stack local --yes --non-interactive --skip-preview --clear-pending-creates >/dev/null
pulumi up --stack local --yes --non-interactive --policy-pack policies "$@"

echo
npm run --silent status -- --stack local --kubeconfig "$kubeconfig"
