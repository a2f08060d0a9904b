#!/usr/bin/env bash
# Installs the Debian packages whose tools the project runs, when a tool is missing:
#   ssh-keygen (openssh-client): signing and verifying approvals (lib/ssh-signature.ts)
# Uses apt-get (as root, or through sudo when there is one); does nothing when all are there.
set -euo pipefail

# tool:package
needs=(ssh-keygen:openssh-client)

missing=()
for pair in "${needs[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "[system-packages] installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[system-packages] need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
