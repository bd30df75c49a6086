// SchedulerTests: picking vCPUs per hart and running them in slices on the fake port.
//
// The fake counter only moves when a scripted exit takes time (or the guest
// runs to its slice end), so slice boundaries are exact.

import Foundation
import RumABI
@testable import RumkvCore
import XCTest

final class SchedulerTests: MachineTestCase {
    typealias S = Scheduler<FakeGuestHost>

    /// Picks on hart `h` and puts the vCPU straight back (as if it ran and left).
    func pickAndRelease(_ h: Int) -> Int? {
        let k = m.pointee.pick(h, now: H.now)
        if let k { m.pointee.vcpus[k].runningOn = -1 }
        return k
    }

    func testSliceIs4msOfCounter() {
        XCTAssertEqual(S.sliceTicks, 4000)
    }

    func testRoundRobinOverEveryRunnableVCPU() throws {
        try boot(guest("a", "vcpus = 2") + guest("b") + guest("c"), harts: 1)
        for g in 0..<3 { create(g) }
        // a's vCPU 1 is offline until started.
        XCTAssertEqual((0..<6).map { _ in pickAndRelease(0) }, [2, 3, 0, 2, 3, 0])
        H.handle(.vcpuStart(1, entry: RUM_GUEST_RAM_GPA, arg: 0), slot: 0)
        XCTAssertEqual((0..<4).map { _ in pickAndRelease(0) }, [1, 2, 3, 0])
    }

