// BenchTests: `rumkv bench` runs and its deterministic numbers meet the targets.
//
// Under QEMU -icount shift=0 instruction counts and guest time do not depend
// on the host's speed, so these are regression guards, not timing tests.

import Foundation
import XCTest
import RumkvBuild

final class BenchTests: XCTestCase {
    func testBenchmarkMeetsTargets() throws {
        try requireEmulator(.riscv64)
        let builder = try Builder(root: TestImages.root)
        let r = try Bench.run(builder, .riscv64, try TestImages.images(.riscv64))
        print(r.report)
        XCTAssertGreaterThan(r.nullCallInstructions, 20, "the call really went through the hypervisor")
        XCTAssertLessThanOrEqual(r.nullCallInstructions, 150, "null SBI round trip target")
        XCTAssertGreaterThan(r.timerSetInstructions, 0)
        XCTAssertEqual(r.timebaseHz, 10_000_000)
        XCTAssertGreaterThan(r.restartMicros, 0, "a restart was measured")
        XCTAssertLessThanOrEqual(r.restartMicros, 2000, "blink recovery within 2 ms of guest time")
        XCTAssertLessThanOrEqual(r.imageLoadBytes, 128 * 1024, "hypervisor image target")
    }
}
