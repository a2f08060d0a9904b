#!/bin/sh
# How the project's commands start node (package.json scripts): with the project's Node.js
# (.node/bin, scripts/node-install.sh) first on PATH when it has one, so that the Pulumi
# engine, its language host and the policy pack a command starts run on it too.
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$root/.node/bin/node" ]; then
  PATH="$root/.node/bin:$PATH"
  export PATH
fi
exec node "$@"