    func testAPickedVCPUIsNotPickedByAnotherHart() throws {
        try boot(guest("a"), harts: 2)
        create(0)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 0)
        XCTAssertEqual(m.pointee.vcpus[0].runningOn, 0)
        XCTAssertNil(m.pointee.pick(1, now: H.now))
    }

    func testNothingToPickWithoutGuests() throws {
        try boot(guest("a"), harts: 1)
        XCTAssertNil(m.pointee.pick(0, now: H.now), "a stopped guest is not picked")
        m.pointee.vcpuCount = 0
        XCTAssertNil(m.pointee.pick(0, now: H.now))
    }

    func testPausedGuestsAndPendingActionsAreSkipped() throws {
        try boot(guest("a") + guest("b"), harts: 1)
        create(0); create(1)
        m.pointee.guests[0].state = .paused
        XCTAssertEqual((0..<3).map { _ in pickAndRelease(0) }, [1, 1, 1])
        m.pointee.guests[0].state = .running
        m.pointee.pending[1] = .stop
        XCTAssertEqual((0..<2).map { _ in pickAndRelease(0) }, [0, 0])
    }

    func testHartMasks() throws {
        try boot(guest("a", "harts = [1]") + guest("b", "harts = [0, 2]") + guest("c"), harts: 3)
        XCTAssertEqual((0..<3).map { m.pointee.vcpus[$0].cpuMask }, [0b010, 0b101, 0b111])
        for g in 0..<3 { create(g) }
        XCTAssertEqual(Set((0..<4).compactMap { _ in pickAndRelease(0) }), [1, 2])
        XCTAssertEqual(Set((0..<4).compactMap { _ in pickAndRelease(1) }), [0, 2])
        XCTAssertEqual(Set((0..<4).compactMap { _ in pickAndRelease(2) }), [1, 2])
    }

    func testPinnedGuestsOwnTheirHarts() throws {
        // The tool refuses an unpinned guest without `harts` next to a pinned one; the core
        // still keeps such a guest (any hart, hart_mask all ones) off the pinned hart.
        try boot(guest("p", "pinned = true\nharts = [1]") + guest("q", "harts = [0]") + guest("r", "vcpus = 2\nharts = [0]"),
                 harts: 2, patch: { FakeMachine.setHartMask(&$0, guest: 1, .max); FakeMachine.setHartMask(&$0, guest: 2, .max) })
        XCTAssertEqual(m.pointee.pinnedCPUs, 0b10)
        XCTAssertEqual((0..<4).map { m.pointee.vcpus[$0].cpuMask }, [0b10, 0b01, 0b01, 0b01],
                       "unpinned guests stay off the pinned hart")
        for g in 0..<3 { create(g) }
        XCTAssertEqual((0..<3).map { _ in pickAndRelease(1) }, [0, 0, 0], "hart 1 runs only p")
        XCTAssertFalse((0..<6).contains { _ in pickAndRelease(0) == 0 })
    }

    func testWaitingVCPUWakesOnInterruptOrTimer() throws {
        try boot(guest("a") + guest("b"), harts: 1)
        create(0); create(1)
        H.handle(.setTimer(50_000), slot: 0)
        XCTAssertFalse(H.handle(.waitForInterrupt, slot: 0))
        XCTAssertFalse(H.handle(.waitForInterrupt, slot: 1))
        XCTAssertEqual(m.pointee.nextWake(0), 50_000, "b has no timer: a's deadline is the earliest")
        XCTAssertNil(m.pointee.pick(0, now: H.now))
        XCTAssertEqual(m.pointee.pick(0, now: 50_000), 0, "a's timer is due")
        XCTAssertEqual(m.pointee.vcpus[0].state, .runnable)
        m.pointee.vcpus[0].runningOn = -1
        // An interrupt for b (say a device's) wakes it.
        XCTAssertEqual(m.pointee.nextWake(0), UInt64.max, "b waits without a timer")
        m.pointee.lastPicked[0] = 1
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 0)
        m.pointee.vcpus[0].runningOn = -1
        H.raiseInterrupt(slot: 1)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 1)
        XCTAssertEqual(m.pointee.vcpus[1].state, .runnable)
    }

    func testNextWakeOnlyCountsVCPUsTheHartMayRun() throws {
        try boot(guest("a", "harts = [1]") + guest("b", "harts = [0]"), harts: 2)
        create(0); create(1)
        H.handle(.setTimer(9_000), slot: 0)
        H.handle(.waitForInterrupt, slot: 0)
        H.handle(.setTimer(12_000), slot: 1)
        H.handle(.waitForInterrupt, slot: 1)
        XCTAssertEqual(m.pointee.nextWake(0), 12_000)
        XCTAssertEqual(m.pointee.nextWake(1), 9_000)
    }

    func testRunSliceReentersUntilTheSliceEnds() throws {
        try boot(guest("a"), harts: 1)
        create(0)
        let start = H.now
        H.queue(0, .putchar(0x61), .putchar(0x62), .answeredByPort, ticks: 1500)
        H.queue(0, .putchar(0x63), .putchar(0x64), ticks: 10)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 0)
        S.runSlice(0, cpu: 0, until: start + S.sliceTicks)
        // Three exits of 1500 ticks pass the 4000-tick slice end: the vCPU leaves after the third.
        XCTAssertEqual(backlog(0), "ab")
        XCTAssertEqual(H.script[0]?.count, 2, "the rest waits for the next slice")
        XCTAssertEqual(m.pointee.vcpus[0].runningOn, -1)
        XCTAssertEqual(m.pointee.vcpus[0].state, .runnable)
        // The next slice: two quick exits, then the guest runs to the slice end (a tick).
        let second = H.now
        _ = m.pointee.pick(0, now: H.now)
        S.runSlice(0, cpu: 0, until: second + S.sliceTicks)
        XCTAssertEqual(backlog(0), "abcd")
        XCTAssertEqual(H.now, second + S.sliceTicks)
        XCTAssertEqual(m.pointee.guests[0].exits[ExitReason.tick.rawValue], 1)
        XCTAssertEqual(m.pointee.guests[0].exits[ExitReason.console.rawValue], 4)
    }

    func testRunSliceStopsWhenTheVCPUBlocksOrTheGuestStops() throws {
        try boot(guest("a", "restart = \"never\"") + guest("b"), harts: 1)
        create(0); create(1)
        H.queue(0, .putchar(0x31), .yield, .putchar(0x32))
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(backlog(0), "1", "yield ends the slice")
        XCTAssertEqual(H.script[0]?.count, 1)
        H.script[0] = []
        H.queue(0, .waitForInterrupt)
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(m.pointee.vcpus[0].state, .waiting)
        XCTAssertEqual(backlog(0), "1")
        // Paused from the console while it runs: it leaves at its next exit.
        H.queue(1, .putchar(0x41), .putchar(0x42))
        m.pointee.guests[1].state = .paused
        S.runSlice(1, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(backlog(1), "A")
        // A fault ends the slice and settles the guest (never: it stays crashed, its memory freed).
        m.pointee.vcpus[0].state = .runnable
        H.queue(0, .fatal(.illegalInstruction, pc: 0x8000_0040, detail: 0x13))
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(state(0), .crashed)
        XCTAssertEqual(m.pointee.guests[0].ramHost, 0)
        XCTAssertEqual(m.pointee.vcpus[0].runningOn, -1)
    }

    func testRunSliceOfAGuestWithoutStage2ReturnsAtOnce() throws {
        try boot(guest("a"), harts: 1)
        m.pointee.vcpus[0].runningOn = 0
        H.queue(0, .putchar(0x41))
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(m.pointee.vcpus[0].runningOn, -1)
        XCTAssertEqual(H.script[0]?.count, 1, "never entered")
    }

    func testARebootInTheSliceIsBuiltByTheHartsLoop() throws {
        try boot(guest("a"), harts: 1)
        create(0)
        H.now += 50_000
        H.queue(0, .reboot)
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(state(0), .starting)
        XCTAssertEqual(m.pointee.claimBuild(0), 0)
        S.build(0, cpu: 0)
        XCTAssertEqual(state(0), .running)
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 0, "blink: it runs next on this hart")
    }

    func testHart0ServesTheConsoleBetweenExits() throws {
        try boot(guest("a"), harts: 2)
        create(0)
        m.pointee.attached = 0
        H.consoleInput = Array("hi".utf8)
        H.queue(0, .putchar(0x41), .putchar(0x42))
        S.runSlice(0, cpu: 1, until: H.now + S.sliceTicks)
        XCTAssertEqual(H.consoleInput.count, 2, "hart 1 does not poll")
        S.runSlice(0, cpu: 0, until: H.now + 1)   // one exit passes the slice end: no poll after it
        XCTAssertEqual(H.consoleInput.count, 2)
        H.queue(0, .putchar(0x43), .putchar(0x44))
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(H.consoleInput, [])
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 0x68)
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 0x69)
    }
}

