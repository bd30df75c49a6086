// SoakTests: the short CI runs of `rumkv soak` (riscv64, x86_64): 100,000 fuzzed
// hypercalls and 100 crash-restart cycles beside two heartbeating guests.
// The full runs (1,000,000 calls, 1,000 cycles) are `rumkv soak fuzz` and
// `rumkv soak restart`; their numbers are in the README.

import Foundation
import RumkvBuild
import XCTest

final class SoakTests: XCTestCase {
    func testHypercallFuzzerBesideTwoGuests() throws { try fuzz(.riscv64) }
    /// The same under Bochs: the fuzzer's extensions are Rumkv's VMCALL numbers.
    func testX86_64HypercallFuzzerBesideTwoGuests() throws { try fuzz(.x86_64) }

    func fuzz(_ arch: Arch) throws {
        try requireEmulator(arch)
        let r = try Soak.fuzz(Builder(root: TestImages.root), arch, try TestImages.images(arch), calls: 100_000)
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

    func testHundredCrashRestartCyclesReturnEveryPage() throws { try restarts(.riscv64, cycles: 100) }
    /// The same under Bochs, 30 cycles (about a second of real time each there;
    /// restart times are Bochs's emulated time, ~29 ms each).
    func testX86_64CrashRestartCyclesReturnEveryPage() throws { try restarts(.x86_64, cycles: 30) }

    func restarts(_ arch: Arch, cycles: Int) throws {
        try requireEmulator(arch)
        let r = try Soak.restart(Builder(root: TestImages.root), arch, try TestImages.images(arch), cycles: cycles)
        XCTAssertTrue(r.passed, r.report)
        XCTAssertGreaterThanOrEqual(r.cycles, cycles, r.report)
        XCTAssertEqual(r.freePagesAfter, r.freePagesBefore, r.report)
        XCTAssertGreaterThanOrEqual(r.restartMicros.count, cycles * 9 / 10, r.report)
        XCTAssertLessThan(r.restartMicros.max() ?? .infinity, 100_000, "no restart takes 100 ms:\n\(r.report)")
        // Issue 14 finding 3: the attached console marks every new instance, and shows no prompt.
        XCTAssertGreaterThanOrEqual(r.newInstanceMarkers, r.cycles, r.report)
        XCTAssertEqual(r.promptsWhileAttached, 0, r.report)
    }
}
