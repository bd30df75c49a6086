// ExitsTests: the core's answer to every guest call and exit, on the fake port.
//
// Addresses are checked against the guest's own RAM (wrapping lengths too),
// vCPU numbers against its vCPUs; bad values get an error answer, faults
// stop the guest with their reason recorded.

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class ExitsTests: MachineTestCase {
    let ram = RUM_GUEST_RAM_GPA
    let size: UInt64 = 4 << 20

    override func setUpWithError() throws {
        try super.setUpWithError()
        try boot(guest("a", "vcpus = 3") + guest("b"))
        create(0)
        create(1)
        H.calls = []
    }

    func host(_ gpa: UInt64, guest g: Int = 0) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(m.pointee.guests[g].ramHost + (gpa - ram)))!
    }

    func exits(_ g: Int, _ r: ExitReason) -> UInt64 { m.pointee.guests[g].exits[r.rawValue] }

    func testConsoleWriteCopiesFromGuestRAM() {
        let text = Array("hello\n".utf8)
        for (i, b) in text.enumerated() { host(ram + 0x1000 + UInt64(i))[0] = b }
        XCTAssertTrue(H.handle(.write(gpa: ram + 0x1000, length: 6), slot: 0))
        XCTAssertEqual(H.lastAnswer(0), .ok(6))
        XCTAssertEqual(backlog(0), "hello\n")
        XCTAssertEqual(exits(0, .console), 1)
        XCTAssertEqual(m.pointee.cpuExits[ExitReason.console.rawValue], 1)
        // The last byte of RAM is writable; one more is not.
        host(ram + size - 1)[0] = 0x41
        H.handle(.write(gpa: ram + size - 1, length: 1), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok(1))
        H.handle(.write(gpa: ram + size - 1, length: 2), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .invalidAddress)
    }

    func testConsoleWriteIsCappedAt4096Bytes() {
        H.handle(.write(gpa: ram, length: 10_000), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok(4096))
        XCTAssertEqual(m.pointee.consoles[0].written, 4096)
    }

    func testBadConsoleAddressesAreRefused() {
        let bad: [(UInt64, UInt64)] = [
            (0, 1),                                  // below RAM
            (ram - 1, 2),                            // straddles the start
            (RUM_GUEST_SYSTABLE_GPA, 8),             // the SysTable page is not RAM
            (ram + size, 1),                         // just past the end
            (ram, size + 1),                         // longer than RAM
            (ram + 16, UInt64.max),                  // wraps
            (UInt64.max - 3, 8),                     // gpa near the top, wraps
            (UInt64.max, 1),
            (ram + size - 8, UInt64.max - 4),
        ]
        for (gpa, length) in bad {
            H.calls = []
            XCTAssertTrue(H.handle(.write(gpa: gpa, length: length), slot: 0))
            XCTAssertEqual(H.lastAnswer(0), .invalidAddress, "write \(gpa) \(length)")
            XCTAssertTrue(H.handle(.read(gpa: gpa, length: length), slot: 0))
            XCTAssertEqual(H.lastAnswer(0), .invalidAddress, "read \(gpa) \(length)")
        }
        XCTAssertEqual(m.pointee.consoles[0].written, 0)
        XCTAssertEqual(state(0), .running, "bad arguments never stop the guest")
    }

    func testTranslateOfAStoppedGuestFails() {
        XCTAssertNil(GuestRecord().translate(GuestPhysicalAddress(ram), length: 1))
        XCTAssertEqual(m.pointee.guests[0].translate(GuestPhysicalAddress(ram), length: 0)?.value, m.pointee.guests[0].ramHost)
        XCTAssertEqual(m.pointee.guests[0].translate(GuestPhysicalAddress(ram + size), length: 0)?.value,
                       m.pointee.guests[0].ramHost + size)
        XCTAssertNil(m.pointee.guests[0].translate(GuestPhysicalAddress(ram + size), length: 1))
        XCTAssertNil(m.pointee.guests[0].translate(GuestPhysicalAddress(ram + 8), length: UInt64.max - 4), "no wrap")
    }

    func testConsoleReadAndGetcharTakeTypedInput() {
        for b in Array("xyz".utf8) { m.pointee.consoles[0].pushInput(b) }
        H.handle(.getchar, slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok(0x78), "getchar answers the byte (the port puts it where its ABI wants)")
        H.handle(.read(gpa: ram + 0x2000, length: 8), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok(2))
        XCTAssertEqual([host(ram + 0x2000)[0], host(ram + 0x2001)[0]], Array("yz".utf8))
        H.handle(.read(gpa: ram + 0x2000, length: 8), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok(0))
        H.handle(.getchar, slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .failed, "no input: -1")
        XCTAssertEqual(exits(0, .console), 4)
    }

    func testPutcharGoesToTheBacklogAndToAnAttachedConsole() {
        H.handle(.putchar(0x41), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok)
        XCTAssertEqual(backlog(0), "A")
        XCTAssertEqual(H.console, [], "detached: nothing printed")
        m.pointee.attached = 0
        H.handle(.putchar(0x0A), slot: 0)
        XCTAssertEqual(H.console, [13, 10])
        H.handle(.putchar(0x42), slot: slot(1))
        XCTAssertEqual(H.console, [13, 10], "another guest's output is not echoed")
    }

    func testSimpleCallsKeepTheVCPURunning() {
        XCTAssertTrue(H.handle(.setTimer(5000), slot: 0))
        XCTAssertEqual(exits(0, .timer), 1)
        XCTAssertTrue(H.handle(.remoteFence(mask: 1, base: 0), slot: 0))
        XCTAssertTrue(H.handle(.unsupported, slot: 0))
        XCTAssertTrue(H.handle(.answeredByPort, slot: 0))
        XCTAssertTrue(H.handle(.tick, slot: 0))
        XCTAssertEqual(H.answers(0), [.ok, .ok, .notSupported])
        XCTAssertEqual(exits(0, .hypercall), 2)
        XCTAssertEqual(exits(0, .tick), 1)
        XCTAssertEqual(exits(0, .ipi), 1)
    }

    func testYieldCompletesAndLeavesTheCPU() {
        XCTAssertFalse(H.handle(.yield, slot: 0))
        XCTAssertEqual(H.answers(0), [.ok])
        XCTAssertEqual(m.pointee.vcpus[0].state, .runnable)
    }

    func testInterruptExitServicesInterrupts() {
        XCTAssertTrue(H.handle(.interrupt, slot: 0))
        XCTAssertEqual(H.calls, [.serviceInterrupts])
        XCTAssertEqual(exits(0, .irq), 1)
    }

    func testHartStartStopStatus() {
        let s1 = slot(0, 1), s2 = slot(0, 2)
        // Status: vCPU 0 started, 1 and 2 stopped, 3 does not exist.
        H.handle(.vcpuStatus(0), slot: 0)
        H.handle(.vcpuStatus(1), slot: 0)
        H.handle(.vcpuStatus(3), slot: 0)
        H.handle(.vcpuStatus(UInt64.max), slot: 0)
        XCTAssertEqual(H.answers(0), [.ok(0), .ok(1), .invalidParam, .invalidParam])
        H.calls = []
        // Start: out-of-range vCPUs and entries outside RAM are refused, nothing changes.
        H.handle(.vcpuStart(3, entry: ram, arg: 0), slot: 0)
        H.handle(.vcpuStart(UInt64.max, entry: ram, arg: 0), slot: 0)
        H.handle(.vcpuStart(1, entry: 0x1000, arg: 0), slot: 0)
        H.handle(.vcpuStart(1, entry: ram + size - 2, arg: 0), slot: 0)
        H.handle(.vcpuStart(1, entry: UInt64.max - 1, arg: 0), slot: 0)
        XCTAssertEqual(H.answers(0), [.invalidParam, .invalidParam, .invalidAddress, .invalidAddress, .invalidAddress])
        XCTAssertEqual(m.pointee.vcpus[s1].state, .offline)
        XCTAssertTrue(H.resets(s1).isEmpty)
        // A good start resets the vCPU at entry with arg and makes it runnable.
        H.calls = []
        XCTAssertTrue(H.handle(.vcpuStart(1, entry: ram + 0x400, arg: 0xA5), slot: 0))
        XCTAssertEqual(H.answers(0), [.ok])
        XCTAssertEqual(H.resets(s1).map { [$0.entry, $0.arg, $0.vcpu] }, [[ram + 0x400, 0xA5, 1]])
        XCTAssertEqual(m.pointee.vcpus[s1].state, .runnable)
        // Starting it again, or vCPU 0, is refused: already available.
        H.handle(.vcpuStart(1, entry: ram, arg: 0), slot: 0)
        H.handle(.vcpuStart(0, entry: ram, arg: 0), slot: s1)
        XCTAssertEqual(H.lastAnswer(0), .alreadyAvailable)
        XCTAssertEqual(H.lastAnswer(s1), .alreadyAvailable)
        H.handle(.vcpuStatus(1), slot: s2)
        XCTAssertEqual(H.lastAnswer(s2), .ok(0))
        // A vCPU stopping itself goes offline and leaves the CPU without an answer.
        H.calls = []
        XCTAssertFalse(H.handle(.vcpuStop, slot: s1))
        XCTAssertEqual(H.answers(s1), [])
        XCTAssertEqual(m.pointee.vcpus[s1].state, .offline)
        XCTAssertEqual(exits(0, .ipi), 14)
        // ... and can be started again.
        H.handle(.vcpuStart(1, entry: ram, arg: 1), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok)
        // Another guest's vCPU numbers are its own: b has only vCPU 0.
        H.handle(.vcpuStatus(1), slot: slot(1))
        XCTAssertEqual(H.lastAnswer(slot(1)), .invalidParam)
        XCTAssertEqual(m.pointee.vcpus[s1].state, .runnable, "b cannot touch a's vCPU 1")
    }

    func testSendIPI() {
        let s1 = slot(0, 1), s2 = slot(0, 2)
        m.pointee.vcpus[s1].runningOn = 1      // vCPU 1 runs on hart 1: kicked there
        H.handle(.sendIPI(mask: 0b10, base: 0), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok)
        XCTAssertTrue(H.interruptRaised(s1))
        XCTAssertFalse(H.interruptRaised(s2))
        XCTAssertFalse(H.interruptRaised(0))
        XCTAssertEqual(H.kicks, [1])
        // Base shifts the mask; a mask naming a vCPU the guest does not have
        // (a has 3) is refused whole, and nobody is interrupted (SBI v2.0 7.1).
        H.calls = []
        H.handle(.sendIPI(mask: 0b1, base: 2), slot: 0)
        XCTAssertEqual(H.calls.filter { if case .inject = $0 { return true }; return false }, [.inject(slot: s2, .ipi)])
        H.calls = []
        H.handle(.sendIPI(mask: 0b11, base: 2), slot: 0)
        H.handle(.sendIPI(mask: ~0, base: 3), slot: 0)
        H.handle(.sendIPI(mask: 1, base: 1 << 40), slot: 0)
        H.handle(.sendIPI(mask: 1 << 63, base: 1), slot: 0)
        H.handle(.remoteFence(mask: 0b1000, base: 0), slot: 0)
        XCTAssertFalse(H.calls.contains { if case .inject = $0 { return true }; return false })
        XCTAssertEqual(H.answers(0), [.invalidParam, .invalidParam, .invalidParam, .invalidParam, .invalidParam])
        H.handle(.sendIPI(mask: 0, base: 7), slot: 0)
        XCTAssertEqual(H.lastAnswer(0), .ok, "an empty mask names nobody: nothing to refuse")
        // Base all-ones: every vCPU of the guest, none of b.
        H.calls = []
        H.handle(.sendIPI(mask: 0, base: UInt64.max), slot: 0)
        XCTAssertTrue([0, s1, s2].allSatisfy { H.interruptRaised($0) })
        XCTAssertFalse(H.interruptRaised(slot(1)))
    }

    func testWaitForInterrupt() {
        // Nothing pending: the vCPU waits and leaves the CPU, past the wfi.
        XCTAssertFalse(H.handle(.waitForInterrupt, slot: 0))
        XCTAssertEqual(m.pointee.vcpus[0].state, .waiting)
        XCTAssertEqual(H.calls, [.skip(slot: 0)])
        XCTAssertEqual(exits(0, .wfi), 1)
        // An interrupt already pending: it keeps running.
        m.pointee.vcpus[0].state = .runnable
        H.ipiPending[0] = true
        XCTAssertTrue(H.handle(.waitForInterrupt, slot: 0))
        XCTAssertEqual(m.pointee.vcpus[0].state, .runnable)
        // A timer already due counts too.
        H.ipiPending[0] = false
        H.timerDeadline[0] = H.now
        XCTAssertTrue(H.handle(.waitForInterrupt, slot: 0))
    }

    func testFaultsStopTheGuestWithTheirReason() {
        H.now = 77_000
        XCTAssertFalse(H.handle(.stage2Fault(gpa: 0x1000_0000, access: .execute, pc: 0x8000_0100), slot: slot(1)))
        var f = m.pointee.guests[1].lastFault
        XCTAssertEqual(state(1), .starting, "on-crash: the new instance is reserved at once")
        XCTAssertEqual([f.kind == .stage2Fault, f.valid, f.access == .execute], [true, true, true])
        XCTAssertEqual([f.pc, f.address, f.at], [0x8000_0100, 0x1000_0000, 77_000])
        XCTAssertEqual(exits(1, .stage2Fault), 1)
        // on-crash policy: a new instance is reserved.
        XCTAssertEqual(m.pointee.pending[1], .none)
        buildPending()
        XCTAssertEqual(state(1), .running)
        XCTAssertTrue(m.pointee.guests[1].lastFault.valid, "the fault stays for info")

        XCTAssertFalse(H.handle(.fatal(.misaligned, pc: 0x8000_0200, detail: 0xBAD), slot: 0))
        f = m.pointee.guests[0].lastFault
        XCTAssertEqual(f.kind, .misaligned)
        XCTAssertEqual([f.pc, f.address], [0x8000_0200, 0xBAD])
        XCTAssertEqual(exits(0, .fault), 1)
    }

    func testEmulatedAccessFailureStopsTheGuest() {
        XCTAssertTrue(H.handle(.emulatedAccess(emulated: true), slot: 0))
        XCTAssertEqual(H.calls, [.vicAccess(guest: 0, vcpu: 0, write: false), .completeMMIO(slot: 0, value: 0)])
        XCTAssertEqual(state(0), .running)
        m.pointee.vcpus[0].state = .runnable
        H.now = 9_000
        XCTAssertFalse(H.handle(.emulatedAccess(emulated: false), slot: 0))
        let f = m.pointee.guests[0].lastFault
        XCTAssertEqual(f.kind, .stage2Fault)
        XCTAssertEqual(f.access, .read, "the access as decoded")
        XCTAssertEqual(f.address, H.vicAddress.value, "where it went")
        XCTAssertEqual(f.pc, RUM_GUEST_RAM_GPA + 4, "the first, emulated access was stepped over")
        XCTAssertEqual(f.at, 9_000)
        XCTAssertEqual(exits(0, .mmio), 2)
        XCTAssertNotEqual(state(0), .running)
    }

    func testFaultKindLabels() {
        let kinds: [FaultKind] = [.illegalInstruction, .virtualInstruction, .misaligned, .accessFault, .unknown, .guestCrashReport, .stage2Fault]
        XCTAssertEqual(Set(kinds.map { "\($0.label)" }).count, kinds.count)
        XCTAssertEqual(Set((0..<ExitReason.count).map { "\(ExitReason(rawValue: $0)!.label)" }).count, ExitReason.count)
    }
}
