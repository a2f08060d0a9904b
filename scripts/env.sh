# Source this file to run the project's Pulumi toolchain by hand:
#   source scripts/env.sh && pulumi preview --stack local
# It does not build anything; run `bash scripts/toolchain.sh` first.
_rb_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export PATH="$_rb_root/.toolchain/bin:$PATH"
# The project's Node.js 24 when the machine's is older (scripts/node-install.sh).
if [ -x "$_rb_root/.node/bin/node" ]; then export PATH="$_rb_root/.node/bin:$PATH"; fi
export PULUMI_HOME="${PULUMI_HOME:-$_rb_root/.toolchain/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Type-checking is the test command's (`tsc --noEmit`); each program run skips it (~9 s).
export PULUMI_NODEJS_TRANSPILE_ONLY=true
unset _rb_root
