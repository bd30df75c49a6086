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

    /// The device and channel phases: every number was measured, the demo kept order,
    /// and delivery stays within a bound that catches a regression to polling or timeouts.
    func testDeviceAndChannelBenchmarks() throws {
        try requireEmulator(.riscv64)
        let builder = try Builder(root: TestImages.root)
        let r = try Bench.runIO(builder, .riscv64, try TestImages.images(.riscv64))
        print(r.report)
        XCTAssertEqual(r.deliveries, 16, "one interrupt per request of the interrupt pass")
        XCTAssertGreaterThan(r.deliveryMeanInstructions, 100, "the delivery went through the hypervisor and the guest")
        XCTAssertLessThanOrEqual(r.deliveryMeanInstructions, 20_000, "device interrupt delivery")
        XCTAssertGreaterThan(r.notifyToHandlerInstructions, 0)
        XCTAssertTrue(r.pingPongInOrder, "1000 packets each way, in order")
        XCTAssertGreaterThan(r.doorbellRoundTripTicks, 0)
        XCTAssertLessThanOrEqual(r.doorbellRoundTripTicks, 500, "doorbell round trip within 50 us of guest time")
        XCTAssertGreaterThan(r.packetsPerSecondDoorbell, 0)
        XCTAssertGreaterThan(r.packetsPerSecondPolling, 0)
    }
}
