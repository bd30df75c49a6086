// BenchTests: `rumkv bench` runs and its deterministic numbers meet the targets.
//
// Under QEMU -icount shift=0 instruction counts and guest time do not depend
// on the host's speed, so these are regression guards, not timing tests.
// The same checks run on riscv64 and aarch64, with the targets (null
// call <= 150 instructions, image <= 128 KiB) and, where a port does much
// better, a bound just above its measured number.

import Foundation
import XCTest
import RumkvBuild

final class BenchTests: XCTestCase {
    func testBenchmarkMeetsTargets() throws { try benchmark(.riscv64) }
    func testAArch64Benchmark() throws { try benchmark(.aarch64) }
    /// Under Bochs (no -icount): counts are TSC ticks, which Bochs advances with
    /// its emulated clock (10 M per emulated second at ips = 10 M).
    func testX86_64Benchmark() throws { try benchmark(.x86_64) }

    func benchmark(_ arch: Arch) throws {
        try requireEmulator(arch)
        let builder = try Builder(root: TestImages.root)
        let r = try Bench.run(builder, arch, try TestImages.images(arch))
        print(r.report)
        // aarch64 answers the null HVC in its EL2 vector (about 16 instructions there);
        // riscv64 answers the constant SBI calls at the top of its guest trap (about 24).
        XCTAssertGreaterThan(r.nullCallInstructions, 10, "the call really went through the hypervisor")
        XCTAssertGreaterThan(r.timerSetInstructions, 0)
        XCTAssertLessThanOrEqual(r.imageLoadBytes, 128 * 1024, "hypervisor image target")
        switch arch {
        case .aarch64:
            // Measured 17 (PMU cycle counter, one per instruction under -icount) with the
            // vector's fast path (Boot/include/aarch64/fastcalls.h); 366 through the full exit.
            XCTAssertLessThanOrEqual(r.nullCallInstructions, 20, "null HVC round trip (answered in the EL2 vector)")
            // Measured 105,876 bytes: the console UART write and printers out of line and
            // Rumkv built without -mstrict-align (its EL2 MMU maps RAM as Normal memory); 150,548 before.
            XCTAssertLessThanOrEqual(r.imageLoadBytes, 108 * 1024, "aarch64 image (regression bound)")
            XCTAssertLessThanOrEqual(r.timerSetInstructions, 20, "the guest owns its virtual timer: no exit")
            XCTAssertEqual(r.timebaseHz, 62_500_000)
            // 62.5 MHz ticks: 125 is 2 us, as riscv64's 20 ticks of 10 MHz.
            XCTAssertLessThanOrEqual(r.timerWakeTicks, 125, "a guest in wfi wakes within 2 us of its deadline")
        case .x86_64:
            // Measured 320 ticks (RUM_HC_VERSION is answered in the port's run loop): target 150 missed.
            XCTAssertLessThanOrEqual(r.nullCallInstructions, 600, "null VMCALL round trip (regression bound)")
            XCTAssertLessThanOrEqual(r.timerSetInstructions, 1200, "RUM_HC_SET_TIMER through the core (regression bound)")
            XCTAssertGreaterThan(r.timerWakeTicks, 0, "the wake-up is an injected vector after a hlt exit, never early")
            XCTAssertLessThan(r.timerWakeTicks, r.timebaseHz / 1000, "woken within 1 ms of its deadline, not at a slice end")
            XCTAssertEqual(Double(r.timebaseHz), 10_000_000, accuracy: 500_000, "the TSC against the PIT at Bochs's ips")
        default:
            XCTAssertLessThanOrEqual(r.nullCallInstructions, 30, "null SBI round trip (answered at the top of the guest trap; target 100)")
            XCTAssertLessThanOrEqual(r.timerSetInstructions, 30, "SBI set_timer answered at the top of the guest trap")
            XCTAssertEqual(r.timebaseHz, 10_000_000)
            XCTAssertLessThanOrEqual(r.timerWakeTicks, 20, "a guest in wfi wakes within 2 us of its deadline")
        }
        XCTAssertGreaterThan(r.restartMicros, 0, "a restart was measured")
        if arch == .x86_64 {
            // Bochs time at 10 M ticks per second: ~29 ms is ~290 k instructions (target missed as stated).
            XCTAssertLessThanOrEqual(r.restartMicros, 60_000, "x86_64 restart under Bochs (regression bound)")
        } else {
            XCTAssertLessThanOrEqual(r.restartMicros, 2000, "blink recovery within 2 ms of guest time")
        }
    }

    /// The emulated NS16550 (riscv64): a status poll and a character cost one trap round trip
    /// on the fast path each, far below a trip through the scheduler loop.
    func testUARTBenchmark() throws {
        try requireEmulator(.riscv64)
        let r = try Bench.runUART(try Builder(root: TestImages.root), .riscv64, try TestImages.images(.riscv64))
        print(r.report)
        XCTAssertTrue(r.lineSeen, "the characters written through THR reached the console")
        XCTAssertGreaterThan(r.pollInstructions, 50, "the poll trapped into the hypervisor")
        XCTAssertLessThanOrEqual(r.pollInstructions, 1_000, "LSR poll on the trap fast path (regression bound)")
        XCTAssertGreaterThan(r.putcInstructions, 50)
        XCTAssertLessThanOrEqual(r.putcInstructions, 1_500, "THR write on the trap fast path (regression bound)")
    }

    /// The device and channel phases: every number was measured, the demo kept order,
    /// and delivery stays within a bound that catches a regression to polling or timeouts.
    func testDeviceAndChannelBenchmarks() throws { try deviceAndChannel(.riscv64) }
    func testAArch64DeviceAndChannelBenchmarks() throws { try deviceAndChannel(.aarch64) }

    func deviceAndChannel(_ arch: Arch) throws {
        try requireEmulator(arch)
        let builder = try Builder(root: TestImages.root)
        let r = try Bench.runIO(builder, arch, try TestImages.images(arch))
        print(r.report)
        XCTAssertEqual(r.deliveries, 16, "one interrupt per request of the interrupt pass")
        if arch == .riscv64 {
            // aarch64 guests acknowledge through the hardware CPU interface (no exit), so
            // the hypervisor sees no claim: the guest's notify-to-handler number stands for it.
            XCTAssertGreaterThan(r.deliveryMeanInstructions, 100, "the delivery went through the hypervisor and the guest")
            XCTAssertLessThanOrEqual(r.deliveryMeanInstructions, 20_000, "device interrupt delivery")
        } else {
            // The guest's notify-to-handler includes QEMU's own I/O emulation: typically
            // 576-1,776 here, once 35,376 on a loaded machine; the bound catches a lost
            // interrupt (recovered only by a timeout), not noise.
            XCTAssertLessThanOrEqual(r.notifyToHandlerInstructions, 100_000, "device interrupt delivery")
        }
        XCTAssertGreaterThan(r.notifyToHandlerInstructions, 0)
        XCTAssertTrue(r.pingPongInOrder, "1000 packets each way, in order")
        XCTAssertGreaterThan(r.doorbellRoundTripTicks, 0)
        XCTAssertLessThanOrEqual(r.doorbellRoundTripMicros, 50, "doorbell round trip within 50 us of guest time")
        XCTAssertGreaterThan(r.packetsPerSecondDoorbell, 0)
        XCTAssertGreaterThan(r.packetsPerSecondPolling, 0)
    }
}
