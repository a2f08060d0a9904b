#!/usr/bin/env bash
# The README's test command: sets up what is missing, type-checks, then runs every jest
# test (unit and end-to-end through the real Pulumi engine). Ends with one line
# "N passed, N failed" counting every test that ran.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

echo "[test] tsc --noEmit"
typecheck=0
npx --no-install tsc --noEmit -p tsconfig.json || typecheck=1

report=$(mktemp)
npx --no-install jest --json --outputFile="$report" "$@"
jest_rc=$?

node -e '
const fs = require("fs");
let r = {};
try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
const typecheck = Number(process.argv[2]);
const passed = (r.numPassedTests || 0) + (typecheck === 0 ? 1 : 0);
const failed = (r.numFailedTests || 0) + (typecheck === 0 ? 0 : 1) + (r.numRuntimeErrorTestSuites || 0);
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" "$typecheck"
rm -f "$report"
[ "$typecheck" -eq 0 ] && [ "$jest_rc" -eq 0 ]
