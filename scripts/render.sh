#!/usr/bin/env bash
# The local stack rendered instead of applied: a real `pulumi up`, with the policy pack, of
# a `local-render` stack made from the `local` stack's config, whose Kubernetes provider
# writes every manifest under rendered/local (renderYamlToDirectory) and contacts no
# cluster. For CI users who want manifests to review or hand to another tool.
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
stack=local-render
# The same config as `local` every time, with the cluster swapped for a directory; the
# stack file is made for the run and removed after it.
trap 'rm -f "Pulumi.$stack.yaml"' EXIT
rm -f "Pulumi.$stack.yaml"
pulumi stack select --create "$stack" --non-interactive >/dev/null
pulumi config cp --stack local --dest "$stack" >/dev/null
pulumi config rm --path runbook:kubernetes.kubeconfig --stack "$stack" >/dev/null
pulumi config set --path runbook:kubernetes.renderYamlToDirectory rendered/local --stack "$stack" >/dev/null

out="$root/rendered/local"
rm -rf "$out"
pulumi up --stack "$stack" --yes --non-interactive --skip-preview --policy-pack policies "$@"

echo
node scripts/count-manifests.js "$out"