extension SchedulerTests {
    /// A command typed while hart 0 runs a guest's slice may wait for that
    /// guest's vCPUs to leave (restart, stop, pause): the line end is kept, the
    /// slice ends, and the scheduler loop's poll runs the command with the vCPU
    /// already off the CPU, so it settles at once instead of timing out.
    func testACommandLineEndsHart0sSliceBeforeItRuns() throws {
        try boot(guest("a"), harts: 1)
        create(0)
        H.console = []
        H.consoleInput = Array("restart a\r".utf8)
        H.queue(0, .putchar(0x41), .putchar(0x42), .putchar(0x43))
        XCTAssertEqual(m.pointee.pick(0, now: H.now), 0)
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(m.pointee.vcpus[0].runningOn, -1, "the slice ended for the command")
        XCTAssertEqual(H.script[0]?.count, 2, "after the first exit")
        XCTAssertEqual(H.consoleInput, [])
        XCTAssertFalse(String(decoding: H.console, as: UTF8.self).contains("restarted"), "not run inside the slice")
        ConsoleService<FakeGuestHost>.poll()
        let out = String(decoding: H.console, as: UTF8.self)
        XCTAssertTrue(out.contains("a: restarted"), out)
        XCTAssertEqual(m.pointee.guests[0].restarts, 1)
        XCTAssertEqual(m.pointee.heldLineEnd, 0)
    }

    /// Attached to a guest, a line end is guest input and does not end the slice.
    func testAttachedInputDoesNotEndTheSlice() throws {
        try boot(guest("a"), harts: 1)
        create(0)
        m.pointee.attached = 0
        H.consoleInput = Array("x\r".utf8)
        H.queue(0, .putchar(0x41), .putchar(0x42), ticks: 10)
        _ = m.pointee.pick(0, now: H.now)
        S.runSlice(0, cpu: 0, until: H.now + S.sliceTicks)
        XCTAssertEqual(H.script[0]?.count ?? 0, 0, "both exits ran in the slice")
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 0x78)
        XCTAssertEqual(m.pointee.consoles[0].popInput(), 13)
        XCTAssertEqual(m.pointee.heldLineEnd, 0)
    }
}
