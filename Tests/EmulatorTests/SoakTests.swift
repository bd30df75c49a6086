// SoakTests: the short CI runs of `rumkv soak` (riscv64): 100,000 fuzzed
// hypercalls and 100 crash-restart cycles beside two heartbeating guests.
// The full runs (1,000,000 calls, 1,000 cycles) are `rumkv soak fuzz` and
// `rumkv soak restart`; their numbers are in the README.

import Foundation
import RumkvBuild
import XCTest

final class SoakTests: XCTestCase {
    func testHypercallFuzzerBesideTwoGuests() throws {
        try requireEmulator(.riscv64)
        let r = try Soak.fuzz(Builder(root: TestImages.root), .riscv64, try TestImages.images(.riscv64), calls: 100_000)
        XCTAssertTrue(r.passed, r.report)
        XCTAssertGreaterThanOrEqual(r.calls, 100_000, r.report)
        let counted = r.results.reduce(0) { $0 + $1.1 }
        XCTAssertEqual(counted, r.calls, "every call is counted under one result:\n\(r.report)")
        let byName = Dictionary(r.results, uniquingKeysWith: +)
        XCTAssertGreaterThan(byName["ok"] ?? 0, 0, "some calls are valid")
        XCTAssertGreaterThan(byName["-2"] ?? 0, 0, "unknown extensions and functions are refused")
        XCTAssertGreaterThan(byName["-3"] ?? 0, 0, "bad parameters are refused")
        XCTAssertGreaterThan(byName["-5"] ?? 0, 0, "bad addresses are refused")
        XCTAssertGreaterThan(byName["skipped"] ?? 0, 0, "calls that end the guest are skipped, and counted")
    }

    func testHundredCrashRestartCyclesReturnEveryPage() throws {
        try requireEmulator(.riscv64)
        let r = try Soak.restart(Builder(root: TestImages.root), .riscv64, try TestImages.images(.riscv64), cycles: 100)
        XCTAssertTrue(r.passed, r.report)
        XCTAssertGreaterThanOrEqual(r.cycles, 100, r.report)
        XCTAssertEqual(r.freePagesAfter, r.freePagesBefore, r.report)
        XCTAssertGreaterThanOrEqual(r.restartMicros.count, 90, r.report)
        XCTAssertLessThan(r.restartMicros.max() ?? .infinity, 100_000, "no restart takes 100 ms:\n\(r.report)")
        // Issue 14 finding 3: the attached console marks every new instance, and shows no prompt.
        XCTAssertGreaterThanOrEqual(r.newInstanceMarkers, r.cycles, r.report)
        XCTAssertEqual(r.promptsWhileAttached, 0, r.report)
    }
}
