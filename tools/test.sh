#!/usr/bin/env bash
# test.sh - the whole test suite: host unit tests and the emulator tests on all
# three architectures (XCTest), ending with one plain "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
log=$(mktemp)
swift test --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# XCTest's last summary: "Executed N tests, with F failures ..." or
# "Executed N tests, with S tests skipped and F failures ...".
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with " "$log" | tail -1)
rm -f "$log"
if [[ $summary =~ Executed\ ([0-9]+)\ tests?,\ with\ (([0-9]+)\ tests?\ skipped\ and\ )?([0-9]+)\ failure ]]; then
  total=${BASH_REMATCH[1]}; skipped=${BASH_REMATCH[3]:-0}; failed=${BASH_REMATCH[4]}
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
elif [ "$status" -ne 0 ]; then
  echo "0 passed, 1 failed"      # the build or the runner failed before any summary
fi
exit "$status"
