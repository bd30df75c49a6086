// ConsoleAndBootTests: the shell's line handling through the console service,
// the boot banner, and boot-time failures, on the fake port.

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class ConsoleAndBootTests: MachineTestCase {
    func testOverlongLineIsDiscardedWithOneError() throws {
        try boot(guest("a"))
        H.consoleInput = Array(repeating: 0x78, count: LineEditor<Shell<FakeGuestHost>.Echo>.capacity + 5) + [13]
        let out = H.capture { while !H.consoleInput.isEmpty { ConsoleService<FakeGuestHost>.poll() } }
        XCTAssertTrue(out.hasSuffix("error: line too long (at most 120 characters); line discarded\r\nrumkv> "), out)
        XCTAssertEqual(out.components(separatedBy: "error:").count, 2)
    }

    func testCancelledLineRunsNothing() throws {
        try boot(guest("a"))
        H.consoleInput = Array("start a".utf8) + [3]
        let out = H.capture { ConsoleService<FakeGuestHost>.poll() }
        XCTAssertTrue(out.hasSuffix("rumkv> "), out)
        XCTAssertEqual(state(0), .stopped)
    }

    func testOutputOfRawBytes() {
        let out = H.capture { Array("a\nb".utf8).withUnsafeBufferPointer { Out<FakeGuestHost>.bytes($0) } }
        XCTAssertEqual(out, "a\r\nb")
    }

    func testVConsoleKeepsBacklogAndInputApart() {
        var c = VConsole()
        c.put(1); c.put(2)
        c.pushInput(3)
        var n = 0
        c.forEachBacklog { _ in n += 1 }
        XCTAssertEqual(n, 2)
        XCTAssertEqual(c.popInput(), 3)
        XCTAssertNil(c.popInput())
        XCTAssertEqual(c.written, 2, "the total written is kept for stats")
    }

    func testBanner() {
        var p = Platform()
        p.virtualization = "fake-virt"
        p.virtualizationDetail = "test detail"
        p.detailValue = 14
        p.detailLabel = "VMID bits"
        p.addCPU(0); p.addCPU(1)
        _ = p.memory.addRAM(PhysicalRange(base: 0x8000_0000, size: 128 << 20))
        let out = H.capture { Hypervisor<FakeGuestHost>.banner(p) }
        XCTAssertEqual(out, lines(
            "",
            "Rumkv \(RumkvVersion.string) (fake) - Type-1 hypervisor",
            "virtualization: fake-virt (test detail, VMID bits 14)",
            "cpus: 2  memory: 128 MiB  free: 128 MiB",
            "type 'help' for commands"))
        p.detailValue = nil
        XCTAssertTrue(H.capture { Hypervisor<FakeGuestHost>.banner(p) }.contains("virtualization: fake-virt (test detail)\r\n"))
    }

    func testBootFailsWithoutMemoryForTheChannels() throws {
        // The state fits in 256 KiB, two 64 KiB channels do not.
        let tables = guest("a", memory: "2M") + guest("b", memory: "2M")
            + "[[channel]]\nname = \"c0\"\nbetween = [\"a\", \"b\"]\nsize = \"64K\"\n"
            + "[[channel]]\nname = \"c1\"\nbetween = [\"b\", \"a\"]\nsize = \"64K\"\n"
        XCTAssertThrowsError(try FakeMachine.boot(tables, ram: 160 << 10)) {
            XCTAssertEqual("\($0)", "not enough memory for the channels")
        }
        XCTAssertNoThrow(try FakeMachine.boot(tables, ram: 1 << 20))
    }

    func testInterruptCPUIsTheFirstCPUOfVCPU0() throws {
        try boot(guest("a", "harts = [1]") + guest("b", "harts = [0, 1]"), harts: 2)
        XCTAssertEqual(m.pointee.interruptCPU(0), 1)
        XCTAssertEqual(m.pointee.interruptCPU(1), 0)
    }
}

/// The never-returning entry points, each on a thread of its own that parks for
/// good once it has nothing scripted left (FakeGuestHost.park).
final class StartWithGuestsTests: MachineTestCase {
    func run(_ body: @escaping () -> Void, file: StaticString = #filePath, line: UInt = #line) {
        H.park = true
        let t = Thread { body() }
        t.start()
        XCTAssertEqual(H.parked.wait(timeout: .now() + 20), .success, "the loop did not park", file: file, line: line)
    }

    func testStartWithGuestsStartsAutostartGuestsAndRunsTheBootHart() throws {
        let data = try FakeMachine.bundle(guest("a") + guest("bad") + guest("later", "autostart = false"), harts: 2,
                                          images: [1: FakeMachine.body(1)])
        let (p, view) = try FakeMachine.prepare(data, harts: 2)
        H.secondaryStarts = false
        H.now = 100_000
        H.queue(0, .putchar(0x6F), .reboot, ticks: 30_000)   // ran 30 ms: the rebuilt instance runs next here
        H.queue(0, .putchar(0x6B))
        H.consoleInput = Array("list x\r".utf8)
        run { Hypervisor<FakeGuestHost>.startWithGuests(p, bundle: view, bootCPU: 0) }
        let out = String(decoding: H.console, as: UTF8.self)
        XCTAssertTrue(out.hasPrefix("\r\nRumkv \(RumkvVersion.string) (fake) - Type-1 hypervisor\r\n"), out)
        XCTAssertTrue(out.contains("virtualization: fake-virt (host test)\r\n"), out)
        XCTAssertTrue(out.contains(lines(
            "guests: 3 in the boot bundle",
            "a: started",
            "error: guest 'bad' image refused: not a signed NPL image (bad magic)",
            "warning: cpu 1 did not start; its guests share the others") + "rumkv> "), out)
        XCTAssertTrue(out.hasSuffix("list x\r\nerror: 'list' takes no arguments\r\nrumkv> "), out)
        XCTAssertTrue(H.calls.contains(.startSecondary(1, hardwareID: 1)))
        XCTAssertEqual([state(0), state(1), state(2)], [.running, .refused, .stopped])
        XCTAssertEqual(m.pointee.guests[0].restarts, 1)
        XCTAssertTrue(m.pointee.cpuOnline[0])
        XCTAssertEqual(backlog(0), "o\n[rumkv: new instance]\nk")
    }

    func testAnIdleHartSleepsUntilTheNextSliceOrWakeUpAndServesInterrupts() throws {
        try boot(guest("a", "autostart = false"), harts: 1)
        H.idlesBeforePark = 1
        H.interruptPending = true
        let start = H.now
        run { Scheduler<FakeGuestHost>.runCPU(0) }
        let idles = H.calls.compactMap { if case .idle(let t) = $0 { return t }; return nil }
        XCTAssertEqual(idles, [start + 4000, start + 8000])
        XCTAssertEqual(H.calls.filter { $0 == .serviceInterrupts }.count, 1)
    }
}
