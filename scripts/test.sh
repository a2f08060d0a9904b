#!/usr/bin/env bash
# The README's test command: sets up what is missing, type-checks, then runs every jest
# test (unit and end-to-end through the real Pulumi engine). Ends with one line
# "N passed, N failed" counting every test that ran.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# Everything below (the checks, jest, the engine's language host and the policy pack) runs
# on the project's Node.js.
node_bin=$(bash scripts/node-install.sh) || { echo "0 passed, 1 failed"; exit 1; }
export PATH="$node_bin:$PATH"
bash scripts/system-packages.sh --tests || { echo "installing the test servers failed"; echo "0 passed, 1 failed"; exit 1; }
# The S3-compatible server for the backup tests is a Go build of its own (minutes when cold).
# It builds while the static checks run, which leave a core free; beside the setup's builds,
# which keep both cores busy, it only slowed them (the cold run of 919785c).
s3_log=$(mktemp)
bash scripts/s3-server.sh >"$s3_log" 2>&1 &
s3_pid=$!

# Three static checks, each counted as one test: the type-check, the linter and the formatter.
echo "[test] tsc --noEmit (the project, and the policy pack alone: it may import nothing outside policies/)"
typecheck=0
npx --no-install tsc --noEmit -p tsconfig.json || typecheck=1
npx --no-install tsc -p policies/tsconfig.json || typecheck=1
echo "[test] eslint"
lint=0
npx --no-install eslint . || lint=1
echo "[test] prettier --check (npm run format fixes it)"
format=0
npx --no-install prettier --check --log-level warn . || format=1

wait "$s3_pid" || { cat "$s3_log"; rm -f "$s3_log"; echo "building the S3 test server failed"; echo "0 passed, 1 failed"; exit 1; }
cat "$s3_log" >&2
rm -f "$s3_log"

report=$(mktemp)
npx --no-install jest --json --outputFile="$report" "$@"
jest_rc=$?

node -e '
const fs = require("fs");
let r = {};
try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
const [jestRc, ...checks] = process.argv.slice(2).map(Number);
const passed = (r.numPassedTests || 0) + checks.filter((c) => c === 0).length;
let failed = (r.numFailedTests || 0) + checks.filter((c) => c !== 0).length + (r.numRuntimeErrorTestSuites || 0);
// jest failed without a failing test to show for it (it crashed, or ran nothing): count it.
if (jestRc !== 0 && (r.numFailedTests || 0) + (r.numRuntimeErrorTestSuites || 0) === 0) failed += 1;
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
 ' "$report" "$jest_rc" "$typecheck" "$lint" "$format"
rm -f "$report"
[ "$typecheck" -eq 0 ] && [ "$lint" -eq 0 ] && [ "$format" -eq 0 ] && [ "$jest_rc" -eq 0 ]
