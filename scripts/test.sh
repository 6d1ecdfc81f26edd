#!/usr/bin/env bash
# The one test command (README, CI): sets up the machine, type-checks and lints, runs the unit
# tests, brings the real test bed up and runs the e2e tests against it. Ends with the plain line
# `N passed, N failed` adding up every check and test.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
summary=$(mktemp); export PVMOVE_SUMMARY_FILE=$summary
passed=0; failed=0

counted() { # counted NAME CMD...: CMD reports counts to the summary; one that does not is a failure
  local name=$1 before after; shift
  echo "=== $name"
  before=$(wc -l <"$summary")
  "$@"
  after=$(wc -l <"$summary")
  [ "$after" -gt "$before" ] || { echo "FAILED: $name did not run"; failed=$((failed + 1)); }
}

check() { # check NAME CMD...: one pass or fail in the total
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

check typecheck npx tsc --noEmit -p .
check lint npm run -s lint
counted "unit tests" npx mocha 'test/unit/**/*.test.ts'

echo "=== test bed"
if bash scripts/testbed/testbed.sh up; then
  eval "$(bash scripts/testbed/testbed.sh env)"
  # Every test/e2e file once, in parallel lanes (PVMOVE_E2E_JOBS), each file's log printed whole.
  counted "e2e tests" bash scripts/e2e-lanes.sh
  if [ "${CI:-}" = true ] || [ "${PVMOVE_TESTBED_DOWN:-}" = 1 ]; then
    bash scripts/testbed/testbed.sh down || true
  else
    echo "(the test bed stays up for the next run: bash scripts/testbed/testbed.sh down stops it)"
  fi
else
  echo "FAILED: test bed did not come up"; failed=$((failed + 1))
fi

# Each mocha run appended "passed failed skipped" to the summary file.
while read -r p f _s; do passed=$((passed + p)); failed=$((failed + f)); done <"$summary"
rm -f "$summary"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
