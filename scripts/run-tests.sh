#!/usr/bin/env bash
# Runs the three test tiers in order and prints one summary line for all of them.
# Integration and end-to-end tests use TEST_DATABASE_URL (or DATABASE_URL) and REDIS_URL.
set -uo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provenance_test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

run_tier() {
  local tier=$1 config=$2
  shift 2
  echo "=== ${tier} tests ==="
  npx jest --config "$config" --json --outputFile="$results/$tier.json" "$@"
}

status=0
run_tier unit jest.unit.config.js || status=1
run_tier integration jest.integration.config.js --runInBand || status=1
run_tier e2e jest.e2e.config.js --runInBand || status=1

summary=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of fs.readdirSync(process.argv[1])) {
    const report = JSON.parse(fs.readFileSync(`${process.argv[1]}/${file}`, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
    skipped += report.numPendingTests;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results")
echo "Tests: ${summary}"
exit $status
