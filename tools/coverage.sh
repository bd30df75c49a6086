#!/bin/sh
# coverage.sh - line coverage of the portable core (Hypervisor/Core) by the host tests.
#
# Usage: tools/coverage.sh [THRESHOLD]      (percent, default 85)
#
# Builds and runs the host tests with coverage (the EmulatorTests target is
# skipped: it boots emulators), then reports with llvm-cov from the Swift
# toolchain the lines of every Hypervisor/Core file that the tests ran, one
# line per file and a total. Exits non-zero if a step fails or the total is
# below THRESHOLD. SWIFT_BIN overrides the toolchain directory
# (default /opt/swift/usr/bin, else the swift on PATH).
set -eu

threshold=${1:-85}
case $threshold in
    ''|*[!0-9.]*) echo "usage: $0 [THRESHOLD percent]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${SWIFT_BIN:-/opt/swift/usr/bin}
if [ ! -x "$bin/swift" ]; then bin=$(dirname "$(command -v swift)"); fi
swift=$bin/swift
llvmcov=$bin/llvm-cov
[ -x "$llvmcov" ] || llvmcov=$(command -v llvm-cov)

"$swift" test --enable-code-coverage --skip EmulatorTests

profile_json=$("$swift" test --show-codecov-path)
profdata=$(dirname "$profile_json")/default.profdata
bindir=$("$swift" build --show-bin-path)
tests=$bindir/RumkvPackageTests.xctest
[ -d "$tests" ] && tests=$tests/Contents/MacOS/RumkvPackageTests    # macOS bundles
[ -f "$profdata" ] || { echo "coverage.sh: no profile data at $profdata" >&2; exit 1; }

echo
echo "Line coverage of Hypervisor/Core by the host tests:"
# The summary per file, from `llvm-cov export` (JSON), restricted to Hypervisor/Core.
"$llvmcov" export -summary-only -instr-profile "$profdata" "$tests" "$root"/Hypervisor/Core/*.swift |
python3 -c '
import json, sys
threshold = float(sys.argv[1]); root = sys.argv[2] + "/"
data = json.load(sys.stdin)["data"][0]["files"]
rows = sorted((f["filename"].replace(root, ""), f["summary"]["lines"]) for f in data
              if f["filename"].startswith(root + "Hypervisor/Core/"))
covered = total = 0
for name, l in rows:
    covered += l["covered"]; total += l["count"]
    pct = 100.0 * l["covered"] / l["count"] if l["count"] else 100.0
    print("  %-42s %6.1f%%  (%d of %d lines)" % (name, pct, l["covered"], l["count"]))
pct = 100.0 * covered / total if total else 0.0
print("Hypervisor/Core line coverage: %.1f%% (%d of %d lines)" % (pct, covered, total))
if pct < threshold:
    print("coverage.sh: below the threshold of %g%%" % threshold, file=sys.stderr)
    sys.exit(1)
' "$threshold" "$root"
